#include "engine/context/user_defaults.hpp"

#include <unistd.h>

#include <cstdlib>

#include "engine/context/rootless_namespace.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

namespace fs = std::filesystem;

std::string environment_value(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

// The XDG directory `value`, or `fallback` below $HOME.
fs::path xdg_directory(const std::string& value, const char* variable, const std::string& home,
                       const char* fallback) {
  if (!value.empty() && value.front() == '/') return value;
  if (home.empty() || home.front() != '/') {
    throw Error(std::string("rootless mcore needs $") + variable + " or $HOME, as an absolute path", 0,
                std::string("set HOME (or ") + variable + ") for the user running mcore");
  }
  return fs::path(home) / fallback;
}

}  // namespace

UserDefaults system_defaults() {
  return {"/etc/mcore/config.json", "/var/lib/mcore", "/run/mcore", std::nullopt};
}

UserDefaults rootless_defaults(std::uint32_t uid, const UserEnvironment& environment) {
  UserDefaults defaults;
  defaults.rootless_uid = uid;
  defaults.config_path =
      xdg_directory(environment.xdg_config_home, "XDG_CONFIG_HOME", environment.home, ".config") / "mcore" /
      "config.json";
  defaults.data_root =
      xdg_directory(environment.xdg_data_home, "XDG_DATA_HOME", environment.home, ".local/share") / "mcore";
  const std::string& runtime = environment.xdg_runtime_dir;
  defaults.state_root = !runtime.empty() && runtime.front() == '/'
                            ? fs::path(runtime) / "mcore"
                            : fs::path("/tmp/mcore-run-" + std::to_string(uid));
  return defaults;
}

UserDefaults caller_defaults() {
  std::optional<std::uint32_t> uid;
  if (::geteuid() != 0) {
    uid = ::geteuid();
  } else {
    uid = rootless_namespace_owner();
  }
  if (!uid) return system_defaults();
  return rootless_defaults(*uid, {environment_value("HOME"), environment_value("XDG_CONFIG_HOME"),
                                  environment_value("XDG_DATA_HOME"), environment_value("XDG_RUNTIME_DIR")});
}

}  // namespace mcore::engine
