#pragma once
// Starting a container's command: storage, cgroup, the init and its barrier, then the process that did
// all that execs mcore-supervisor and stays the init's parent for the container's whole life.
//
//   mcore run/start --vfork--> launcher --clone--> init --exec--> the command
//                               |  (storage, cgroup, barrier, record "running")
//                               +--exec--> mcore-supervisor --exec on exit--> mcore-exit-handler ID
//                                                |
//                                                +--or hands the exit to the foreground `mcore run`
//
// The caller learns the outcome through a report socket; its own exit never disturbs the container.
#include <optional>
#include <string>
#include <vector>

#include "engine/context/engine.hpp"
#include "mcore/error.hpp"
#include "mcore/unique_fd.hpp"

namespace mcore::engine {

struct LaunchReport {
  int exit_code = 0;            // 0 when the command runs; 125, 126 or 127 when it never did
  std::optional<Error> failure; // what to tell the user when it never ran
  UniqueFd init_pidfd;          // the running init, for forwarding signals
};

// The first client of a new supervisor, attached from the first byte of output on.
struct AttachedClient {
  int fd = -1;              // one end of a SOCK_SEQPACKET pair, or -1 for none
  // The client records the exit itself (an ExitHandover frame brings it the liveness lock), sparing the
  // exec of the exit handler. Honoured only for a container without a restart policy: a restart would
  // make the client the next launcher.
  bool takes_exit = false;
};

// Starts container `id`, whose record must exist and not be running, under a new supervisor with
// `client` attached. Returns once the command was exec'd or failed to start.
LaunchReport launch_container(Engine& engine, const std::string& id, AttachedClient client = {});

// mcore-supervisor's command line for a started container. Plain strings: a launcher sharing its
// caller's memory leaves it for the caller to free (launch_container).
struct SupervisorCommand {
  std::vector<std::string> argv;  // the descriptors named in it stay open across the exec
  std::vector<int> descriptors;   // those descriptors; stdio (/dev/null) stays too, all else is closed
  int init_pidfd = -1;
  std::vector<char*> pointers;    // argv for execv, kept here for the same reason
  bool unshared = false;          // exec() took a descriptor table of its own

  // Execs the supervisor with a descriptor table of its own (the caller's copies of `descriptors` are
  // the caller's to close once `unshared`); when the exec fails, kills the init (nobody would
  // supervise it) and throws Error.
  [[noreturn]] void exec();
};

// The launcher's work in the calling process, up to the supervisor's exec: returns the report (also
// sent to `report_fd`, or -1), and on success fills `command`. A failed start is recorded. The
// liveness lock is taken here, or `held_lock_fd` is the one the caller holds (else -1).
LaunchReport start_container(Engine& engine, const std::string& id, int report_fd, AttachedClient client,
                             int held_lock_fd, SupervisorCommand& command);

// start_container, then the supervisor's exec: returns only the report of a failed start. The exit
// handler calls this to restart a container, passing the liveness lock it already holds.
LaunchReport start_and_supervise(Engine& engine, const std::string& id, int report_fd, AttachedClient client,
                                 int held_lock_fd);

}  // namespace mcore::engine
