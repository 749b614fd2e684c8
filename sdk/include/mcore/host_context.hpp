#pragma once
// What the engine hands a driver factory: where state lives, the driver's own config section and the
// logger. A driver keeps what it needs from it; the context itself is not kept alive by the engine.
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

namespace mcore {

struct HostContext {
  // The engine's logger. Plugins clone it with their own name (logger->clone("overlay")) and must never
  // call spdlog::shutdown() or replace the default logger.
  std::shared_ptr<spdlog::logger> logger;
  // The role's section of the config file ({} when absent), e.g. {"cgroup_parent": "/mcore"} for
  // "resource". Drivers reject keys they do not know with ConfigSection (config_section.hpp).
  nlohmann::json config = nlohmann::json::object();
  // The section's path in the config file, for error messages ("resource").
  std::string config_path;
  // Persistent data (default /var/lib/mcore). A driver keeps its files below
  // data_root / <kind> / <name>, e.g. /var/lib/mcore/storage/overlay.
  std::filesystem::path data_root;
  // Runtime state that does not survive a reboot (default /run/mcore); same layout rule.
  std::filesystem::path state_root;
};

}  // namespace mcore
