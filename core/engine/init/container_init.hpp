#pragma once
// The container's first process between clone and execve: mounts, pivot_root, /dev, masks, hostname,
// the barrier, credentials, capabilities, seccomp, and the exec. Async-signal-safe only: it runs in a
// forked copy of mcore and reports failure through the sync socket as errno plus step name.
#include "engine/init/init_plan.hpp"

namespace mcore::engine {

// The plan is the child's own copy: the init fills in what it resolves inside the container (HOME).
[[noreturn]] void run_container_init(InitPlan& plan) noexcept;

}  // namespace mcore::engine
