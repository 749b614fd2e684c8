// mcore down [-f FILE] [-v]: removes a deployment's containers and networks, and with -v its volumes.
#include "cli/deployment_file_option.hpp"
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/api/deployments.hpp"

namespace mcore::cli {
namespace po = boost::program_options;

int down_main(CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  add_file_option(options);
  options.add_options()("volumes,v", po::bool_switch(), "also remove the deployment's named volumes");
  auto parsed = parse_verb("down", "[OPTIONS]", verb_summary("down"), options, args);
  if (!parsed) return 0;
  expect_no_arguments("down", *parsed);
  const engine::Deployment deployment = engine::load_deployment(deployment_file(parsed->options));
  engine::deployment_down(context.engine(), deployment, parsed->options["volumes"].as<bool>(),
                          print_deployment_progress);
  return 0;
}

}  // namespace mcore::cli
