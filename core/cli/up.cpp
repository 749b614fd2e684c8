// mcore up [-f FILE] [-d]: a deployment's networks, volumes and services, dependencies first, through
// the engine's deployment_up (engine/deploy/deployment_up.hpp says what stays and what is recreated).
#include <unistd.h>

#include <iostream>

#include "cli/deployment_file_option.hpp"
#include "cli/pull_progress.hpp"
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/api/deployments.hpp"

namespace mcore::cli {
namespace po = boost::program_options;

int up_main(CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  add_file_option(options);
  options.add_options()("detach,d", po::bool_switch(), "return once every service is up (what mcore up always does)");
  auto parsed = parse_verb("up", "[OPTIONS]", verb_summary("up"), options, args);
  if (!parsed) return 0;
  expect_no_arguments("up", *parsed);
  const engine::Deployment deployment = engine::load_deployment(deployment_file(parsed->options));
  PullProgress pulls(&std::cerr, STDERR_FILENO);
  engine::deployment_up(context.engine(), deployment, &pulls, print_deployment_progress);
  return 0;
}

}  // namespace mcore::cli
