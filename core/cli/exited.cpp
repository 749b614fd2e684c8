// mcore __exited --lock-fd N ID: not for users. The container's supervisor execs it when the command
// exited (engine/container_exit.hpp).
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/container_exit.hpp"

namespace mcore::cli {

int exited_main(CliContext& context, const std::vector<std::string>& args) {
  namespace po = boost::program_options;
  po::options_description options("Options");
  // clang-format off
  options.add_options()
    ("lock-fd", po::value<int>(), "the supervisor's liveness lock")
    ("exit-code", po::value<int>(), "the command's exit code, Docker-style")
    ("finished-at", po::value<std::string>(), "when it exited (RFC 3339)")
    ("log-failures", po::value<std::uint64_t>()->default_value(0), "log entries the supervisor could not write")
    ("stop-requested", po::bool_switch(), "the exit was asked for: no restart");
  // clang-format on
  auto parsed = parse_verb("__exited", "--lock-fd N --exit-code N --finished-at T ID", "Record a container's exit (run by its supervisor)", options, args);
  if (!parsed) return 0;
  const auto& values = parsed->options;
  if (parsed->positionals.size() != 1 || !values.count("lock-fd") || !values.count("exit-code") ||
      !values.count("finished-at")) {
    throw Error("mcore __exited is run by a container's supervisor, not by hand");
  }
  const engine::ExitFacts facts{values["exit-code"].as<int>(), values["finished-at"].as<std::string>(),
                                values["log-failures"].as<std::uint64_t>(), values["stop-requested"].as<bool>()};
  engine::handle_container_exit(context.engine(), parsed->positionals.front(), values["lock-fd"].as<int>(), facts);
  return 0;
}

}  // namespace mcore::cli
