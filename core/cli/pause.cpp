// mcore pause CONTAINER... and mcore unpause CONTAINER...: the resource driver's freezer.
#include "cli/container_args.hpp"
#include "cli/verb_options.hpp"
#include "engine/api/containers.hpp"

namespace mcore::cli {
namespace {

int freeze_verb(CliContext& context, const std::vector<std::string>& args, const std::string& verb,
                const std::string& summary, void (*action)(engine::Engine&, const std::string&)) {
  auto parsed = parse_verb(verb, "CONTAINER...", summary, boost::program_options::options_description("Options"), args);
  if (!parsed) return 0;
  require_containers(verb, parsed->positionals);
  return for_each_container(context, parsed->positionals, [&](const std::string& id) { action(context.engine(), id); });
}

}  // namespace

int pause_main(CliContext& context, const std::vector<std::string>& args) {
  return freeze_verb(context, args, "pause", "Pause all processes within one or more containers", engine::pause_container);
}

int unpause_main(CliContext& context, const std::vector<std::string>& args) {
  return freeze_verb(context, args, "unpause", "Unpause all processes within one or more containers",
                     engine::unpause_container);
}

}  // namespace mcore::cli
