// mcore run: Docker's flags -> a ContainerRequest -> create, launch and attach through the engine API.
#include <sys/socket.h>
#include <unistd.h>

#include <iostream>

#include "cli/pull_progress.hpp"
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/api/containers.hpp"
#include "engine/api/images.hpp"
#include "engine/api/volumes.hpp"
#include "mcore/error.hpp"

namespace mcore::cli {
namespace po = boost::program_options;

namespace {

po::options_description run_options() {
  po::options_description options("Options");
  // clang-format off
  options.add_options()
    ("rootfs", po::value<std::string>(), "run from this root filesystem directory instead of an image")
    ("pull", po::value<std::string>()->default_value("missing"), "pull the image: missing, always or never")
    ("platform", po::value<std::string>(), "os/arch[/variant] to pull for")
    ("entrypoint", po::value<std::string>(), "override the image's entrypoint (\"\" clears it)")
    ("name", po::value<std::string>(), "assign a name to the container")
    ("rm", po::bool_switch(), "remove the container when it exits")
    ("detach,d", po::bool_switch(), "run in the background and print the container ID")
    ("restart", po::value<std::string>()->default_value("no"), "restart policy: no, on-failure[:N], always, unless-stopped")
    ("log-driver", po::value<std::string>(), "logging driver (json-file)")
    ("log-opt", po::value<std::vector<std::string>>()->composing(), "log option: max-size=SIZE, max-file=N")
    ("stop-signal", po::value<std::string>(), "signal that stops the container (default SIGTERM)")
    ("stop-timeout", po::value<int>(), "seconds to wait for the stop signal before SIGKILL (default 10)")
    ("interactive,i", po::bool_switch(), "keep stdin open")
    ("tty,t", po::bool_switch(), "allocate a pseudo-terminal")
    ("env,e", po::value<std::vector<std::string>>()->composing(), "set an environment variable (KEY=VALUE or KEY)")
    ("env-file", po::value<std::vector<std::string>>()->composing(), "read environment variables from a file")
    ("workdir,w", po::value<std::string>(), "working directory inside the container")
    ("user,u", po::value<std::string>(), "user[:group] (names or ids) to run the command as")
    ("hostname", po::value<std::string>(), "container host name (default: the short container ID)")
    ("volume,v", po::value<std::vector<std::string>>()->composing(), "bind mount /host:/container[:ro]")
    ("tmpfs", po::value<std::vector<std::string>>()->composing(), "mount a tmpfs: /path[:options]")
    ("read-only", po::bool_switch(), "mount the container's root filesystem read-only")
    ("network,net", po::value<std::string>(), "network: bridge, a user network, none or host (default: the config's default_network, bridge)")
    ("publish,p", po::value<std::vector<std::string>>()->composing(), "publish a port: [IP:][HOST_PORT:]CONTAINER_PORT[/tcp|/udp]")
    ("publish-all,P", po::bool_switch(), "publish the image's exposed ports on free host ports")
    ("dns", po::value<std::vector<std::string>>()->composing(), "DNS server for the container")
    ("dns-search", po::value<std::vector<std::string>>()->composing(), "DNS search domain")
    ("dns-option", po::value<std::vector<std::string>>()->composing(), "DNS resolver option")
    ("add-host", po::value<std::vector<std::string>>()->composing(), "add a line to /etc/hosts: NAME:IP")
    ("network-alias", po::value<std::vector<std::string>>()->composing(), "another name containers on its network resolve it by")
    ("label,l", po::value<std::vector<std::string>>()->composing(), "set a label: KEY=VALUE")
    ("cap-add", po::value<std::vector<std::string>>()->composing(), "add a Linux capability")
    ("cap-drop", po::value<std::vector<std::string>>()->composing(), "drop a Linux capability")
    ("privileged", po::bool_switch(), "give the container every capability, no seccomp, no masked paths")
    ("security-opt", po::value<std::vector<std::string>>()->composing(), "no-new-privileges, seccomp=unconfined|FILE")
    ("userns", po::value<std::string>(), "user namespace: host, or auto (65536 ids of its own from /etc/subuid); default: the config's userns")
    ("uidmap", po::value<std::vector<std::string>>()->composing(), "map container uids to host uids in a user namespace of its own: CTR:HOST:N")
    ("gidmap", po::value<std::vector<std::string>>()->composing(), "map container gids to host gids: CTR:HOST:N (default: as --uidmap)")
    ("memory,m", po::value<std::string>(), "memory limit (e.g. 512m)")
    ("memory-swap", po::value<std::string>(), "memory plus swap limit; -1 for unlimited swap")
    ("cpus", po::value<std::string>(), "number of CPUs (e.g. 1.5)")
    ("cpu-shares,c", po::value<std::uint64_t>(), "relative CPU weight (default 1024)")
    ("cpuset-cpus", po::value<std::string>(), "CPUs the container may use (0-3, 0,1)")
    ("cpuset-mems", po::value<std::string>(), "memory nodes the container may use")
    ("pids-limit", po::value<std::int64_t>(), "maximum number of processes (-1 unlimited)");
  // clang-format on
  return options;
}

template <class T>
std::vector<T> list(const po::variables_map& options, const char* name) {
  return options.count(name) ? options[name].as<std::vector<T>>() : std::vector<T>{};
}

std::optional<std::string> text(const po::variables_map& options, const char* name) {
  if (!options.count(name)) return std::nullopt;
  return options[name].as<std::string>();
}

// The resource limits, read before any pull so that a bad value fails at once.
ResourceLimits resource_limits(const po::variables_map& options) {
  ResourceLimits limits;
  if (auto memory = text(options, "memory")) limits.memory_bytes = engine::parse_size("--memory", *memory);
  if (auto swap = text(options, "memory-swap")) {
    limits.memory_swap_bytes = *swap == "-1" ? -1 : engine::parse_size("--memory-swap", *swap);
  }
  if (auto cpus = text(options, "cpus")) {
    limits.nano_cpus = engine::parse_cpus(*cpus, static_cast<unsigned>(::sysconf(_SC_NPROCESSORS_ONLN)));
  }
  if (options.count("cpu-shares")) limits.cpu_shares = options["cpu-shares"].as<std::uint64_t>();
  limits.cpuset_cpus = text(options, "cpuset-cpus");
  limits.cpuset_mems = text(options, "cpuset-mems");
  if (options.count("pids-limit")) limits.pids_limit = options["pids-limit"].as<std::int64_t>();
  return limits;
}

// Docker's flags as a request; each value is checked here, before any pull.
engine::ContainerRequest request_from(const po::variables_map& options, std::vector<std::string> positionals) {
  engine::ContainerRequest request;
  request.limits = resource_limits(options);
  request.pull = engine::parse_pull_policy(options["pull"].as<std::string>());
  if (auto platform = text(options, "platform")) request.platform = parse_platform(*platform);
  if (auto rootfs = text(options, "rootfs")) {
    request.rootfs = *rootfs;
  } else if (!positionals.empty()) {
    request.image = positionals.front();
    positionals.erase(positionals.begin());
  }
  request.command = std::move(positionals);
  request.entrypoint = text(options, "entrypoint");
  request.name = text(options, "name");
  request.hostname = text(options, "hostname");
  if (auto user = text(options, "user")) request.user = engine::parse_user(*user);
  request.working_dir = text(options, "workdir");
  for (const auto& file : list<std::string>(options, "env-file")) {
    auto entries = engine::read_env_file(file);
    request.env.insert(request.env.end(), entries.begin(), entries.end());
  }
  auto flags = engine::parse_env(list<std::string>(options, "env"));
  request.env.insert(request.env.end(), flags.begin(), flags.end());
  for (const auto& label : list<std::string>(options, "label")) {
    const auto equals = label.find('=');
    if (equals == 0) throw Error("invalid --label \"" + label + "\"", 0, "use KEY=VALUE");
    request.labels[label.substr(0, equals)] = equals == std::string::npos ? "" : label.substr(equals + 1);
  }
  request.tty = options["tty"].as<bool>();
  request.interactive = options["interactive"].as<bool>();
  request.detach = options["detach"].as<bool>();
  request.remove_on_exit = options["rm"].as<bool>();
  request.restart = engine::parse_restart_policy(options["restart"].as<std::string>());
  if (auto driver = text(options, "log-driver")) engine::check_log_driver(*driver);
  request.log_options = list<std::string>(options, "log-opt");
  if (auto signal = text(options, "stop-signal")) request.stop_signal = engine::parse_signal(*signal);
  if (options.count("stop-timeout")) request.stop_timeout = options["stop-timeout"].as<int>();
  for (const auto& volume : list<std::string>(options, "volume")) request.volumes.push_back(engine::parse_volume(volume));
  for (const auto& tmpfs : list<std::string>(options, "tmpfs")) request.tmpfs.push_back(engine::parse_tmpfs(tmpfs));
  request.read_only_rootfs = options["read-only"].as<bool>();
  request.network = text(options, "network");
  for (const auto& value : list<std::string>(options, "publish")) request.ports.push_back(engine::parse_publish(value));
  request.publish_all = options["publish-all"].as<bool>();
  request.dns = list<std::string>(options, "dns");
  request.dns_search = list<std::string>(options, "dns-search");
  request.dns_options = list<std::string>(options, "dns-option");
  request.extra_hosts = list<std::string>(options, "add-host");
  request.network_aliases = list<std::string>(options, "network-alias");
  request.privileged = options["privileged"].as<bool>();
  request.cap_add = list<std::string>(options, "cap-add");
  request.cap_drop = list<std::string>(options, "cap-drop");
  request.security = engine::parse_security_options(list<std::string>(options, "security-opt"));
  request.userns = text(options, "userns");
  request.uid_maps = list<std::string>(options, "uidmap");
  request.gid_maps = list<std::string>(options, "gidmap");
  return request;
}

// The container `run`'s arguments describe, created (record, volumes) but not started. Pull progress
// goes to stderr, so that the container's output stays clean.
engine::ContainerSpec create_from(engine::Engine& engine, const ParsedVerb& parsed) {
  PullProgress progress(&std::cerr, STDERR_FILENO);
  return engine::create_container(engine, request_from(parsed.options, parsed.positionals), &progress);
}

}  // namespace

int run_main(CliContext& context, const std::vector<std::string>& args) {
  auto parsed = parse_verb("run", "[OPTIONS] IMAGE [COMMAND] [ARG...]  or  [OPTIONS] --rootfs DIR COMMAND [ARG...]",
                           "Run a command in a new container", run_options(), args);
  if (!parsed) return 0;
  auto& engine = context.engine();
  const engine::ContainerSpec spec = create_from(engine, *parsed);

  // Blocked from before the launch, so that no signal meant for the container is lost.
  std::optional<engine::ForwardedSignals> signals;
  int ends[2] = {-1, -1};
  if (!spec.detach) {
    signals.emplace();
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0) {
      throw Error::from_errno("create the attach socket");
    }
  }
  UniqueFd ours(ends[0]);
  UniqueFd theirs(ends[1]);
  // This process records the exit itself when it can (no restart policy): it has the engine loaded.
  engine::LaunchReport report = engine::launch_container(engine, spec.id, {.fd = theirs.get(), .takes_exit = true});
  theirs.reset();
  if (report.failure) {
    if (spec.remove_on_exit) engine::remove_container(engine, spec.id, true, true);
    report_error(*report.failure);
    return report.exit_code;
  }
  if (spec.detach) {
    std::cout << spec.id << std::endl;
    return 0;
  }
  std::optional<engine::RawTerminal> raw;
  if (spec.tty && spec.interactive) raw.emplace(STDIN_FILENO);
  auto outcome = engine::relay_attached(
      ours.get(), *signals, {.forward_stdin = spec.interactive, .tty = spec.tty, .init_pidfd = report.init_pidfd.get()});
  return engine::finish_attached(engine, spec.id, std::move(outcome));
}

}  // namespace mcore::cli
