// mcore __exited --lock-fd N ID: not for users. The container's supervisor execs it when the command
// exited (engine/container_exit.hpp).
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/container_exit.hpp"

namespace mcore::cli {

int exited_main(CliContext& context, const std::vector<std::string>& args) {
  namespace po = boost::program_options;
  po::options_description options("Options");
  options.add_options()("lock-fd", po::value<int>()->required(), "the supervisor's liveness lock");
  auto parsed = parse_verb("__exited", "--lock-fd N ID", "Record a container's exit (run by its supervisor)", options, args);
  if (!parsed) return 0;
  if (parsed->positionals.size() != 1 || !parsed->options.count("lock-fd")) {
    throw Error("mcore __exited is run by a container's supervisor, not by hand");
  }
  engine::handle_container_exit(context.engine(), parsed->positionals.front(), parsed->options["lock-fd"].as<int>());
  return 0;
}

}  // namespace mcore::cli
