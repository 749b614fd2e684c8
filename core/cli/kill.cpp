// mcore kill [-s SIGNAL] CONTAINER...
#include "cli/container_args.hpp"
#include "cli/verb_options.hpp"
#include "engine/api/containers.hpp"

namespace mcore::cli {

int kill_main(CliContext& context, const std::vector<std::string>& args) {
  namespace po = boost::program_options;
  po::options_description options("Options");
  options.add_options()("signal,s", po::value<std::string>()->default_value("KILL"), "signal to send");
  auto parsed = parse_verb("kill", "[OPTIONS] CONTAINER...", "Kill one or more running containers", options, args);
  if (!parsed) return 0;
  require_containers("kill", parsed->positionals);
  const int signal = engine::parse_signal(parsed->options["signal"].as<std::string>());
  return for_each_container(context, parsed->positionals,
                            [&](const std::string& id) { engine::kill_container(context.engine(), id, signal); });
}

}  // namespace mcore::cli
