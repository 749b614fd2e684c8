#include "engine/container_exec.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "engine/container_child.hpp"
#include "engine/container_network.hpp"
#include "engine/container_process.hpp"
#include "engine/container_seccomp.hpp"
#include "engine/exec_relay.hpp"
#include "engine/init_plan.hpp"
#include "engine/start_failure.hpp"

namespace mcore::engine {
namespace {

// The child's script: the process plan, and the namespaces to join through the init's pidfd.
struct ExecPlan {
  InitPlan process;
  int init_pidfd = -1;
  int namespaces = 0;
};

// The namespaces the init was cloned into (but PID, which a fork joins) and the cgroup namespace it
// unshares; with --network=host the init shares the host's network namespace, and so will we.
int joined_namespaces(const ContainerSpec& spec) {
  int flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP;
  if (has_own_network_namespace(spec)) flags |= CLONE_NEWNET;
  return flags;
}

// In the forked child, born in the container's PID namespace. Joining the mount namespace also makes
// that namespace's root (the container's, after the init's pivot_root) our root and working directory.
void run_exec_child(void* context, int sync_fd) noexcept {
  ExecPlan& exec = *static_cast<ExecPlan*>(context);
  exec.process.sync_fd = sync_fd;
  const ContainerChild child{exec.process};
  if (::setns(exec.init_pidfd, exec.namespaces) != 0) child.fail("join the container's namespaces");
  const ResolvedUser user = resolve_credentials(child);
  attach_stdio(child);
  wait_for_go(child);
  if (::chdir(exec.process.working_dir) != 0) {
    child.fail("chdir to the working directory", exec.process.working_dir + 1);
  }
  drop_privileges(child, user);
  ::umask(022);
  reset_signals();
  exec_command(child);
}

// A process can never move itself into another PID namespace, only choose the one its children are
// born in: this points this thread's children at the container's, and back when it goes.
class ChildrenInPidNamespace {
 public:
  explicit ChildrenInPidNamespace(int init_pidfd)
      : own_(::open("/proc/thread-self/ns/pid_for_children", O_RDONLY | O_CLOEXEC)) {
    if (!own_) throw Error::from_errno("open mcore's own PID namespace");
    if (::setns(init_pidfd, CLONE_NEWPID) != 0) {
      if (errno == ESRCH) throw Error("the container exited", ESRCH, "see `mcore ps -a`");
      throw Error::from_errno("join the container's PID namespace");
    }
  }
  ~ChildrenInPidNamespace() { ::setns(own_.get(), CLONE_NEWPID); }
  ChildrenInPidNamespace(const ChildrenInPidNamespace&) = delete;
  ChildrenInPidNamespace& operator=(const ChildrenInPidNamespace&) = delete;

 private:
  UniqueFd own_;
};

}  // namespace

ExecOutcome exec_in_container(Engine& engine, const ContainerRecord& record, const ContainerSpec& process,
                              int init_pidfd) {
  ExecPlan exec;
  exec.process.seccomp = container_seccomp(record.spec, engine.config().state_root);
  build_process_plan(process, exec.process);
  exec.init_pidfd = init_pidfd;
  exec.namespaces = joined_namespaces(record.spec);
  UniqueFd null;
  if (process.detach) {
    // Nobody reads its output or writes its input once mcore has returned.
    null.reset(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!null) throw Error::from_errno("open /dev/null");
    for (int& fd : exec.process.stdio) fd = null.get();
    exec.process.tty = false;
    exec.process.stdin_null = false;
  }
  auto resource = engine.resource();

  // Blocked from before the fork, so that no signal meant for the command is lost.
  ForwardedSignals signals;
  ContainerProcess child = [&] {
    ChildrenInPidNamespace in_container(init_pidfd);
    return ContainerProcess::spawn(0, run_exec_child, &exec);
  }();
  // Before the barrier: the command never runs outside the container's limits.
  resource->add_process(record.id, child.pid());

  UniqueFd pty_master;
  std::optional<InitFailure> failure;
  if (exec.process.tty) {
    pty_master = child.receive_pty_master(failure);
    if (pty_master) copy_window_size(pty_master.get());
  }
  if (!failure) failure = child.wait_for_exec(child.release());
  if (failure) {
    child.wait();
    StartFailure start = describe_start_failure(process.args.front(), *failure, "exec in the container");
    return {start.exit_code, std::move(start.error)};
  }
  if (process.detach) {
    child.disown();
    return {};
  }
  std::optional<RawTerminal> raw;
  if (process.tty && process.interactive) raw.emplace(STDIN_FILENO);
  return {relay_exec(child, signals, {.pty_master = pty_master.get(), .forward_stdin = process.interactive}), {}};
}

}  // namespace mcore::engine
