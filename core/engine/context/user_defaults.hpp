#pragma once
// Where mcore keeps its config, data and state for the user running it: root's system paths, or, for
// an ordinary user (rootless mcore), that user's XDG base directories, as Podman does.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace mcore::engine {

struct UserDefaults {
  std::filesystem::path config_path;
  std::filesystem::path data_root;
  std::filesystem::path state_root;
  // Who runs mcore: nullopt for root, else the user's own (host) uid.
  std::optional<std::uint32_t> rootless_uid;
};

// The environment values the rootless defaults come from (empty when unset).
struct UserEnvironment {
  std::string home;             // $HOME
  std::string xdg_config_home;  // $XDG_CONFIG_HOME
  std::string xdg_data_home;    // $XDG_DATA_HOME
  std::string xdg_runtime_dir;  // $XDG_RUNTIME_DIR
};

// root: /etc/mcore/config.json, /var/lib/mcore, /run/mcore.
UserDefaults system_defaults();

// For user `uid`: $XDG_CONFIG_HOME/mcore/config.json, $XDG_DATA_HOME/mcore and $XDG_RUNTIME_DIR/mcore,
// each XDG directory defaulting as the XDG spec says (~/.config, ~/.local/share); without
// $XDG_RUNTIME_DIR, /tmp/mcore-run-UID (Podman's fallback), whose owner secure_roots checks. Relative
// XDG values are ignored, as the spec asks. Throws Error when neither the XDG value nor $HOME is usable.
UserDefaults rootless_defaults(std::uint32_t uid, const UserEnvironment& environment);

// The defaults for the calling process: rootless when it is not root, or when it is root only in the
// user namespace rootless mcore entered (rootless_namespace.hpp). Throws Error as rootless_defaults.
UserDefaults caller_defaults();

}  // namespace mcore::engine
