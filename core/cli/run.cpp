// mcore run: Docker's flags -> a ContainerSpec -> the container runner.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "cli/pull_progress.hpp"
#include "cli/run_options.hpp"
#include "cli/signal_names.hpp"
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/container/container_control.hpp"
#include "engine/start/container_etc_files.hpp"
#include "engine/io/io_relay.hpp"
#include "engine/logs/container_log.hpp"
#include "engine/container/container_spec_json.hpp"
#include "engine/container/container_store.hpp"
#include "engine/image/image_config.hpp"
#include "engine/volume/volume_control.hpp"
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

// The root filesystem directory given with --rootfs, checked.
std::filesystem::path checked_rootfs(const std::string& rootfs) {
  std::error_code error;
  if (!std::filesystem::is_directory(rootfs, error)) {
    throw Error("rootfs " + rootfs + " is not a directory", error ? error.value() : ENOENT,
                "pass an existing root filesystem directory to --rootfs");
  }
  if (::access(rootfs.c_str(), R_OK | X_OK) != 0) {
    throw Error::from_errno("rootfs " + rootfs + " is not readable", "check its permissions");
  }
  return std::filesystem::canonical(rootfs);
}

// `mcore run busybox.tar`: an archive becomes an image through load or import, never through a pull.
void refuse_archive_as_image(const std::string& name) {
  static constexpr std::string_view kArchiveSuffixes[] = {".tar", ".tar.gz", ".tgz", ".tar.xz", ".tar.zst", ".tar.bz2"};
  bool archive = std::ranges::any_of(kArchiveSuffixes, [&](std::string_view suffix) { return name.ends_with(suffix); });
  std::error_code error;
  if (!archive && (name.starts_with('/') || name.starts_with('.'))) archive = std::filesystem::is_regular_file(name, error);
  if (archive) {
    throw Error(name + " is a file, not an image", 0,
                "load an image saved by 'save' with 'mcore load -i " + name +
                    "', or make an image of a root filesystem archive with 'mcore import " + name + " NAME'");
  }
}

// The image named on the command line, pulled first when the --pull policy says so. `image_hold` keeps
// garbage collection from freeing the image until the container's record lists its layers.
engine::ImageDefaults use_image(engine::Engine& engine, const po::variables_map& options, const std::string& name,
                                engine::ContainerSpec& spec, std::optional<engine::FileLock>& image_hold) {
  const std::string policy = options["pull"].as<std::string>();
  if (policy != "missing" && policy != "always" && policy != "never") {
    throw Error("invalid --pull \"" + policy + "\"", 0, "use missing, always or never");
  }
  engine::ImageStore store(engine.config().data_root);
  image_hold.emplace(store.hold_for_writing());
  std::optional<engine::ImageRecord> image;
  std::optional<ImageReference> reference;
  // An id or id prefix names a local image; anything else is a reference.
  image = store.find(name);
  if (!image) {
    refuse_archive_as_image(name);
    reference = parse_image_reference(name);
    image = store.find(to_string(*reference));
  }
  if (policy == "always" || (!image && policy == "missing")) {
    if (!reference) reference = parse_image_reference(name);
    if (!image) std::cerr << "Unable to find image '" << familiar_name(*reference) << "' locally" << std::endl;
    Platform platform = options.count("platform") ? parse_platform(options["platform"].as<std::string>())
                                                  : engine::host_platform();
    image = pull_with_progress(engine, *reference, platform, &std::cerr, STDERR_FILENO);
  }
  if (!image) {
    throw Error("image " + name + " is not in the local store", 0, "pull it first, or use --pull=missing");
  }
  spec.image = name;
  spec.image_id = image->id;
  spec.image_layers = image->layers;
  return engine::read_image_defaults(nlohmann::json::parse(store.read_blob(image->id)));
}

// The resource limits, read before any pull so that a bad value fails at once.
ResourceLimits resource_limits(const po::variables_map& options) {
  ResourceLimits limits;
  if (auto memory = text(options, "memory")) limits.memory_bytes = parse_size("--memory", *memory);
  if (auto swap = text(options, "memory-swap")) {
    limits.memory_swap_bytes = *swap == "-1" ? -1 : parse_size("--memory-swap", *swap);
  }
  if (auto cpus = text(options, "cpus")) {
    limits.nano_cpus = parse_cpus(*cpus, static_cast<unsigned>(::sysconf(_SC_NPROCESSORS_ONLN)));
  }
  if (options.count("cpu-shares")) limits.cpu_shares = options["cpu-shares"].as<std::uint64_t>();
  limits.cpuset_cpus = text(options, "cpuset-cpus");
  limits.cpuset_mems = text(options, "cpuset-mems");
  if (options.count("pids-limit")) limits.pids_limit = options["pids-limit"].as<std::int64_t>();
  return limits;
}

