#pragma once
// Starting a container's command: storage, cgroup, the init and its barrier, then the process that did
// all that execs mcore-supervisor and stays the init's parent for the container's whole life.
//
//   mcore run/start --fork--> launcher --clone--> init --exec--> the command
//                              |  (storage, cgroup, barrier, record "running")
//                              +--exec--> mcore-supervisor --exec on exit--> mcore-exit-handler ID
//                                               |
//                                               +--or hands the exit to the foreground `mcore run`
//
// The caller learns the outcome through a report socket; its own exit never disturbs the container.
#include <optional>
#include <string>

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

// The launcher's work in the calling process: on success it execs mcore-supervisor and never returns;
// it returns the report of a failed start, which it has also recorded. `report_fd` (or -1) receives the
// report before the exec. The exit handler calls this directly to restart a container, passing the
// liveness lock it already holds as `held_lock_fd` (else -1: the lock is taken here).
LaunchReport start_and_supervise(Engine& engine, const std::string& id, int report_fd, AttachedClient client,
                                 int held_lock_fd);

}  // namespace mcore::engine
