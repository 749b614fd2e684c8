#pragma once
// The context object every verb works with: the configuration, the logger and the drivers, each driver
// loaded on first use so a command only pays for the plugins it needs.
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "engine/context/config.hpp"
#include "engine/context/host_facts.hpp"
#include "engine/context/plugin_loader.hpp"
#include "mcore/network_driver.hpp"
#include "mcore/registry_driver.hpp"
#include "mcore/resource_driver.hpp"
#include "mcore/storage_driver.hpp"

namespace mcore::engine {

// Options that come before the verb: mcore [--config F] [--plugin-dir D]... [--log-level L] VERB ...
struct GlobalOptions {
  std::optional<std::filesystem::path> config_path;  // else MCORE_CONFIG, else the default path
  std::vector<std::filesystem::path> plugin_dirs;    // searched first
  std::optional<std::string> log_level;              // overrides the config's log_level
};

// What `mcore info` says about rootless mcore: whose namespace, its maps, and whether limits work.
struct RootlessFacts {
  std::uint32_t uid = 0;             // the user's host uid
  std::vector<std::string> uid_map;  // the namespace's lines, "INSIDE HOST COUNT"
  std::vector<std::string> gid_map;
  std::string delegated_cgroup;  // the delegated cgroup v2 group containers' groups go below; "" when
                                 // there is none, and limits are refused
};

class Engine {
 public:
  // Loads the config and sets up the logger. Throws Error on a bad config.
  explicit Engine(const GlobalOptions& options);
  // The config `options` select (--config, else MCORE_CONFIG, else the default path), --log-level applied.
  static Config load_effective_config(const GlobalOptions& options);
  // With a config the caller loaded and adjusted (mcore-oci places each container's group through the
  // resource section's cgroup_parent).
  Engine(const GlobalOptions& options, Config config);
  ~Engine();

  const Config& config() const { return config_; }
  // As given on the command line: handed on to the commands mcore starts for itself.
  const GlobalOptions& global_options() const { return options_; }
  const std::shared_ptr<spdlog::logger>& logger() const { return logger_; }
  const PluginLoader& plugins() const { return loader_; }
  const HostFacts& host();

  // Before a command touches the data and state roots: creates both roots and the containers/ and
  // volumes/ directories private (0700) at first use (they hold records with secrets, and volumes with
  // setuid files that containers wrote), and narrows them when found wider. Rootless, it first moves
  // this single-threaded process into the user's namespace (rootless_namespace.hpp), unless
  // `enter_user_namespace` is false: a command that only joins running containers must stay outside,
  // as their namespaces' owner. Throws Error saying what to do.
  void secure_roots(bool enter_user_namespace = true);
  // Run by an ordinary user: the roots are that user's, and containers live in its user namespace.
  bool rootless() const { return config_.rootless_uid.has_value(); }
  // nullopt for root. Read from inside the user's namespace (after secure_roots). Throws Error.
  std::optional<RootlessFacts> rootless_facts() const;

  // What "auto" resolves to for a rootless user without a cgroup to delegate from: no plugin, but
  // UngroupedResources (ungrouped_resources.hpp).
  static constexpr const char* kUngroupedResources = "none (rootless, no delegated cgroup)";

  // The driver chosen for a role, "auto" resolved ("cgroup-v1" on a hybrid host).
  std::string driver_name(DriverKind kind);

  // Load (once) and return the configured driver for each role. Throw Error as PluginLoader::load does.
  std::shared_ptr<StorageDriver> storage();
  std::shared_ptr<ResourceDriver> resource();
  std::shared_ptr<NetworkDriver> network();
  std::shared_ptr<RegistryDriver> registry();

  // The ABI minor the loaded driver of `kind` was built with (0 before it is loaded): a method the SDK
  // appended in minor N is called only when this is at least N.
  std::uint32_t abi_minor(DriverKind kind) const;

 private:
  template <class Interface>
  std::shared_ptr<Interface> driver(DriverKind kind, std::shared_ptr<Interface>& slot);
  // probe_delegated_cgroup(), once per Engine: a rootless command asks up to three times.
  const std::optional<std::string>& delegated_cgroup() const;

  GlobalOptions options_;
  Config config_;
  std::shared_ptr<spdlog::logger> logger_;
  PluginLoader loader_;
  std::optional<HostFacts> host_;
  mutable std::optional<std::optional<std::string>> delegated_cgroup_;
  std::shared_ptr<StorageDriver> storage_;
  std::shared_ptr<ResourceDriver> resource_;
  std::shared_ptr<NetworkDriver> network_;
  std::shared_ptr<RegistryDriver> registry_;
  std::map<DriverKind, std::uint32_t> abi_minors_;
};

}  // namespace mcore::engine