// --network and what depends on it: published ports, DNS and /etc/hosts additions.
void set_network_options(engine::Engine& engine, const po::variables_map& options, const engine::ImageDefaults& image,
                         engine::ContainerSpec& spec) {
  const std::string network = text(options, "network").value_or(engine.config().default_network);
  if (network.empty()) throw Error("--network is empty", 0, "use bridge, a network's name, none or host");
  if (network == "none") {
    spec.network = engine::NetworkMode::none;
  } else if (network == "host") {
    spec.network = engine::NetworkMode::host;
  } else {
    spec.network = engine::NetworkMode::network;
    spec.network_name = network;
    // Refused before any container exists, as Docker does.
    if (!network_names(engine).count(network)) {
      throw Error("network " + network + " not found", 0,
                  "create it with `mcore network create " + network + "`, or see `mcore network ls`");
    }
  }
  for (const auto& value : list<std::string>(options, "publish")) spec.ports.push_back(parse_publish(value));
  if (options["publish-all"].as<bool>()) {
    for (const auto& exposed : image.exposed_ports) spec.ports.push_back(parse_exposed_port(exposed));
  }
  if (!spec.ports.empty() && spec.network != engine::NetworkMode::network) {
    throw Error("ports cannot be published with --network " + network, 0,
                network == "host" ? "with the host's network the container's ports are the host's already; drop -p"
                                  : "join a network (--network bridge) to publish ports");
  }
  spec.dns = list<std::string>(options, "dns");
  for (const auto& server : spec.dns) engine::check_dns_server(server);
  spec.dns_search = list<std::string>(options, "dns-search");
  spec.dns_options = list<std::string>(options, "dns-option");
  // Checked now; written when the container starts (host-gateway is the network's gateway then).
  spec.network_aliases = list<std::string>(options, "network-alias");
  for (const auto& alias : spec.network_aliases) validate_hostname(alias);
  spec.extra_hosts = list<std::string>(options, "add-host");
  for (const auto& value : spec.extra_hosts) {
    engine::parse_add_host(value, spec.network == engine::NetworkMode::network ? "0.0.0.0" : "");
  }
}

