// mcore prune [-f]: stopped containers and what crashes left behind (engine/container/container_prune.hpp).
#include <iostream>

#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/api/containers.hpp"

namespace mcore::cli {

int container_prune_main(CliContext& context, const std::vector<std::string>& args) {
  namespace po = boost::program_options;
  po::options_description options("Options");
  options.add_options()("force,f", po::bool_switch(), "do not ask (mcore never asks; accepted for Docker's scripts)");
  auto parsed = parse_verb("prune", "[OPTIONS]", "Remove stopped containers and what crashes left behind", options, args);
  if (!parsed) return 0;
  expect_no_arguments("prune", *parsed);
  auto report = engine::prune_containers(context.engine());
  std::cout << "Deleted Containers:\n";
  for (const auto& id : report.removed_containers) std::cout << id << '\n';
  for (const auto& line : report.stale) std::cout << "Cleaned up: " << line << '\n';
  std::cout << std::flush;
  for (const auto& line : report.kept) std::cerr << "mcore: kept " << line << '\n';
  return 0;
}

}  // namespace mcore::cli
