// mcore start [-a] [-i] CONTAINER...
#include <sys/socket.h>
#include <unistd.h>

#include "cli/container_args.hpp"
#include "cli/verb_options.hpp"
#include "engine/api/containers.hpp"

namespace mcore::cli {

int start_main(CliContext& context, const std::vector<std::string>& args) {
  namespace po = boost::program_options;
  po::options_description options("Options");
  options.add_options()
      ("attach,a", po::bool_switch(), "attach to the container's output and wait for it")
      ("interactive,i", po::bool_switch(), "attach stdin as well");
  auto parsed = parse_verb("start", "[OPTIONS] CONTAINER...", "Start one or more stopped containers", options, args);
  if (!parsed) return 0;
  require_containers("start", parsed->positionals);
  auto& engine = context.engine();
  const bool attach = parsed->options["attach"].as<bool>() || parsed->options["interactive"].as<bool>();
  if (!attach) {
    return for_each_container(context, parsed->positionals, [&](const std::string& id) {
      auto report = engine::start_container(engine, id);
      if (report.failure) throw VerbError(*report.failure, report.exit_code);
    });
  }
  if (parsed->positionals.size() != 1) {
    throw VerbError(Error("mcore start -a takes exactly one container"), kExitRefused);
  }
  const std::string id = container_id_of(context, parsed->positionals.front());
  engine::ForwardedSignals signals;
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0) {
    throw Error::from_errno("create the attach socket");
  }
  UniqueFd ours(ends[0]);
  UniqueFd theirs(ends[1]);
  auto report = engine::start_container(engine, id, theirs.get());
  theirs.reset();
  if (report.failure) throw VerbError(*report.failure, report.exit_code);
  if (!report.init_pidfd) {
    throw VerbError(Error("container " + parsed->positionals.front() + " is already running"), kExitRefused);
  }
  auto record = engine::ContainerStore(engine.config().data_root).load(id);
  const bool tty = record && record->spec.tty;
  std::optional<engine::RawTerminal> raw;
  if (tty && parsed->options["interactive"].as<bool>()) raw.emplace(STDIN_FILENO);
  auto outcome = engine::relay_attached(
      ours.get(), signals,
      {.forward_stdin = parsed->options["interactive"].as<bool>(), .tty = tty, .init_pidfd = report.init_pidfd.get()});
  return engine::finish_attached(engine, id, std::move(outcome));
}

}  // namespace mcore::cli
