#include "engine/context/config.hpp"

#include <cerrno>
#include <string_view>

#include "engine/logs/container_log.hpp"
#include "engine/util/file_util.hpp"
#include "mcore/config_section.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {

namespace {

struct Role {
  DriverKind kind;
  const char* default_driver;
};

// Every role, in the order the config and `mcore info` show them.
constexpr Role kRoles[] = {{DriverKind::storage, "overlay"},
                           {DriverKind::network, "bridge"},
                           {DriverKind::resource, "auto"},
                           {DriverKind::registry, "docker"}};

// The network driver, and its one network, that rootless mcore uses unless the config says otherwise.
constexpr const char* kRootlessNetwork = "pasta";

constexpr std::string_view kTopLevelKeys =
    "data_root, state_root, log_level, max_concurrent_downloads, default_network, userns, userns_user, "
    "log_opts, "
    "plugin_dirs, drivers, "
    "plugin_paths, storage, network, resource, registry";
constexpr std::string_view kRoleKeys = "storage, network, resource, registry";

std::string role_name(DriverKind kind) { return std::string(to_string(kind)); }

// ConfigSection's own hint cannot know which keys are valid here; name them.
void reject_unknown_keys(const ConfigSection& section, std::string_view known) {
  try {
    section.reject_unknown_keys();
  } catch (Error& error) {
    error.set_hint("valid keys here: " + std::string(known));
    throw;
  }
}

// Paths in the config must not depend on the directory mcore happens to run in.
std::filesystem::path absolute_path(const std::string& value, const std::string& key_path) {
  std::filesystem::path path(value);
  if (!path.is_absolute()) {
    throw Error(key_path + ": \"" + value + "\" is not an absolute path", 0,
                "write the full path, starting with /");
  }
  return path;
}

// The name becomes part of a file name (mcore-<role>-<name>.so): no slashes, no surprises.
std::string checked_driver_name(const std::string& value, const std::string& key_path) {
  const bool valid = !value.empty() && value.front() != '.' &&
                     value.find_first_not_of(
                         "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                         "0123456789._-") == std::string::npos;
  if (!valid) {
    throw Error(key_path + ": \"" + value + "\" is not a valid driver name", 0,
                "use the <name> of a plugin file mcore-<role>-<name>.so (letters, digits, '.', '_', '-')");
  }
  return value;
}

// Reads a role -> string map ("drivers", "plugin_paths"), converting each value with `convert`.
template <class Value, class Convert>
void read_role_map(ConfigSection& root, const std::string& key, std::map<DriverKind, Value>& out,
                   Convert convert) {
  auto section = root.get_section(key);
  if (!section) return;
  for (const auto& role : kRoles) {
    const std::string name = role_name(role.kind);
    if (auto value = section->get_string(name)) out[role.kind] = convert(*value, section->key_path(name));
  }
  reject_unknown_keys(*section, kRoleKeys);
}

Config parse_document(const nlohmann::json& document, const UserDefaults& defaults) {
  if (!document.is_object()) {
    throw Error(std::string("expected a JSON object at the top level, found ") + document.type_name(), 0,
                "write the configuration as { \"key\": value, ... }");
  }
  Config config;
  config.data_root = defaults.data_root;
  config.state_root = defaults.state_root;
  config.rootless_uid = defaults.rootless_uid;
  // Rootless, the bridge cannot be made: pasta's network is the default one.
  if (defaults.rootless_uid) config.default_network = kRootlessNetwork;

  // Role sections belong to the drivers, which validate them; only their shape is checked here.
  nlohmann::json general = document;
  for (const auto& role : kRoles) {
    const std::string name = role_name(role.kind);
    config.drivers[role.kind] =
        defaults.rootless_uid && role.kind == DriverKind::network ? kRootlessNetwork : role.default_driver;
    config.sections[role.kind] = nlohmann::json::object();
    auto it = general.find(name);
    if (it == general.end()) continue;
    ConfigSection shape_check(*it, name);  // throws "<role>: expected an object, found ..."
    if (!it->is_null()) config.sections[role.kind] = *it;
    general.erase(it);
  }

  ConfigSection root(general, "");
  if (auto value = root.get_string("data_root")) config.data_root = absolute_path(*value, "data_root");
  if (auto value = root.get_string("state_root")) config.state_root = absolute_path(*value, "state_root");
  // Checked against spdlog's levels by the Engine, together with --log-level.
  if (auto value = root.get_string("log_level")) config.log_level = *value;
  if (auto value = root.get_int("max_concurrent_downloads")) {
    constexpr std::int64_t kMaxDownloads = 64;
    if (*value < 1 || *value > kMaxDownloads) {
      throw Error("max_concurrent_downloads: " + std::to_string(*value) + " is out of range",
                  0, "use a number from 1 to " + std::to_string(kMaxDownloads) + " (the default is 3)");
    }
    config.max_concurrent_downloads = static_cast<unsigned>(*value);
  }
  const auto default_network = root.get_string("default_network");
  if (default_network) {
    if (default_network->empty()) throw Error("default_network: empty", 0, "name a network, or none or host");
    config.default_network = *default_network;
  }
  if (auto value = root.get_string("userns")) {
    if (*value != "host" && *value != "auto")
      throw Error("userns: \"" + *value + "\" is not host or auto", 0,
                  "use \"host\" (the default) or \"auto\"");
    config.userns = *value;
  }
  if (auto value = root.get_string("userns_user")) {
    if (value->empty())
      throw Error("userns_user: empty", 0, "name the user whose /etc/subuid ranges --userns=auto uses");
    config.userns_user = *value;
  }
  if (root.get_section("log_opts")) {  // an object, or an Error naming the key
    std::vector<std::string> opts;
    for (const auto& [key, value] : general["log_opts"].items()) {
      if (!value.is_string()) {
        throw Error("log_opts." + key + ": expected a string", 0, "write log options as Docker's daemon.json does: \"max-size\": \"20m\"");
      }
      opts.push_back(key + "=" + value.get<std::string>());
    }
    try {
      parse_log_options(opts);  // an unknown key or a bad size is an error at load time, not at run
    } catch (Error& error) {
      error.add_context("log_opts");
      throw;
    }
    config.log_opts = std::move(opts);
  }
  if (auto dirs = root.get_string_list("plugin_dirs")) {
    for (std::size_t i = 0; i < dirs->size(); ++i) {
      config.plugin_dirs.push_back(absolute_path((*dirs)[i], "plugin_dirs[" + std::to_string(i) + "]"));
    }
  }
  read_role_map(root, "drivers", config.drivers, checked_driver_name);
  // The pasta driver has no network called bridge: unless the config names another, its own default
  // network is the default, as it is rootless.
  if (!default_network && config.drivers[DriverKind::network] == kRootlessNetwork) {
    config.default_network = kRootlessNetwork;
  }
  read_role_map(root, "plugin_paths", config.plugin_paths, absolute_path);
  reject_unknown_keys(root, kTopLevelKeys);
  return config;
}

// nlohmann's what() starts with "[json.exception.parse_error.101] "; the user needs only the rest.
std::string without_exception_id(const std::string& text) {
  if (text.starts_with("[json.exception.")) {
    const auto end = text.find("] ");
    if (end != std::string::npos) return text.substr(end + 2);
  }
  return text;
}

Config load_file(const std::filesystem::path& path, const std::string& content,
                 const UserDefaults& defaults) {
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(content);
  } catch (const nlohmann::json::parse_error& error) {
    throw Error(path.string() + ": invalid JSON: " + without_exception_id(error.what()), 0,
                "fix the syntax of the config file");
  }
  Config config = parse_config(document, path.string(), defaults);
  config.source = std::filesystem::absolute(path);
  return config;
}

}  // namespace