engine::ContainerSpec build_spec(engine::Engine& engine, const po::variables_map& options,
                                 std::vector<std::string> positionals, std::optional<engine::FileLock>& image_hold) {
  engine::ContainerSpec spec;
  spec.limits = resource_limits(options);
  engine::ImageDefaults image;
  if (auto rootfs = text(options, "rootfs")) {
    spec.rootfs = checked_rootfs(*rootfs);
    if (positionals.empty()) throw Error("no command given", 0, "add the command to run after the options");
  } else {
    if (positionals.empty()) {
      throw Error("mcore run needs an image or --rootfs DIR", 0, "e.g. mcore run alpine sh, or mcore run --rootfs DIR sh");
    }
    image = use_image(engine, options, positionals.front(), spec, image_hold);
    positionals.erase(positionals.begin());
  }
  spec.args = engine::container_command(image, text(options, "entrypoint"), positionals);
  spec.id = engine::new_container_id();
  if (auto name = text(options, "name")) {
    validate_container_name(*name);
    spec.name = *name;
  } else {
    spec.name = engine::generate_container_name() + "_" + spec.id.substr(0, 6);
  }
  spec.hostname = spec.id.substr(0, 12);
  if (auto hostname = text(options, "hostname")) {
    validate_hostname(*hostname);
    spec.hostname = *hostname;
  }
  spec.tty = options["tty"].as<bool>();
  spec.interactive = options["interactive"].as<bool>();
  spec.remove_on_exit = options["rm"].as<bool>();
  spec.detach = options["detach"].as<bool>();
  spec.restart = engine::parse_restart_policy(options["restart"].as<std::string>());
  if (spec.remove_on_exit && spec.restart.kind != engine::RestartPolicy::Kind::no) {
    throw Error("conflicting options: --restart and --rm", 0, "a container removed on exit cannot be restarted");
  }
  if (auto driver = text(options, "log-driver")) engine::check_log_driver(*driver);
  spec.log = engine::parse_log_options(
      engine::with_log_defaults(engine.config().log_opts, list<std::string>(options, "log-opt")));
  if (auto signal = text(options, "stop-signal")) {
    spec.stop_signal = parse_signal(*signal);
  } else if (image.stop_signal) {
    spec.stop_signal = parse_signal(*image.stop_signal);
  }
  if (options.count("stop-timeout")) spec.stop_timeout = options["stop-timeout"].as<int>();
  spec.read_only_rootfs = options["read-only"].as<bool>();
  for (const auto& label : list<std::string>(options, "label")) {
    const auto equals = label.find('=');
    if (equals == 0) throw Error("invalid --label \"" + label + "\"", 0, "use KEY=VALUE");
    spec.labels[label.substr(0, equals)] = equals == std::string::npos ? "" : label.substr(equals + 1);
  }
  spec.privileged = options["privileged"].as<bool>();

  auto user = text(options, "user");
  if (!user && !image.user.empty()) user = image.user;
  if (user) {
    auto parsed = parse_user(*user);
    spec.user = parsed.user;
    spec.group = parsed.group;
  }
  if (auto workdir = text(options, "workdir")) {
    if (workdir->empty() || workdir->front() != '/') {
      throw Error("--workdir \"" + *workdir + "\" is not absolute", 0, "give a path from the container's root");
    }
    spec.working_dir = *workdir;
  } else if (!image.working_dir.empty()) {
    spec.working_dir = image.working_dir;
  }
  // Image Env first: --env-file and -e override it.
  std::vector<std::string> env = image.env;
  for (const auto& file : list<std::string>(options, "env-file")) {
    auto entries = read_env_file(file);
    env.insert(env.end(), entries.begin(), entries.end());
  }
  auto flags = parse_env(list<std::string>(options, "env"));
  env.insert(env.end(), flags.begin(), flags.end());
  spec.env = finish_environment(std::move(env), spec.hostname, spec.tty);

  for (const auto& volume : list<std::string>(options, "volume")) spec.volumes.push_back(parse_volume(volume));
  for (const auto& tmpfs : list<std::string>(options, "tmpfs")) spec.tmpfs.push_back(parse_tmpfs(tmpfs));

  set_network_options(engine, options, image, spec);
  // Docker: a container on the host's network has the host's name (unless --hostname), others their id.
  if (spec.network == engine::NetworkMode::host && !options.count("hostname")) {
    char host[HOST_NAME_MAX + 1] = {};
    if (::gethostname(host, sizeof host - 1) == 0) spec.hostname = host;
  }

  spec.capabilities = engine::resolve_capabilities(spec.privileged, list<std::string>(options, "cap-add"),
                                                   list<std::string>(options, "cap-drop"),
                                                   engine::held_capabilities());
  auto security = parse_security_options(list<std::string>(options, "security-opt"));
  spec.no_new_privileges = security.no_new_privileges;
  spec.seccomp = security.seccomp;
  spec.seccomp_file = security.seccomp_file;

  return spec;
}

// The container `run`'s arguments describe, created (record, volumes) but not started.
engine::ContainerSpec create_from(engine::Engine& engine, const ParsedVerb& parsed) {
  std::optional<engine::FileLock> image_hold;
  engine::ContainerSpec spec = build_spec(engine, parsed.options, parsed.positionals, image_hold);
  {
    // Held until the record names the volumes: `volume rm` and prune cannot take them meanwhile.
    std::optional<engine::FileLock> volume_hold;
    if (!spec.volumes.empty()) {
      volume_hold.emplace(engine::VolumeStore(engine.config().data_root).lock(engine::FileLock::Mode::shared));
    }
    engine::create_container_volumes(engine, spec);
    try {
      engine::create_container(engine, spec);
    } catch (...) {
      volume_hold.reset();
      engine::remove_anonymous_volumes(engine, engine::ContainerStore(engine.config().data_root), spec);
      throw;
    }
  }
  return spec;  // the record now keeps the image's layers from collection: image_hold may go
}

}  // namespace

std::string run_detached(CliContext& context, const std::vector<std::string>& args) {
  std::vector<std::string> detached{"-d"};
  detached.insert(detached.end(), args.begin(), args.end());
  const ParsedVerb parsed = parse_options("mcore run", run_options(), detached);
  auto& engine = context.engine();
  const engine::ContainerSpec spec = create_from(engine, parsed);
  engine::LaunchReport report = engine::launch_container(engine, spec.id);
  if (report.failure) {
    if (spec.remove_on_exit) engine::remove_container(engine, spec.id, true, true);
    throw VerbError(*report.failure, report.exit_code);
  }
  return spec.id;
}

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
