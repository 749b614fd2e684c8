// mcore wait CONTAINER...: prints each container's exit code once it has stopped.
#include <iostream>

#include "cli/container_args.hpp"
#include "cli/verb_options.hpp"
#include "engine/api/containers.hpp"

namespace mcore::cli {

int wait_main(CliContext& context, const std::vector<std::string>& args) {
  auto parsed = parse_verb("wait", "CONTAINER...", "Block until one or more containers stop, then print their exit codes",
                           boost::program_options::options_description("Options"), args);
  if (!parsed) return 0;
  require_containers("wait", parsed->positionals);
  return for_each_container(
      context, parsed->positionals,
      [&](const std::string& id) { std::cout << engine::wait_container(context.engine(), id) << std::endl; }, false);
}

}  // namespace mcore::cli
