#pragma once
// One more process in a running container, the way both `mcore exec` and `mcore-oci exec` add one:
// mcore forks and execs mcore-enter (from a sealed, read-only view of it) in its own PID namespace; it
// joins the init's namespaces, is placed in the container's group, and forks the command's process
// into the container as mcore's child (CLONE_PARENT). See core/enter/main.cpp.
#include <sys/types.h>

#include <functional>
#include <optional>

#include "engine/init/init_plan.hpp"
#include "engine/start/container_process.hpp"
#include "mcore/unique_fd.hpp"

namespace mcore::engine {

struct ContainerEntry {
  std::optional<ContainerProcess> process;  // the command's process, our child; nullopt on failure
  UniqueFd pty_master;                      // with plan.tty, once the process made its terminal
  std::optional<InitFailure> failure;       // what failed before the process existed, or its terminal
};

// Starts `plan`'s process in the namespaces `namespaces` (CLONE_NEW*) of the init behind `init_pidfd`,
// with `stdio` as its descriptors 0-2. `after_spawn` runs once mcore-enter exists (to close the
// caller's ends of pipes); `place(pid)` must put mcore-enter into the container's group: its child is
// born there, so the command never runs outside the container's limits. The caller then waits for the
// exec with process->wait_for_exec(). Throws Error when mcore itself fails.
ContainerEntry enter_container(InitPlan& plan, int namespaces, int init_pidfd, const int (&stdio)[3],
                               const std::function<void(pid_t)>& place, const std::function<void()>& after_spawn = {});

}  // namespace mcore::engine
