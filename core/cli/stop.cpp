// mcore stop [-t N] CONTAINER...
#include "cli/container_args.hpp"
#include "cli/verb_options.hpp"
#include "engine/api/containers.hpp"

namespace mcore::cli {

int stop_main(CliContext& context, const std::vector<std::string>& args) {
  namespace po = boost::program_options;
  po::options_description options("Options");
  options.add_options()("time,t", po::value<int>(), "seconds to wait before killing (default: the container's, 10)");
  auto parsed = parse_verb("stop", "[OPTIONS] CONTAINER...", "Stop one or more running containers", options, args);
  if (!parsed) return 0;
  require_containers("stop", parsed->positionals);
  std::optional<int> timeout;
  if (parsed->options.count("time")) timeout = parsed->options["time"].as<int>();
  // As Docker: stopping a container that is not running is not an error.
  return for_each_container(context, parsed->positionals,
                            [&](const std::string& id) { engine::stop_container(context.engine(), id, timeout); });
}

}  // namespace mcore::cli
