#include "engine/container/container_spec_json.hpp"

#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

template <class T>
void put_optional(nlohmann::json& json, const char* key, const std::optional<T>& value) {
  if (value) json[key] = *value;
}

template <class T>
std::optional<T> get_optional(const nlohmann::json& json, const char* key) {
  if (!json.contains(key) || json[key].is_null()) return std::nullopt;
  return json[key].get<T>();
}

}  // namespace

nlohmann::json limits_to_json(const ResourceLimits& limits) {
  nlohmann::json json = nlohmann::json::object();
  put_optional(json, "memory_bytes", limits.memory_bytes);
  put_optional(json, "memory_swap_bytes", limits.memory_swap_bytes);
  put_optional(json, "nano_cpus", limits.nano_cpus);
  put_optional(json, "cpu_shares", limits.cpu_shares);
  put_optional(json, "cpuset_cpus", limits.cpuset_cpus);
  put_optional(json, "cpuset_mems", limits.cpuset_mems);
  put_optional(json, "pids_limit", limits.pids_limit);
  return json;
}

ResourceLimits limits_from_json(const nlohmann::json& json) {
  ResourceLimits limits;
  limits.memory_bytes = get_optional<std::int64_t>(json, "memory_bytes");
  limits.memory_swap_bytes = get_optional<std::int64_t>(json, "memory_swap_bytes");
  limits.nano_cpus = get_optional<std::int64_t>(json, "nano_cpus");
  limits.cpu_shares = get_optional<std::uint64_t>(json, "cpu_shares");
  limits.cpuset_cpus = get_optional<std::string>(json, "cpuset_cpus");
  limits.cpuset_mems = get_optional<std::string>(json, "cpuset_mems");
  limits.pids_limit = get_optional<std::int64_t>(json, "pids_limit");
  return limits;
}

namespace {

// "none", "host" or the network's name.
std::string network_text(const ContainerSpec& spec) {
  switch (spec.network) {
    case NetworkMode::none: return "none";
    case NetworkMode::host: return "host";
    case NetworkMode::network: return spec.network_name;
  }
  return "none";
}

void set_network(ContainerSpec& spec, const std::string& text) {
  spec.network = text == "host" ? NetworkMode::host : text == "none" || text.empty() ? NetworkMode::none
                                                                                     : NetworkMode::network;
  if (spec.network == NetworkMode::network) spec.network_name = text;
}


const char* to_string(SeccompMode mode) {
  switch (mode) {
    case SeccompMode::default_profile: return "default";
    case SeccompMode::unconfined: return "unconfined";
    case SeccompMode::file: return "file";
  }
  return "default";
}

SeccompMode seccomp_mode_from(const std::string& text) {
  if (text == "unconfined") return SeccompMode::unconfined;
  if (text == "file") return SeccompMode::file;
  return SeccompMode::default_profile;
}

}  // namespace

std::string to_string(const RestartPolicy& policy) {
  switch (policy.kind) {
    case RestartPolicy::Kind::no: return "no";
    case RestartPolicy::Kind::always: return "always";
    case RestartPolicy::Kind::unless_stopped: return "unless-stopped";
    case RestartPolicy::Kind::on_failure:
      return policy.max_retries > 0 ? "on-failure:" + std::to_string(policy.max_retries) : "on-failure";
  }
  return "no";
}

RestartPolicy parse_restart_policy(const std::string& text) {
  const std::string hint = "use no, on-failure[:MAX_RETRIES], always or unless-stopped";
  RestartPolicy policy;
  if (text == "no" || text.empty()) return policy;
  if (text == "always") {
    policy.kind = RestartPolicy::Kind::always;
    return policy;
  }
  if (text == "unless-stopped") {
    policy.kind = RestartPolicy::Kind::unless_stopped;
    return policy;
  }
  if (text.rfind("on-failure", 0) == 0) {
    policy.kind = RestartPolicy::Kind::on_failure;
    std::string rest = text.substr(10);
    if (rest.empty()) return policy;
    std::size_t used = 0;
    int retries = -1;
    if (rest.front() == ':' && rest.size() > 1) {
      try {
        retries = std::stoi(rest.substr(1), &used);
      } catch (const std::exception&) {
        used = 0;
      }
    }
    if (used + 1 != rest.size() || retries < 0) {
      throw Error("invalid --restart \"" + text + "\": the retry count must be a whole number >= 0", 0, hint);
    }
    policy.max_retries = retries;
    return policy;
  }
  throw Error("invalid --restart \"" + text + "\"", 0, hint);
}

nlohmann::json ports_to_json(const std::vector<PortMapping>& ports) {
  nlohmann::json json = nlohmann::json::array();
  for (const auto& port : ports) {
    json.push_back({{"host_ip", port.host_ip},
                    {"host_port", port.host_port},
                    {"container_port", port.container_port},
                    {"protocol", port.protocol}});
  }
  return json;
}

std::vector<PortMapping> ports_from_json(const nlohmann::json& json) {
  std::vector<PortMapping> ports;
  for (const auto& item : json) {
    ports.push_back({item.value("host_ip", ""), item.value("host_port", std::uint16_t{0}),
                     item.value("container_port", std::uint16_t{0}), item.value("protocol", "tcp")});
  }
  return ports;
}

nlohmann::json volumes_to_json(const std::vector<VolumeSpec>& volumes) {
  nlohmann::json json = nlohmann::json::array();
  for (const auto& volume : volumes) {
    json.push_back({{"host_path", volume.host_path.string()},
                    {"container_path", volume.container_path},
                    {"read_only", volume.read_only},
                    {"volume", volume.volume}});
    if (volume.idmap) json.back()["idmap"] = true;
  }
  return json;
}

