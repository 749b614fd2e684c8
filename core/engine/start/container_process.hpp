#pragma once
// mcore's handle on a container's first process: clones it into new namespaces, talks to it over the
// sync socket, signals it through its pidfd and reaps it. The destructor kills and reaps a process
// that was never waited for, so a failed start leaves no process behind.
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

#include "engine/init/init_plan.hpp"
#include "engine/init/init_protocol.hpp"
#include "mcore/unique_fd.hpp"

namespace mcore::engine {

struct InitFailure {
  std::string step;  // "mount proc on /proc", or kExecStep
  int error_number = 0;
};

class ContainerProcess {
 public:
  // Clones the init with `namespace_flags` (CLONE_NEW*) and runs run_container_init(plan) in it. The
  // child's copy of the plan gets its sync_fd. Throws Error when the clone fails.
  static ContainerProcess start(InitPlan& plan, unsigned long namespace_flags);

  // Clones a child with `clone_flags` (0, or CLONE_NEW* flags) that runs `child_main(context, sync_fd)`
  // with its end of a new sync socket; child_main must never return. For processes that join an
  // existing container (`mcore exec`): with `forks_child`, the child forks the process meant to run
  // and receive_forked() takes it over. Throws Error when the clone fails.
  using ChildMain = void (*)(void* context, int sync_fd) noexcept;
  static ContainerProcess spawn(unsigned long clone_flags, ChildMain child_main, void* context,
                                bool forks_child = false);

  ContainerProcess(ContainerProcess&&) noexcept = default;
  ContainerProcess& operator=(ContainerProcess&&) = delete;
  ~ContainerProcess();

  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_.get(); }

  // With a terminal: the PTY master the init created, or the failure it reported instead.
  UniqueFd receive_pty_master(std::optional<InitFailure>& failure);

  // Lets the init go on past its next barrier: cgroup placement (and network) are done, or (mcore-oci)
  // the hooks have run. Returns false when the init already failed and exited; wait_for_exec then
  // returns its report.
  bool release();

  // Sends the init a detached mount it attaches (in a user namespace of its own: its root, then its
  // bind mounts' sources). Returns false when the init is gone (its report waits in the socket).
  bool send_mount(int mount_fd);

  // For a child that forks the process meant to run the command and exits (`mcore exec`): the forked
  // process, which is mcore's child too (CLONE_PARENT) and takes over the sync socket; nullopt with
  // `failure` set when the child reported a failure instead, or died without a report.
  std::optional<ContainerProcess> receive_forked(std::optional<InitFailure>& failure);

  // For an mcore-oci init (InitPlan::start_fifo_fd): blocks until it is set up and waits for `start`
  // (nullopt), or returns the failure it reported (ECHILD when it died without a report).
  std::optional<InitFailure> wait_for_ready();
  // For an mcore-oci init with InitPlan::hook_barrier: blocks until it waits for its hooks (nullopt),
  // or returns the failure it reported; release() lets it go on.
  std::optional<InitFailure> wait_for_hooks();

  // Blocks until the init has exec'd the command (nullopt) or reported why it could not. `released`
  // says whether release() succeeded: without it, end of file means the init died unreported.
  std::optional<InitFailure> wait_for_exec(bool released = true);

  // Sends a signal through the pidfd; a process that already exited is not an error.
  void send_signal(int signal) noexcept;

  // Waits for the process to exit; returns its exit code Docker-style (the code, or 128+signal).
  int wait();
  // The same, giving up after `limit`: nullopt when the process still runs then.
  std::optional<int> wait_for(std::chrono::milliseconds limit);

  // Lets the process outlive this handle, unwaited for (`mcore exec -d`): when mcore exits it is
  // reparented like any orphan; it still dies with its container's PID namespace.
  void disown() noexcept { reaped_ = true; }
  // Hands the process to the program this one execs next, which got its pidfd (mcore-supervisor):
  // this handle neither kills, reaps nor closes it any more.
  void hand_over() noexcept {
    reaped_ = true;
    pidfd_.release();
  }

 private:
  std::optional<InitFailure> wait_for_message(InitMessageKind kind);

  ContainerProcess(pid_t pid, UniqueFd pidfd, UniqueFd sync) : pid_(pid), pidfd_(std::move(pidfd)), sync_(std::move(sync)) {}

  pid_t pid_ = -1;
  UniqueFd pidfd_;
  UniqueFd sync_;
  bool reaped_ = false;
};

}  // namespace mcore::engine
