#pragma once
// What every process mcore starts inside a container does between fork and execve, whether it is the
// container's init (container_init.cpp) or a command `mcore exec` adds (container_exec.cpp): report a
// failure to mcore, resolve the user in the container's own passwd, attach stdio or a terminal, wait
// at the barrier, drop privileges and exec the command. Async-signal-safe only: no allocation, no
// exceptions; a failure goes to mcore through the sync socket as errno plus step name.
#include <cstddef>

#include "engine/init/init_plan.hpp"
#include "engine/init/user_lookup.hpp"

namespace mcore::engine {

// A fixed-size string builder for step names: no allocation between clone and execve.
class StepText {
 public:
  StepText& add(const char* text) {
    for (; text != nullptr && *text != '\0' && length_ + 1 < sizeof buffer_; ++text) buffer_[length_++] = *text;
    buffer_[length_] = '\0';
    return *this;
  }
  const char* c_str() const { return buffer_; }

 private:
  char buffer_[240] = {};
  std::size_t length_ = 0;
};

// The child's side: its plan (its own copy, so it may fill in HOME) and the sync socket in it.
struct ContainerChild {
  InitPlan& plan;

  // Sends mcore the failed step and `error_number`, then exits 125.
  [[noreturn]] void fail(const StepText& step, int error_number) const noexcept;
  // The same with errno, the step named "<step> /<target>" when a target (relative to the root) is given.
  [[noreturn]] void fail(const char* step, const char* target = nullptr) const noexcept;
};

// -u resolved against the container's /etc/passwd and /etc/group (the current root), as runc does;
// fills in HOME when the plan asks for it. Fails the child when a named user or group does not exist.
ResolvedUser resolve_credentials(const ContainerChild& child) noexcept;

// Gives the command the plan's descriptors as stdio, and the container's /dev/null as stdin when the
// plan asks for it (no -i, no -t).
void attach_stdio(const ContainerChild& child) noexcept;

// Starts a new session and, with -t, makes a new terminal in the container's devpts its controlling
// terminal and stdio; the master goes to mcore.
void start_session(const ContainerChild& child) noexcept;

// Makes the process non-dumpable: /proc/PID/{exe,root,fd,mem,environ} of an mcore process that a
// container can see are then closed to the container (without CAP_SYS_PTRACE). A change of
// credentials resets the flag to the host's suid_dumpable, so call it again after drop_privileges.
void stay_undumpable(const ContainerChild& child) noexcept;

// Blocks until mcore has placed the process (cgroup, network) and lets it go on; exits 125 when mcore
// gave up or died, so the command never runs unplaced.
void wait_for_go(const ContainerChild& child) noexcept;

// Bounding set, no_new_privs, seccomp, groups, uid and gid, then the capability sets, in the order that
// keeps each step permitted.
void drop_privileges(const ContainerChild& child, const ResolvedUser& user) noexcept;

// The plan's rlimits (OCI's process.rlimits), set before privileges are dropped.
void apply_rlimits(const ContainerChild& child) noexcept;

// Unblocks every signal and restores default dispositions (mcore blocks the ones it forwards).
void reset_signals() noexcept;

// Fails the child as exec_command would when argv[0] names no executable file (mcore-oci checks before
// `start`, so that `create` reports it).
void check_command(const ContainerChild& child) noexcept;

// Marks every descriptor but stdio close-on-exec and execs argv[0], looked up in the plan's PATH as
// execvpe would; reports kExecStep with the errno when it cannot.
[[noreturn]] void exec_command(const ContainerChild& child) noexcept;

}  // namespace mcore::engine
