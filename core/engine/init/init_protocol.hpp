#pragma once
// Messages on the sync socket between mcore and the container init (SOCK_SEQPACKET, one message per
// send). Child to parent: a failure report, the PTY master (as SCM_RIGHTS), or, from a process that
// another child forked into the container for `mcore exec`, "started" (its PID comes with it, as
// SCM_CREDENTIALS: it holds no descriptor of its own to pass).
// Parent to child: one "go" byte once the cgroup (and later the network) is in place. The child's end is
// close-on-exec, so end-of-file on the parent's end means the command was exec'd.
#include <cstdint>

namespace mcore::engine {

// ready: an mcore-oci init has set everything up and now waits for `start` on the exec FIFO.
// hooks: an mcore-oci init has made its namespaces and mounts and waits, before pivot_root, for the
// createRuntime and createContainer hooks to run.
enum class InitMessageKind : std::int32_t { failure = 1, pty_master = 2, started = 3, ready = 4, hooks = 5 };

struct InitMessage {
  InitMessageKind kind;
  std::int32_t error_number;
  char step[240];  // what failed, e.g. "mount proc on /proc"; NUL-terminated
};

inline constexpr char kInitGo = 'g';

// The step name the init reports when execve fails; the runner maps it to exit codes 126 and 127.
inline constexpr const char* kExecStep = "exec";

}  // namespace mcore::engine
