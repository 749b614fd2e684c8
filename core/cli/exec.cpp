// mcore exec: Docker's flags -> the container's spec with the exec's choices -> exec_in_container.
#include "cli/container_views.hpp"
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/api/containers.hpp"
#include "mcore/error.hpp"
#include "mcore/unique_fd.hpp"

namespace mcore::cli {
namespace po = boost::program_options;

namespace {

po::options_description exec_options() {
  po::options_description options("Options");
  // clang-format off
  options.add_options()
    ("detach,d", po::bool_switch(), "run the command in the background, its stdio on /dev/null (no -i, no -t)")
    ("interactive,i", po::bool_switch(), "keep stdin open")
    ("tty,t", po::bool_switch(), "allocate a pseudo-terminal")
    ("env,e", po::value<std::vector<std::string>>()->composing(), "set an environment variable (KEY=VALUE or KEY)")
    ("env-file", po::value<std::vector<std::string>>()->composing(), "read environment variables from a file")
    ("workdir,w", po::value<std::string>(), "working directory inside the container (default: the container's)")
    ("user,u", po::value<std::string>(), "user[:group] (names or ids) to run as (default: the container's)")
    ("privileged", po::bool_switch(), "give the command every capability");
  // clang-format on
  return options;
}

std::vector<std::string> list(const po::variables_map& options, const char* name) {
  return options.count(name) ? options[name].as<std::vector<std::string>>() : std::vector<std::string>{};
}

VerbError refusal(const std::string& message, const std::string& hint) {
  return VerbError(Error(message, 0, hint), kExitRefused);
}

struct RunningContainer {
  engine::ContainerRecord record;
  UniqueFd init_pidfd;
};

// The container `reference` names, which must be running (Docker refuses anything else with exit 1),
// and its init's pidfd.
RunningContainer running_container(CliContext& context, const std::string& reference) {
  engine::ContainerRecord record = observed_container(context, reference);
  const std::string not_running = "container " + reference + " is not running";
  const std::string start_hint = "start it first: mcore start " + reference;
  switch (record.state) {
    case engine::ContainerState::running:
      break;
    case engine::ContainerState::paused:
      throw refusal("container " + reference + " is paused", "unpause it first: mcore unpause " + reference);
    case engine::ContainerState::restarting:
      throw refusal("container " + reference + " is restarting", "wait until it is running again");
    default:
      throw refusal(not_running, start_hint);
  }
  try {
    UniqueFd init_pidfd = engine::open_init_pidfd(context.engine().config(), record);
    return {std::move(record), std::move(init_pidfd)};
  } catch (const Error&) {
    throw refusal(not_running, start_hint);  // it exited since we looked
  }
}

// The container's own settings, with what the exec's flags change.
engine::ContainerSpec exec_spec(const engine::ContainerSpec& container, const po::variables_map& options,
                                std::vector<std::string> command) {
  engine::ContainerSpec spec = container;
  spec.args = std::move(command);
  spec.detach = options["detach"].as<bool>();
  spec.tty = options["tty"].as<bool>() && !spec.detach;
  spec.interactive = options["interactive"].as<bool>() && !spec.detach;
  if (options.count("user")) {
    auto user = engine::parse_user(options["user"].as<std::string>());
    spec.user = user.user;
    spec.group = user.group;
  }
  if (options.count("workdir")) {
    const auto& workdir = options["workdir"].as<std::string>();
    if (workdir.empty() || workdir.front() != '/') {
      throw Error("--workdir \"" + workdir + "\" is not absolute", 0, "give a path from the container's root");
    }
    spec.working_dir = workdir;
  }
  // The container's environment first: --env-file and then -e override it.
  std::vector<std::string> env = container.env;
  for (const auto& file : list(options, "env-file")) {
    auto entries = engine::read_env_file(file);
    env.insert(env.end(), entries.begin(), entries.end());
  }
  auto flags = engine::parse_env(list(options, "env"));
  env.insert(env.end(), flags.begin(), flags.end());
  spec.env = engine::finish_environment(std::move(env), container.hostname, spec.tty);
  // As Docker: every capability, but the container's seccomp filter and no_new_privs stay.
  if (options["privileged"].as<bool>()) spec.capabilities = engine::resolve_capabilities(true, {}, {}, engine::held_capabilities());
  return spec;
}

}  // namespace

int exec_main(CliContext& context, const std::vector<std::string>& args) {
  auto parsed = parse_verb("exec", "[OPTIONS] CONTAINER COMMAND [ARG...]", "Execute a command in a running container",
                           exec_options(), args);
  if (!parsed) return 0;
  auto& positionals = parsed->positionals;
  if (positionals.size() < 2) {
    throw refusal("\"mcore exec\" requires at least 2 arguments", "usage: mcore exec [OPTIONS] CONTAINER COMMAND [ARG...]");
  }
  context.engine_joining_containers();  // first, so that the verb's later engine() calls find it made
  RunningContainer container = running_container(context, positionals.front());
  engine::ContainerSpec process =
      exec_spec(container.record.spec, parsed->options, {positionals.begin() + 1, positionals.end()});
  auto outcome = engine::exec_in_container(context.engine(), container.record, process, container.init_pidfd.get());
  if (outcome.failure) report_error(*outcome.failure);
  return outcome.exit_code;
}

}  // namespace mcore::cli
