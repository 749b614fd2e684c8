#include "engine/context/engine.hpp"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <string_view>

#include <spdlog/sinks/stdout_color_sinks.h>

#include "engine/context/rootless_namespace.hpp"
#include "engine/context/ungrouped_resources.hpp"
#include "engine/util/file_util.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {

namespace {

namespace fs = std::filesystem;

// spdlog::level::from_str maps any unknown word to "off"; a typo must not silence mcore.
void check_log_level(const std::string& level, const std::string& where) {
  constexpr std::string_view kLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (std::find(std::begin(kLevels), std::end(kLevels), level) != std::end(kLevels)) return;
  throw Error(where + ": unknown log level \"" + level + "\"", 0,
              "use one of trace, debug, info, warn, error, critical, off");
}

std::optional<fs::path> config_file(const GlobalOptions& options) {
  if (options.config_path) return options.config_path;
  if (const char* env = std::getenv("MCORE_CONFIG"); env != nullptr && *env != '\0') return fs::path(env);
  return std::nullopt;
}

// The config file with --log-level applied, so that `mcore info` shows the level in effect.
Config effective_config(const GlobalOptions& options) {
  Config config = load_config(config_file(options), caller_defaults());
  if (options.log_level) {
    check_log_level(*options.log_level, "--log-level");
    config.log_level = *options.log_level;
  } else {
    check_log_level(config.log_level,
                    config.source.empty() ? "log_level" : config.source.string() + ": log_level");
  }
  return config;
}

std::shared_ptr<spdlog::logger> make_logger(const std::string& level) {
  // Not registered with spdlog: no global state, and several engines (tests) can coexist.
  auto logger =
      std::make_shared<spdlog::logger>("mcore", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  logger->set_pattern("mcore: %^%l%$: %v");
  logger->set_level(spdlog::level::from_str(level));
  return logger;
}

std::vector<fs::path> plugin_search_dirs(const GlobalOptions& options, const Config& config) {
  std::vector<fs::path> dirs;
  auto add = [&dirs](const fs::path& dir) {
    if (!dir.empty() && std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(dir);
  };
  // Relative directories from the command line or environment are the user's own; pin them now.
  for (const auto& dir : options.plugin_dirs) add(fs::absolute(dir));
  if (const char* env = std::getenv("MCORE_PLUGIN_PATH"); env != nullptr) {
    std::string_view rest = env;
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      const std::string_view entry = rest.substr(0, colon);
      if (!entry.empty()) add(fs::absolute(fs::path(entry)));
      rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    }
  }
  for (const auto& dir : config.plugin_dirs) add(dir);
  add(MCORE_PLUGIN_INSTALL_DIR);
  return dirs;
}

}  // namespace

Engine::Engine(const GlobalOptions& options)
    : options_(options),
      config_(effective_config(options)),
      logger_(make_logger(config_.log_level)),
      loader_(plugin_search_dirs(options, config_)) {}

Config Engine::load_effective_config(const GlobalOptions& options) { return effective_config(options); }

Engine::Engine(const GlobalOptions& options, Config config)
    : options_(options),
      config_(std::move(config)),
      logger_(make_logger(config_.log_level)),
      loader_(plugin_search_dirs(options, config_)) {}

Engine::~Engine() = default;

void Engine::secure_roots(bool enter_user_namespace) {
  if (config_.rootless_uid && enter_user_namespace && ::geteuid() != 0) {
    const passwd* user = ::getpwuid(*config_.rootless_uid);
    const std::string name = user != nullptr ? user->pw_name : std::to_string(*config_.rootless_uid);
    enter_rootless_namespace(rootless_maps(*config_.rootless_uid, ::getegid(), name), config_.state_root);
  }
  // Volumes hold what containers wrote, setuid-root files included; records hold -e secrets.
  for (const auto& dir : {config_.data_root, config_.data_root / "containers", config_.data_root / "volumes",
                          config_.state_root}) {
    ensure_private_directory(dir);
  }
}

std::optional<RootlessFacts> Engine::rootless_facts() const {
  if (!rootless()) return std::nullopt;
  RootlessFacts facts;
  facts.uid = *config_.rootless_uid;
  const auto lines = [](const IdMap& map) {
    std::vector<std::string> out;
    std::istringstream text(proc_id_map_text(map));
    for (std::string line; std::getline(text, line);) out.push_back(line);
    return out;
  };
  facts.uid_map = lines(own_uid_map());
  facts.gid_map = lines(own_gid_map());
  facts.delegated_cgroup = delegated_cgroup().value_or("");
  return facts;
}

const std::optional<std::string>& Engine::delegated_cgroup() const {
  if (!delegated_cgroup_) delegated_cgroup_ = probe_delegated_cgroup();
  return *delegated_cgroup_;
}

const HostFacts& Engine::host() {
  if (!host_) host_ = probe_host();
  return *host_;
}

std::string Engine::driver_name(DriverKind kind) {
  const std::string role(to_string(kind));
  const auto it = config_.drivers.find(kind);
  if (it == config_.drivers.end()) {
    throw Error("no " + role + " driver configured", 0, "set drivers." + role + " in the config");
  }
  if (kind == DriverKind::resource && it->second == "auto") {
    if (rootless() && !delegated_cgroup()) return kUngroupedResources;
    // Only the statfs, unless the full host facts were probed already.
    const CgroupMode mode = host_ ? host_->cgroup_mode : probe_cgroup_mode();
    return mode == CgroupMode::v2 ? "cgroup-v2" : "cgroup-v1";
  }
  return it->second;
}

template <class Interface>
std::shared_ptr<Interface> Engine::driver(DriverKind kind, std::shared_ptr<Interface>& slot) {
  if (slot) return slot;
  const std::string role(to_string(kind));
  const std::string name = driver_name(kind);

  HostContext context;
  context.logger = logger_;
  if (auto section = config_.sections.find(kind); section != config_.sections.end()) {
    context.config = section->second;
  }
  context.config_path = role;
  // Rootless on a delegated cgroup v2 subtree: containers' groups beside mcore's own, unless the
  // config places them.
  if (kind == DriverKind::resource && rootless() && name == "cgroup-v2" &&
      !context.config.contains("cgroup_parent")) {
    if (const auto& delegated = delegated_cgroup()) context.config["cgroup_parent"] = *delegated + "/mcore";
  }
  context.data_root = config_.data_root;
  context.state_root = config_.state_root;
  std::optional<fs::path> explicit_path;
  if (auto path = config_.plugin_paths.find(kind); path != config_.plugin_paths.end())
    explicit_path = path->second;

  std::uint32_t abi_minor = 0;
  auto typed = std::dynamic_pointer_cast<Interface>(loader_.load(kind, name, explicit_path, context, &abi_minor));
  if (!typed) {
    throw Error(
        role + " driver \"" + name + "\": its plugin created an object that is not a " + role + " driver", 0,
        "this is a bug in the plugin: create() must return the interface of the kind it declares");
  }
  logger_->debug("loaded {} driver {}", role, name);
  abi_minors_[kind] = abi_minor;
  slot = std::move(typed);
  return slot;
}

std::shared_ptr<StorageDriver> Engine::storage() { return driver(DriverKind::storage, storage_); }
std::shared_ptr<ResourceDriver> Engine::resource() {
  if (!resource_ && rootless() && driver_name(DriverKind::resource) == kUngroupedResources) {
    resource_ = std::make_shared<UngroupedResources>();
  }
  return driver(DriverKind::resource, resource_);
}
std::shared_ptr<NetworkDriver> Engine::network() { return driver(DriverKind::network, network_); }

std::uint32_t Engine::abi_minor(DriverKind kind) const {
  const auto found = abi_minors_.find(kind);
  return found == abi_minors_.end() ? 0 : found->second;
}
std::shared_ptr<RegistryDriver> Engine::registry() { return driver(DriverKind::registry, registry_); }

}  // namespace mcore::engine
