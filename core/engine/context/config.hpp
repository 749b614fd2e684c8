#pragma once
// mcore's configuration file: one JSON object, every key optional, unknown keys rejected by path.
//
//   {
//     "data_root": "/var/lib/mcore", "state_root": "/run/mcore", "log_level": "warn",
//     "max_concurrent_downloads": 3, "default_network": "bridge", "userns": "host", "userns_user": "mcore",
//     "log_opts": {"max-size": "20m", "max-file": "5"},
//     "plugin_dirs": ["/opt/mcore/plugins"],
//     "drivers": {"storage": "overlay", "resource": "auto", "network": "bridge", "registry": "docker"},
//     "plugin_paths": {"resource": "/opt/acme/mcore-resource-acme.so"},
//     "storage": {...}, "resource": {"cgroup_parent": "/mcore"}, "network": {...}, "registry": {...}
//   }
//
// The role sections ("storage", "resource", ...) are handed to the selected driver, which validates them.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/context/user_defaults.hpp"
#include "mcore/plugin.hpp"

namespace mcore::engine {

struct Config {
  std::filesystem::path data_root = "/var/lib/mcore";
  std::filesystem::path state_root = "/run/mcore";
  std::string log_level = "warn";
  // Layers a pull downloads at once (Docker's daemon.json key and default).
  unsigned max_concurrent_downloads = 3;
  // What `run` joins without --network: "bridge" (Docker's default), "none", "host" or a user network.
  std::string default_network = "bridge";
  // What `run` does without --userns or --uidmap: "host" (the host's user namespace) or "auto" (a
  // namespace of its own with a 65536-id range out of `userns_user`'s /etc/subuid and /etc/subgid).
  std::string userns = "host";
  std::string userns_user = "mcore";
  // Every container's --log-opt defaults, as Docker's daemon.json "log-opts" ("max-size=20m"): what a
  // container's own --log-opt does not set. mcore's own default keeps a log to 5 files of 20 MB (as
  // Docker's local driver does), so no log grows without bound; {} in the file means no limit.
  std::vector<std::string> log_opts = {"max-size=20m", "max-file=5"};
  std::vector<std::filesystem::path> plugin_dirs;
  // Role -> driver name. Defaults: storage overlay, resource auto, network bridge (rootless: pasta,
  // which default_network then names too), registry docker.
  std::map<DriverKind, std::string> drivers;
  // Role -> absolute path of the plugin file; wins over every search directory.
  std::map<DriverKind, std::filesystem::path> plugin_paths;
  // Role -> that role's section, {} when absent.
  std::map<DriverKind, nlohmann::json> sections;
  // The file this came from; empty when no file exists and the defaults apply.
  std::filesystem::path source;
  // Set when an ordinary user runs mcore (rootless): that user's host uid. Not a key of the file.
  std::optional<std::uint32_t> rootless_uid;

  // The effective configuration, every default filled in (for `mcore info`).
  nlohmann::json to_json() const;
};

// Parses a config document over `defaults`' roots. `source_name` prefixes errors
// ("/etc/mcore/config.json: drivers.storag: unknown key"). Throws Error.
Config parse_config(const nlohmann::json& document, const std::string& source_name,
                    const UserDefaults& defaults = system_defaults());

// Loads the config: `explicit_path` (from --config or MCORE_CONFIG) must exist and parse; without it,
// `defaults.config_path` is read when present and the defaults apply when it is not. Throws Error.
Config load_config(const std::optional<std::filesystem::path>& explicit_path,
                   const UserDefaults& defaults = system_defaults());

}  // namespace mcore::engine
