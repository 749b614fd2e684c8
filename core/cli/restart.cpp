// mcore restart [-t N] CONTAINER...
#include "cli/container_args.hpp"
#include "cli/verb_options.hpp"
#include "engine/api/containers.hpp"

namespace mcore::cli {

int restart_main(CliContext& context, const std::vector<std::string>& args) {
  namespace po = boost::program_options;
  po::options_description options("Options");
  options.add_options()("time,t", po::value<int>(), "seconds to wait before killing (default: the container's, 10)");
  auto parsed = parse_verb("restart", "[OPTIONS] CONTAINER...", "Restart one or more containers", options, args);
  if (!parsed) return 0;
  require_containers("restart", parsed->positionals);
  std::optional<int> timeout;
  if (parsed->options.count("time")) timeout = parsed->options["time"].as<int>();
  return for_each_container(context, parsed->positionals, [&](const std::string& id) {
    engine::stop_container(context.engine(), id, timeout);
    auto report = engine::start_container(context.engine(), id);
    if (report.failure) throw VerbError(*report.failure, report.exit_code);
  });
}

}  // namespace mcore::cli
