#pragma once
// runtime-spec hooks: host programs run at fixed points of a container's life, each given the
// container's state document on stdin. mcore-oci runs them from its own process, in the runtime's
// namespaces, except startContainer, which runs inside the container (docs/oci-runtime.md says when
// each one runs).
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mcore::engine {

struct OciHook {
  std::string path;               // absolute, in the runtime's mount namespace (startContainer: the container's)
  std::vector<std::string> args;  // argv, argv[0] included; empty: just the path
  std::vector<std::string> env;   // the whole environment
  std::optional<int> timeout_seconds;
};

struct OciHooks {
  std::vector<OciHook> prestart;  // deprecated in 1.0.2; run where createRuntime runs, before them
  std::vector<OciHook> create_runtime;
  std::vector<OciHook> create_container;
  std::vector<OciHook> start_container;
  std::vector<OciHook> poststart;
  std::vector<OciHook> poststop;
};

// config.json's "hooks". Throws Error "<path>: <problem>" (a relative path, a timeout below 1, an
// unknown hook name).
OciHooks parse_oci_hooks(const nlohmann::json& value, const std::string& path);

// Runs `hooks` in order on the host, each with `state` on stdin. `which` names them for errors
// ("createRuntime"). Throws Error naming the hook, its exit code or timeout and what it wrote to
// stderr, at the first that fails; the later ones do not run.
void run_oci_hooks(const std::vector<OciHook>& hooks, const char* which, const nlohmann::json& state);

}  // namespace mcore::engine
