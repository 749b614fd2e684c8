// mcore rm [-f] [-v] CONTAINER...  |  mcore rm --all [-f]
#include "cli/container_args.hpp"
#include "cli/verb_options.hpp"
#include "engine/api/containers.hpp"

namespace mcore::cli {

int rm_main(CliContext& context, const std::vector<std::string>& args) {
  namespace po = boost::program_options;
  po::options_description options("Options");
  options.add_options()
      ("force,f", po::bool_switch(), "kill and remove a running container")
      ("volumes,v", po::bool_switch(), "remove the container's anonymous volumes (named ones stay, as in Docker)")
      ("all,a", po::bool_switch(), "remove every container (running ones only with -f)");
  auto parsed = parse_verb("rm", "[OPTIONS] CONTAINER...", "Remove one or more containers", options, args);
  if (!parsed) return 0;
  const bool force = parsed->options["force"].as<bool>();
  const bool volumes = parsed->options["volumes"].as<bool>();
  std::vector<std::string> references = parsed->positionals;
  if (parsed->options["all"].as<bool>()) {
    if (!references.empty()) throw VerbError(Error("mcore rm --all takes no container names"), kExitRefused);
    // Records that cannot be read too: `rm --all -f` is a way out for them.
    references = engine::ContainerStore(context.engine().config().data_root).list().ids();
    if (references.empty()) return 0;
  }
  require_containers("rm", references);
  return for_each_container(context, references,
                            [&](const std::string& id) { engine::remove_container(context.engine(), id, force, volumes); });
}

}  // namespace mcore::cli
