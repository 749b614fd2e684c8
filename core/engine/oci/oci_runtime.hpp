#pragma once
// The OCI runtime's verbs on a bundle (runc's model), as the engine's second front end: `create` clones
// the init straight from the calling process with the same init (init/) that `mcore run` uses, places
// it through the configured Resource driver, and returns with the init waiting on the exec FIFO. No
// mcore process stays behind: the init is reparented to the caller (containerd's shim and conmon are
// subreapers). `start` writes into the FIFO; the other verbs read the state directory.
//
//   mcore-oci create --clone--> init (namespaces, mounts, pivot_root, ...) --waits on exec.fifo
//   mcore-oci start  --writes exec.fifo--> init drops privileges and execs the command
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/context/engine.hpp"

namespace mcore::engine {

struct OciRuntimeOptions {
  std::filesystem::path root = "/run/mcore-oci";
  bool systemd_cgroup = false;  // cgroupsPath is "slice:prefix:name"
  GlobalOptions engine;         // which mcore config (drivers) and plugin directories
  // Where failures that must not fail the verb go (a poststart or poststop hook); stderr when unset.
  std::function<void(const std::string&)> warn;
};

struct OciCreateOptions {
  std::string id;
  std::filesystem::path bundle = ".";
  std::optional<std::filesystem::path> pid_file;
  // With process.terminal: a Unix socket that receives the terminal's master (SCM_RIGHTS).
  std::optional<std::filesystem::path> console_socket;
  // Descriptors 3 .. 3+N-1 of mcore-oci reach the command (systemd's socket activation, conmon).
  int preserve_fds = 0;
};

// `exec`: a process from --process (a runtime-spec Process document), or the container's own process
// with `args` and the overrides below.
struct OciExecOptions {
  std::string id;
  std::optional<std::filesystem::path> process_file;
  std::vector<std::string> args;
  bool tty = false;
  std::optional<std::string> cwd;
  std::vector<std::string> env;       // KEY=VALUE, added to the container's
  std::optional<std::string> user;    // "UID[:GID]"
  std::vector<gid_t> additional_gids;
  std::vector<std::string> caps;      // added to the container's
  bool no_new_privileges = false;
  bool detach = false;
  std::optional<std::filesystem::path> pid_file;
  std::optional<std::filesystem::path> console_socket;
  int preserve_fds = 0;  // as for create
};

class OciRuntime {
 public:
  explicit OciRuntime(OciRuntimeOptions options);

  // Sets the container up and leaves its init waiting for start. Throws Error; on failure nothing is
  // left: no process, group, state directory or pid file.
  void create(const OciCreateOptions& options);
  // create, start, wait, delete: returns the command's exit code (128 + signal when killed). Signals
  // sent to mcore-oci meanwhile are forwarded to the container's init.
  int run(const OciCreateOptions& options);
  void start(const std::string& id);
  // One more process in the running container, through mcore-enter as `mcore exec` adds one: the
  // init's namespaces, its group, its seccomp profile. Returns the process's exit code, or 0 with
  // `detach` once it runs (it is then the caller's, reparented like the init).
  int exec(const OciExecOptions& options);
  nlohmann::json state(const std::string& id);
  // `all`: every process in the container's group, not only its init.
  void kill(const std::string& id, int signal, bool all);
  // A created or stopped container; a running one only with `force` (killed first).
  void remove(const std::string& id, bool force);
  std::vector<nlohmann::json> list();
  // Host PIDs of every process in the container's group.
  std::vector<pid_t> processes(const std::string& id);
  // Freezes (thaws) every process through the Resource driver; state then says "paused" ("running").
  void pause(const std::string& id);
  void resume(const std::string& id);
  // New limits for the container's group (a runtime-spec LinuxResources document, as `update
  // --resources` reads it); those not given stay. Throws Error naming the field or the limit.
  void update(const std::string& id, const nlohmann::json& resources);

 private:
  OciRuntimeOptions options_;
};

// The runtime-spec features document (`mcore-oci features`).
nlohmann::json oci_features();

}  // namespace mcore::engine
