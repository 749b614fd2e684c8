#pragma once
// What an image's config contributes to a container (Entrypoint, Cmd, Env, WorkingDir, User) and how
// `mcore run` flags override it, following Docker's rules.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mcore::engine {

struct ImageDefaults {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // KEY=VALUE
  std::string working_dir;       // "" when unset
  std::string user;              // "" when unset
  std::optional<std::string> stop_signal;  // "SIGQUIT", as the image wrote it
  std::vector<std::string> exposed_ports;  // ExposedPorts' keys: "80/tcp", "53/udp" (what -P publishes)
};

// Reads the "config" object of an OCI/Docker image config; missing fields stay empty. Throws Error on
// fields of the wrong type.
ImageDefaults read_image_defaults(const nlohmann::json& image_config);

// Docker's rule: --entrypoint replaces the image's Entrypoint and drops its Cmd (an empty --entrypoint
// clears it); command-line arguments replace Cmd. Throws Error when nothing is left to run.
std::vector<std::string> container_command(const ImageDefaults& image,
                                           const std::optional<std::string>& entrypoint_flag,
                                           const std::vector<std::string>& arguments);

}  // namespace mcore::engine