std::vector<VolumeSpec> volumes_from_json(const nlohmann::json& json) {
  std::vector<VolumeSpec> volumes;
  for (const auto& volume : json) {
    volumes.push_back({volume.value("host_path", ""), volume.value("container_path", ""),
                       volume.value("read_only", false), volume.value("volume", ""),
                       volume.value("idmap", false)});
  }
  return volumes;
}

nlohmann::json spec_to_json(const ContainerSpec& spec) {
  const nlohmann::json volumes = volumes_to_json(spec.volumes);
  nlohmann::json tmpfs = nlohmann::json::array();
  for (const auto& mount : spec.tmpfs) {
    tmpfs.push_back({{"container_path", mount.container_path}, {"flags", mount.flags}, {"data", mount.data}});
  }
  nlohmann::json json = {
      {"hostname", spec.hostname},
      {"args", spec.args},
      {"env", spec.env},
      {"working_dir", spec.working_dir},
      {"user", spec.user},
      {"image", spec.image},
      {"image_id", spec.image_id},
      {"image_layers", spec.image_layers},
      {"rootfs", spec.rootfs.string()},
      {"volumes", volumes},
      {"tmpfs", tmpfs},
      {"read_only_rootfs", spec.read_only_rootfs},
      {"network", network_text(spec)},
      {"ports", ports_to_json(spec.ports)},
      {"dns", spec.dns},
      {"dns_search", spec.dns_search},
      {"dns_options", spec.dns_options},
      {"extra_hosts", spec.extra_hosts},
      {"network_aliases", spec.network_aliases},
      {"labels", spec.labels},
      {"privileged", spec.privileged},
      {"capabilities", spec.capabilities},
      {"no_new_privileges", spec.no_new_privileges},
      {"seccomp", to_string(spec.seccomp)},
      {"seccomp_file", spec.seccomp_file.string()},
      {"tty", spec.tty},
      {"interactive", spec.interactive},
      {"remove_on_exit", spec.remove_on_exit},
      {"detach", spec.detach},
      {"restart", to_string(spec.restart)},
      {"log_max_size", spec.log.max_size},
      {"log_max_files", spec.log.max_files},
      {"stop_signal", spec.stop_signal},
      {"stop_timeout", spec.stop_timeout},
      {"limits", limits_to_json(spec.limits)},
  };
  if (spec.group) json["group"] = *spec.group;
  if (has_own_user_namespace(spec)) {
    json["uid_map"] = id_map_lines(spec.uid_map);
    json["gid_map"] = id_map_lines(spec.gid_map);
  }
  return json;
}

ContainerSpec spec_from_json(const nlohmann::json& json) {
  ContainerSpec spec;
  spec.hostname = json.value("hostname", "");
  spec.args = json.value("args", std::vector<std::string>{});
  spec.env = json.value("env", std::vector<std::string>{});
  spec.working_dir = json.value("working_dir", "/");
  spec.user = json.value("user", "");
  spec.group = get_optional<std::string>(json, "group");
  spec.image = json.value("image", "");
  spec.image_id = json.value("image_id", "");
  spec.image_layers = json.value("image_layers", std::vector<std::string>{});
  spec.rootfs = json.value("rootfs", "");
  spec.volumes = volumes_from_json(json.value("volumes", nlohmann::json::array()));
  for (const auto& mount : json.value("tmpfs", nlohmann::json::array())) {
    spec.tmpfs.push_back({mount.value("container_path", ""), mount.value("flags", 0UL), mount.value("data", "")});
  }
  spec.read_only_rootfs = json.value("read_only_rootfs", false);
  set_network(spec, json.value("network", "none"));
  spec.ports = ports_from_json(json.value("ports", nlohmann::json::array()));
  spec.dns = json.value("dns", std::vector<std::string>{});
  spec.dns_search = json.value("dns_search", std::vector<std::string>{});
  spec.dns_options = json.value("dns_options", std::vector<std::string>{});
  spec.extra_hosts = json.value("extra_hosts", std::vector<std::string>{});
  spec.network_aliases = json.value("network_aliases", std::vector<std::string>{});
  spec.labels = json.value("labels", std::map<std::string, std::string>{});
  spec.privileged = json.value("privileged", false);
  spec.capabilities = json.value("capabilities", CapabilitySet{0});
  spec.no_new_privileges = json.value("no_new_privileges", false);
  spec.seccomp = seccomp_mode_from(json.value("seccomp", "default"));
  spec.seccomp_file = json.value("seccomp_file", "");
  spec.tty = json.value("tty", false);
  spec.interactive = json.value("interactive", false);
  spec.remove_on_exit = json.value("remove_on_exit", false);
  spec.detach = json.value("detach", false);
  spec.restart = parse_restart_policy(json.value("restart", "no"));
  spec.log.max_size = json.value("log_max_size", std::uint64_t{0});
  spec.log.max_files = json.value("log_max_files", 1U);
  spec.stop_signal = json.value("stop_signal", 15);
  spec.stop_timeout = json.value("stop_timeout", 10);
  spec.limits = limits_from_json(json.value("limits", nlohmann::json::object()));
  spec.uid_map =
      parse_id_map_lines(json.value("uid_map", std::vector<std::string>{}), "the record's uid_map");
  spec.gid_map =
      parse_id_map_lines(json.value("gid_map", std::vector<std::string>{}), "the record's gid_map");
  return spec;
}

}  // namespace mcore::engine