nlohmann::json Config::to_json() const {
  nlohmann::json out = nlohmann::json::object();
  out["data_root"] = data_root.string();
  out["state_root"] = state_root.string();
  out["log_level"] = log_level;
  out["max_concurrent_downloads"] = max_concurrent_downloads;
  out["default_network"] = default_network;
  out["userns"] = userns;
  out["userns_user"] = userns_user;
  out["log_opts"] = nlohmann::json::object();
  for (const auto& opt : log_opts) {
    const auto equals = opt.find('=');
    out["log_opts"][opt.substr(0, equals)] = opt.substr(equals + 1);
  }
  out["plugin_dirs"] = nlohmann::json::array();
  for (const auto& dir : plugin_dirs) out["plugin_dirs"].push_back(dir.string());
  out["drivers"] = nlohmann::json::object();
  out["plugin_paths"] = nlohmann::json::object();
  for (const auto& role : kRoles) {
    const std::string name = role_name(role.kind);
    auto driver = drivers.find(role.kind);
    out["drivers"][name] = driver != drivers.end() ? driver->second : role.default_driver;
    if (auto path = plugin_paths.find(role.kind); path != plugin_paths.end()) {
      out["plugin_paths"][name] = path->second.string();
    }
    auto section = sections.find(role.kind);
    out[name] = section != sections.end() ? section->second : nlohmann::json::object();
  }
  return out;
}

Config parse_config(const nlohmann::json& document, const std::string& source_name,
                    const UserDefaults& defaults) {
  try {
    return parse_document(document, defaults);
  } catch (Error& error) {
    if (!source_name.empty()) error.add_context(source_name);
    throw;
  }
}

Config load_config(const std::optional<std::filesystem::path>& explicit_path, const UserDefaults& defaults) {
  const std::filesystem::path path = explicit_path.value_or(defaults.config_path);
  std::string content;
  try {
    content = read_file(path);
  } catch (Error& error) {
    if (error.error_number() == ENOENT) {
      if (!explicit_path)
        return parse_config(nlohmann::json::object(), "", defaults);  // no file: the defaults
      throw Error("config file " + path.string() + " does not exist", 0,
                  "pass an existing file with --config or MCORE_CONFIG, or set neither to use " +
                      defaults.config_path.string());
    }
    error.add_context("read config file");
    error.set_hint("make the file readable, or choose another one with --config");
    throw;
  }
  return load_file(path, content, defaults);
}

}  // namespace mcore::engine
