#include "engine/container/container_request.hpp"

#include <unistd.h>

#include <algorithm>
#include <climits>

#include "engine/container/container_control.hpp"
#include "engine/container/container_spec_json.hpp"
#include "engine/container/container_user_namespace.hpp"
#include "engine/image/image_config.hpp"
#include "engine/logs/container_log.hpp"
#include "engine/start/container_etc_files.hpp"
#include "engine/util/file_util.hpp"
#include "engine/util/signal_names.hpp"
#include "engine/volume/volume_control.hpp"
#include "engine/volume/volume_store.hpp"
#include "mcore/error.hpp"
#include "mcore/fd_io.hpp"

namespace mcore::engine {

PullPolicy parse_pull_policy(const std::string& text) {
  if (text == "missing") return PullPolicy::missing;
  if (text == "always") return PullPolicy::always;
  if (text == "never") return PullPolicy::never;
  throw Error("invalid --pull \"" + text + "\"", 0, "use missing, always or never");
}

namespace {

// The root filesystem directory of a --rootfs run, checked.
std::filesystem::path checked_rootfs(const std::filesystem::path& rootfs) {
  std::error_code error;
  if (!std::filesystem::is_directory(rootfs, error)) {
    throw Error("rootfs " + rootfs.string() + " is not a directory", error ? error.value() : ENOENT,
                "pass an existing root filesystem directory to --rootfs");
  }
  if (::access(rootfs.c_str(), R_OK | X_OK) != 0) {
    throw Error::from_errno("rootfs " + rootfs.string() + " is not readable", "check its permissions");
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

// The request's image, pulled first when its policy says so. `image_hold` keeps garbage collection
// from freeing the image until the container's record lists its layers.
ImageDefaults use_image(Engine& engine, const ContainerRequest& request, PullSink* sink, ContainerSpec& spec,
                        std::optional<FileLock>& image_hold) {
  ImageStore store(engine.config().data_root);
  image_hold.emplace(store.hold_for_writing());
  // An id or id prefix names a local image; anything else is a reference.
  std::optional<ImageRecord> image = store.find(request.image);
  std::optional<ImageReference> reference;
  if (!image) {
    refuse_archive_as_image(request.image);
    reference = parse_image_reference(request.image);
    image = store.find(to_string(*reference));
  }
  if (request.pull == PullPolicy::always || (!image && request.pull == PullPolicy::missing)) {
    if (!reference) reference = parse_image_reference(request.image);
    image = pull_image(engine, *reference, request.platform.value_or(host_platform()), sink, !image);
  }
  if (!image) {
    throw Error("image " + request.image + " is not in the local store", 0, "pull it first, or use --pull=missing");
  }
  spec.image = request.image;
  spec.image_id = image->id;
  spec.image_layers = image->layers;
  return read_image_defaults(nlohmann::json::parse(store.read_blob(image->id)));
}

bool network_exists(Engine& engine, const std::string& name) {
  const auto networks = engine.network()->list_networks();
  return std::ranges::any_of(networks, [&](const NetworkInfo& network) { return network.name == name; });
}

// The network and what depends on it: published ports, DNS and /etc/hosts additions.
void resolve_network(Engine& engine, const ContainerRequest& request, const ImageDefaults& image,
                     ContainerSpec& spec) {
  const std::string network = request.network.value_or(engine.config().default_network);
  if (network.empty()) throw Error("--network is empty", 0, "use bridge, a network's name, none or host");
  if (network == "none") {
    spec.network = NetworkMode::none;
  } else if (network == "host") {
    spec.network = NetworkMode::host;
  } else {
    spec.network = NetworkMode::network;
    spec.network_name = network;
    // Refused before any container exists, as Docker does.
    if (!network_exists(engine, network)) {
      throw Error("network " + network + " not found", 0,
                  "create it with `mcore network create " + network + "`, or see `mcore network ls`");
    }
  }
  spec.ports = request.ports;
  if (request.publish_all) {
    for (const auto& exposed : image.exposed_ports) spec.ports.push_back(parse_exposed_port(exposed));
  }
  if (!spec.ports.empty() && spec.network != NetworkMode::network) {
    throw Error("ports cannot be published with --network " + network, 0,
                network == "host" ? "with the host's network the container's ports are the host's already; drop -p"
                                  : "join a network (--network bridge) to publish ports");
  }
  spec.dns = request.dns;
  for (const auto& server : spec.dns) check_dns_server(server);
  spec.dns_search = request.dns_search;
  spec.dns_options = request.dns_options;
  // Checked now; written when the container starts (host-gateway is the network's gateway then).
  spec.network_aliases = request.network_aliases;
  for (const auto& alias : spec.network_aliases) validate_hostname(alias);
  spec.extra_hosts = request.extra_hosts;
  for (const auto& value : spec.extra_hosts) {
    parse_add_host(value, spec.network == NetworkMode::network ? "0.0.0.0" : "");
  }
  // Docker: a container on the host's network has the host's name (unless --hostname), others their id.
  if (spec.network == NetworkMode::host && !request.hostname) {
    char host[HOST_NAME_MAX + 1] = {};
    if (::gethostname(host, sizeof host - 1) == 0) spec.hostname = host;
  }
}

ContainerSpec resolve(Engine& engine, const ContainerRequest& request, PullSink* sink,
                      std::optional<FileLock>& image_hold) {
  ContainerSpec spec;
  spec.limits = request.limits;
  ImageDefaults image;
  if (request.rootfs) {
    spec.rootfs = checked_rootfs(*request.rootfs);
    if (request.command.empty()) throw Error("no command given", 0, "add the command to run after the options");
  } else {
    if (request.image.empty()) {
      throw Error("mcore run needs an image or --rootfs DIR", 0, "e.g. mcore run alpine sh, or mcore run --rootfs DIR sh");
    }
    image = use_image(engine, request, sink, spec, image_hold);
  }
  spec.args = container_command(image, request.entrypoint, request.command);
  spec.id = new_container_id();
  if (request.name) {
    validate_container_name(*request.name);
    spec.name = *request.name;
  } else {
    spec.name = generate_container_name() + "_" + spec.id.substr(0, 6);
  }
  spec.hostname = spec.id.substr(0, 12);
  if (request.hostname) {
    validate_hostname(*request.hostname);
    spec.hostname = *request.hostname;
  }
  spec.tty = request.tty;
  spec.interactive = request.interactive;
  spec.remove_on_exit = request.remove_on_exit;
  spec.detach = request.detach;
  spec.restart = request.restart;
  if (spec.remove_on_exit && spec.restart.kind != RestartPolicy::Kind::no) {
    throw Error("conflicting options: --restart and --rm", 0, "a container removed on exit cannot be restarted");
  }
  spec.log = parse_log_options(with_log_defaults(engine.config().log_opts, request.log_options));
  if (request.stop_signal) {
    spec.stop_signal = *request.stop_signal;
  } else if (image.stop_signal) {
    spec.stop_signal = parse_signal(*image.stop_signal);
  }
  if (request.stop_timeout) spec.stop_timeout = *request.stop_timeout;
  spec.read_only_rootfs = request.read_only_rootfs;
  spec.labels = request.labels;
  spec.privileged = request.privileged;
  if (request.user) {
    spec.user = request.user->user;
    spec.group = request.user->group;
  } else if (!image.user.empty()) {
    const UserSpec user = parse_user(image.user);
    spec.user = user.user;
    spec.group = user.group;
  }
  if (request.working_dir) {
    if (request.working_dir->empty() || request.working_dir->front() != '/') {
      throw Error("--workdir \"" + *request.working_dir + "\" is not absolute", 0, "give a path from the container's root");
    }
    spec.working_dir = *request.working_dir;
  } else if (!image.working_dir.empty()) {
    spec.working_dir = image.working_dir;
  }
  resolve_network(engine, request, image, spec);
  // The image's Env first: the request's entries override it.
  std::vector<std::string> env = image.env;
  env.insert(env.end(), request.env.begin(), request.env.end());
  spec.env = finish_environment(std::move(env), spec.hostname, spec.tty);
  spec.volumes = request.volumes;
  spec.tmpfs = request.tmpfs;
  spec.capabilities = resolve_capabilities(spec.privileged, request.cap_add, request.cap_drop, held_capabilities());
  spec.no_new_privileges = request.security.no_new_privileges;
  spec.seccomp = request.security.seccomp;
  spec.seccomp_file = request.security.seccomp_file;
  return spec;
}

nlohmann::json tmpfs_to_json(const std::vector<TmpfsSpec>& mounts) {
  auto json = nlohmann::json::array();
  for (const auto& tmpfs : mounts) {
    json.push_back({{"container_path", tmpfs.container_path}, {"flags", tmpfs.flags}, {"data", tmpfs.data}});
  }
  return json;
}

template <class T>
nlohmann::json optional_json(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json();
}

}  // namespace

ContainerSpec create_container(Engine& engine, const ContainerRequest& request, PullSink* sink) {
  std::optional<FileLock> image_hold;
  ContainerSpec spec = resolve(engine, request, sink, image_hold);
  // --userns=auto: the record is the ledger of ranges, so the range is chosen and the record written
  // under one lock, and `rm` frees it.
  std::optional<FileLock> id_ranges;
  const bool choose_ids = resolve_user_namespace(request, engine.config().userns, spec);
  if (engine.rootless()) {
    place_in_rootless_namespace(choose_ids, spec);
  } else if (choose_ids) {
    const ContainerStore store(engine.config().data_root);
    id_ranges.emplace(store.lock_id_ranges());
    allocate_auto_id_maps(store, engine.config().userns_user, read_file_if_exists("/etc/subuid").value_or(""),
                          read_file_if_exists("/etc/subgid").value_or(""), spec);
  }
  // Held until the record names the volumes: `volume rm` and prune cannot take them meanwhile.
  std::optional<FileLock> volume_hold;
  if (!spec.volumes.empty()) volume_hold.emplace(VolumeStore(engine.config().data_root).lock(FileLock::Mode::shared));
  create_container_volumes(engine, spec);
  try {
    create_container(engine, spec);
  } catch (...) {
    volume_hold.reset();
    remove_anonymous_volumes(engine, ContainerStore(engine.config().data_root), spec);
    throw;
  }
  return spec;  // the record now keeps the image's layers from collection: image_hold may go
}

nlohmann::json request_to_json(const ContainerRequest& request) {
  nlohmann::json platform;
  if (request.platform) {
    platform = {{"os", request.platform->os},
                {"architecture", request.platform->architecture},
                {"variant", request.platform->variant}};
  }
  nlohmann::json user;
  if (request.user) user = {{"user", request.user->user}, {"group", optional_json(request.user->group)}};
  return {{"image", request.image},
          {"rootfs", request.rootfs ? nlohmann::json(request.rootfs->string()) : nlohmann::json()},
          {"pull", static_cast<int>(request.pull)},
          {"platform", platform},
          {"entrypoint", optional_json(request.entrypoint)},
          {"command", request.command},
          {"name", optional_json(request.name)},
          {"hostname", optional_json(request.hostname)},
          {"user", user},
          {"working_dir", optional_json(request.working_dir)},
          {"env", request.env},
          {"labels", request.labels},
          {"tty", request.tty},
          {"interactive", request.interactive},
          {"detach", request.detach},
          {"remove_on_exit", request.remove_on_exit},
          {"restart", to_string(request.restart)},
          {"log_options", request.log_options},
          {"stop_signal", optional_json(request.stop_signal)},
          {"stop_timeout", optional_json(request.stop_timeout)},
          {"volumes", volumes_to_json(request.volumes)},
          {"tmpfs", tmpfs_to_json(request.tmpfs)},
          {"read_only_rootfs", request.read_only_rootfs},
          {"network", optional_json(request.network)},
          {"ports", ports_to_json(request.ports)},
          {"publish_all", request.publish_all},
          {"dns", request.dns},
          {"dns_search", request.dns_search},
          {"dns_options", request.dns_options},
          {"extra_hosts", request.extra_hosts},
          {"network_aliases", request.network_aliases},
          {"privileged", request.privileged},
          {"cap_add", request.cap_add},
          {"cap_drop", request.cap_drop},
          {"no_new_privileges", request.security.no_new_privileges},
          {"seccomp", static_cast<int>(request.security.seccomp)},
          {"seccomp_file", request.security.seccomp_file.string()},
          {"userns", optional_json(request.userns)},
          {"uid_maps", request.uid_maps},
          {"gid_maps", request.gid_maps},
          {"limits", limits_to_json(request.limits)}};
}

}  // namespace mcore::engine
