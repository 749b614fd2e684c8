#include "engine/container/container_inspect.hpp"

#include <sys/mount.h>

#include <cstring>

namespace mcore::engine {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kZeroTime = "0001-01-01T00:00:00Z";

std::string time_or_zero(const std::string& time) { return time.empty() ? kZeroTime : time; }

// Docker writes null, not [], for a list nobody set.
template <class List>
Json list_or_null(const List& list) {
  return list.empty() ? Json(nullptr) : Json(list);
}

template <class T>
Json optional_or_null(const std::optional<T>& value) {
  return value ? Json(*value) : Json(nullptr);
}

// "SIGTERM" for 15; the number itself when the C library has no name for it.
std::string signal_name(int signal) {
  const char* abbreviation = ::sigabbrev_np(signal);
  return abbreviation != nullptr ? std::string("SIG") + abbreviation : std::to_string(signal);
}

// The options of a --tmpfs mount, as mount(8) would spell them: "rw,noexec,nosuid,nodev,size=64m".
std::string tmpfs_options(const TmpfsSpec& tmpfs) {
  std::string options = tmpfs.flags & MS_RDONLY ? "ro" : "rw";
  for (auto [flag, name] :
       {std::pair{MS_NOEXEC, "noexec"}, std::pair{MS_NOSUID, "nosuid"}, std::pair{MS_NODEV, "nodev"},
        std::pair{MS_NOATIME, "noatime"}, std::pair{MS_SYNCHRONOUS, "sync"}}) {
    if (tmpfs.flags & flag) options += std::string(",") + name;
  }
  if (!tmpfs.data.empty()) options += "," + tmpfs.data;
  return options;
}

std::string restart_policy_name(RestartPolicy::Kind kind) {
  switch (kind) {
    case RestartPolicy::Kind::no: return "no";
    case RestartPolicy::Kind::on_failure: return "on-failure";
    case RestartPolicy::Kind::always: return "always";
    case RestartPolicy::Kind::unless_stopped: return "unless-stopped";
  }
  return "no";
}

Json state_of(const ContainerRecord& record) {
  const bool paused = record.state == ContainerState::paused;
  const bool restarting = record.state == ContainerState::restarting;
  // Docker's Running stays true while the container is paused or restarting.
  const bool running = record.state == ContainerState::running || paused || restarting;
  return {{"Status", to_string(record.state)},
          {"Running", running},
          {"Paused", paused},
          {"Restarting", restarting},
          {"OOMKilled", record.oom_killed},
          {"Dead", record.state == ContainerState::dead},
          {"Pid", running ? record.pid : 0},
          {"ExitCode", record.exit_code},
          {"Error", record.error},
          {"StartedAt", time_or_zero(record.started_at)},
          {"FinishedAt", time_or_zero(record.finished_at)}};
}

std::string network_mode(const ContainerSpec& spec) {
  switch (spec.network) {
    case NetworkMode::none: return "none";
    case NetworkMode::host: return "host";
    case NetworkMode::network: return spec.network_name;
  }
  return "none";
}

// Docker's {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}; host port "" when one is chosen.
Json port_bindings(const std::vector<PortMapping>& ports) {
  Json bindings = Json::object();
  for (const auto& port : ports) {
    const std::string key = std::to_string(port.container_port) + "/" + port.protocol;
    if (!bindings.contains(key)) bindings[key] = Json::array();
    bindings[key].push_back({{"HostIp", port.host_ip.empty() ? "0.0.0.0" : port.host_ip},
                             {"HostPort", port.host_port ? std::to_string(port.host_port) : ""}});
  }
  return bindings;
}

// Docker's NetworkSettings: the running container's address, gateway and published ports, and its
// network by name; empty values when it is not attached.
Json network_settings_of(const ContainerRecord& record) {
  const auto& endpoint = record.endpoint;
  const std::string address = endpoint ? endpoint->address.substr(0, endpoint->address.find('/')) : "";
  const int prefix = endpoint && endpoint->address.find('/') != std::string::npos
                         ? std::stoi(endpoint->address.substr(endpoint->address.find('/') + 1))
                         : 0;
  Json networks = Json::object();
  if (record.spec.network == NetworkMode::network) {
    networks[record.spec.network_name] = {{"IPAddress", address},
                                          {"IPPrefixLen", prefix},
                                          {"Gateway", endpoint ? endpoint->gateway : ""},
                                          {"MacAddress", endpoint ? endpoint->mac_address : ""}};
  } else {
    networks[network_mode(record.spec)] = Json::object();
  }
  return {{"IPAddress", address},
          {"IPPrefixLen", prefix},
          {"Gateway", endpoint ? endpoint->gateway : ""},
          {"MacAddress", endpoint ? endpoint->mac_address : ""},
          {"Ports", endpoint ? port_bindings(endpoint->ports) : Json::object()},
          {"Networks", networks}};
}

// The options -v took: "ro", "idmap", "ro,idmap" or "".
std::string volume_options(const VolumeSpec& volume) {
  std::string options = volume.read_only ? "ro" : "";
  if (volume.idmap) options += options.empty() ? "idmap" : ",idmap";
  return options;
}

Json host_config_of(const ContainerSpec& spec) {
  std::vector<std::string> binds;
  for (const auto& volume : spec.volumes) {
    // Docker lists a named volume by its name.
    const std::string options = volume_options(volume);
    binds.push_back((volume.volume.empty() ? volume.host_path.string() : volume.volume) + ":" +
                    volume.container_path + (options.empty() ? "" : ":" + options));
  }
  Json tmpfs = Json::object();
  for (const auto& mount : spec.tmpfs) tmpfs[mount.container_path] = tmpfs_options(mount);
  std::vector<std::string> security;
  if (spec.no_new_privileges) security.push_back("no-new-privileges");
  if (spec.seccomp == SeccompMode::unconfined) security.push_back("seccomp=unconfined");
  if (spec.seccomp == SeccompMode::file) security.push_back("seccomp=" + spec.seccomp_file.string());
  Json log_config = Json::object();
  if (spec.log.max_size > 0) {
    log_config["max-size"] = std::to_string(spec.log.max_size);
    log_config["max-file"] = std::to_string(spec.log.max_files);
  }
  const auto& limits = spec.limits;
  Json host_config = {
      {"Binds", list_or_null(binds)},
      {"LogConfig", {{"Type", "json-file"}, {"Config", log_config}}},
      {"NetworkMode", network_mode(spec)},
      {"PortBindings", port_bindings(spec.ports)},
      {"Dns", spec.dns},
      {"DnsSearch", spec.dns_search},
      {"DnsOptions", spec.dns_options},
      {"ExtraHosts", list_or_null(spec.extra_hosts)},
      {"RestartPolicy",
       {{"Name", restart_policy_name(spec.restart.kind)}, {"MaximumRetryCount", spec.restart.max_retries}}},
      {"AutoRemove", spec.remove_on_exit},
      {"Capabilities", capability_names(spec.capabilities)},
      {"Privileged", spec.privileged},
      {"ReadonlyRootfs", spec.read_only_rootfs},
      {"SecurityOpt", list_or_null(security)},
      {"Tmpfs", tmpfs.empty() ? Json(nullptr) : tmpfs},
      {"CpuShares", limits.cpu_shares.value_or(0)},
      {"Memory", limits.memory_bytes.value_or(0)},
      {"NanoCpus", limits.nano_cpus.value_or(0)},
      {"CpusetCpus", limits.cpuset_cpus.value_or("")},
      {"CpusetMems", limits.cpuset_mems.value_or("")},
      {"MemorySwap", limits.memory_swap_bytes.value_or(0)},
      {"PidsLimit", optional_or_null(limits.pids_limit)},
      {"UsernsMode", has_own_user_namespace(spec) ? "private" : ""}};
  // Podman's form of the maps: "CONTAINER:HOST:SIZE" lines.
  if (has_own_user_namespace(spec)) {
    host_config["IDMappings"] = {{"UidMap", id_map_lines(spec.uid_map)},
                                 {"GidMap", id_map_lines(spec.gid_map)}};
  }
  return host_config;
}

Json mounts_of(const ContainerSpec& spec) {
  Json mounts = Json::array();
  for (const auto& volume : spec.volumes) {
    if (!volume.volume.empty()) {
      mounts.push_back({{"Type", "volume"},
                        {"Name", volume.volume},
                        {"Source", volume.host_path.string()},
                        {"Destination", volume.container_path},
                        {"Driver", "local"},
                        {"Mode", volume_options(volume).empty() ? "z" : volume_options(volume)},
                        {"RW", !volume.read_only},
                        {"Propagation", ""}});
      continue;
    }
    mounts.push_back({{"Type", "bind"},
                      {"Source", volume.host_path.string()},
                      {"Destination", volume.container_path},
                      {"Mode", volume_options(volume)},
                      {"RW", !volume.read_only},
                      {"Propagation", "rprivate"}});
  }
  for (const auto& tmpfs : spec.tmpfs) {
    mounts.push_back({{"Type", "tmpfs"},
                      {"Source", ""},
                      {"Destination", tmpfs.container_path},
                      {"Mode", ""},
                      {"RW", (tmpfs.flags & MS_RDONLY) == 0},
                      {"Propagation", ""}});
  }
  return mounts;
}

Json config_of(const ContainerSpec& spec) {
  const std::string user = spec.group ? spec.user + ":" + *spec.group : spec.user;
  return {{"Hostname", spec.hostname},
          {"Domainname", ""},
          {"User", user},
          {"Tty", spec.tty},
          {"OpenStdin", spec.interactive},
          {"Env", spec.env},
          // mcore keeps the final command only, so Docker's Entrypoint + Cmd split is not known here.
          {"Cmd", spec.args},
          {"Image", spec.image},
          {"WorkingDir", spec.working_dir},
          {"Entrypoint", nullptr},
          {"Labels", spec.labels},
          {"StopSignal", signal_name(spec.stop_signal)},
          {"StopTimeout", spec.stop_timeout}};
}

}  // namespace

nlohmann::ordered_json inspect_container(const ContainerRecord& record,
                                         const std::filesystem::path& log_path) {
  const ContainerSpec& spec = record.spec;
  const std::vector<std::string> args(spec.args.begin() + (spec.args.empty() ? 0 : 1), spec.args.end());
  return {{"Id", record.id},
          {"Created", time_or_zero(record.created)},
          {"Path", spec.args.empty() ? "" : spec.args.front()},
          {"Args", args},
          {"State", state_of(record)},
          {"Image", spec.image_id},
          {"LogPath", log_path.string()},
          {"Name", "/" + record.name},
          {"RestartCount", record.restart_count},
          {"Platform", "linux"},
          {"HostConfig", host_config_of(spec)},
          {"Mounts", mounts_of(spec)},
          {"Config", config_of(spec)},
          {"NetworkSettings", network_settings_of(record)},
          // mcore's own, after Docker's members: log entries that could not be written (a full disk);
          // the log marks where they are missing.
          {"LogWriteFailures", record.log_write_failures}};
}

}  // namespace mcore::engine
