#include "engine/exec/container_exec.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "engine/init/container_child.hpp"
#include "engine/start/container_network.hpp"
#include "engine/start/container_process.hpp"
#include "engine/start/container_seccomp.hpp"
#include "engine/exec/exec_relay.hpp"
#include "engine/exec/enter_request.hpp"
#include "engine/init/init_plan.hpp"
#include "engine/exec/sealed_executable.hpp"
#include "engine/context/self_command.hpp"
#include "engine/start/start_failure.hpp"
#include "mcore/fd_io.hpp"

namespace mcore::engine {
namespace {

// The namespaces the init was cloned into (PID included: it decides where mcore-enter's child is
// born) and the cgroup namespace it unshares; with --network=host the init shares the host's network
// namespace, and so will we.
int joined_namespaces(const ContainerSpec& spec) {
  int flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP | CLONE_NEWPID;
  if (has_own_network_namespace(spec)) flags |= CLONE_NEWNET;
  return flags;
}

// What the forked child needs to become mcore-enter (enter/main.cpp).
struct EnterLaunch {
  InitPlan* plan;       // for reporting a failure; its sync_fd is set in the child
  int stdio[3];
  int request_fd;       // the request, in a memfd
  int init_pidfd;
  int enter_view;       // the read-only view of mcore-enter
};

// In the forked child, still mcore, in mcore's own PID namespace where no container can see it: lays out
// the descriptors mcore-enter expects (0-2 stdio, 3 sync, 4 request, 5 init pidfd), closes every other
// one and execs mcore-enter from its read-only view, with an empty environment.
void exec_enter(void* context, int sync_fd) noexcept {
  auto& launch = *static_cast<EnterLaunch*>(context);
  const int wanted[7] = {launch.stdio[0], launch.stdio[1], launch.stdio[2], sync_fd,
                         launch.request_fd, launch.init_pidfd, launch.enter_view};
  // Above the layout first, so that no dup2 below overwrites a descriptor still to be placed.
  int moved[7];
  for (int i = 0; i < 7; ++i) moved[i] = ::fcntl(wanted[i], F_DUPFD_CLOEXEC, 7);
  launch.plan->sync_fd = moved[3];
  const ContainerChild child{*launch.plan};
  for (int i = 0; i < 7; ++i) {
    if (moved[i] < 0) child.fail("arrange the descriptors of mcore-enter");
  }
  for (int fd = 0; fd < 6; ++fd) {
    if (::dup2(moved[fd], fd) < 0) child.fail("arrange the descriptors of mcore-enter");
  }
  launch.plan->sync_fd = 3;
  if (::dup3(moved[6], 6, O_CLOEXEC) < 0 || ::syscall(SYS_close_range, 7U, ~0U, 0U) != 0) {
    child.fail("close inherited descriptors");
  }
  char name[] = "mcore-enter";
  char* argv[] = {name, nullptr};
  char* envp[] = {nullptr};
  ::syscall(SYS_execveat, 6, "", argv, envp, AT_EMPTY_PATH);
  child.fail("exec mcore-enter");
}

// The request for mcore-enter, in a memfd it reads from the start.
UniqueFd request_memfd(const InitPlan& process, int namespaces) {
  UniqueFd fd(static_cast<int>(::syscall(SYS_memfd_create, "mcore-enter-request", MFD_CLOEXEC)));
  if (!fd) throw Error::from_errno("create the request for mcore-enter");
  if (!write_all(fd.get(), encode_enter_request(process, namespaces))) {
    throw Error::from_errno("write the request for mcore-enter");
  }
  return fd;
}

// The command's stdio: pipes mcore relays (never mcore's own descriptors, which a process in the
// container could reopen through /proc/self/fd), or the host's /dev/null. With -t the terminal
// mcore-enter opens replaces all three.
struct ExecStdio {
  UniqueFd null;
  UniqueFd stdin_write, stdin_read;
  UniqueFd stdout_read, stdout_write;
  UniqueFd stderr_read, stderr_write;
  int fds[3] = {-1, -1, -1};
};

void make_pipe(UniqueFd& read, UniqueFd& write) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) throw Error::from_errno("create a pipe for the exec'd command");
  read.reset(ends[0]);
  write.reset(ends[1]);
}

ExecStdio prepare_stdio(const ContainerSpec& process, bool quiet) {
  ExecStdio stdio;
  stdio.null.reset(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!stdio.null) throw Error::from_errno("open /dev/null");
  for (int& fd : stdio.fds) fd = stdio.null.get();
  if (quiet || process.detach || process.tty) return stdio;
  make_pipe(stdio.stdout_read, stdio.stdout_write);
  make_pipe(stdio.stderr_read, stdio.stderr_write);
  stdio.fds[1] = stdio.stdout_write.get();
  stdio.fds[2] = stdio.stderr_write.get();
  if (process.interactive) {
    make_pipe(stdio.stdin_read, stdio.stdin_write);
    stdio.fds[0] = stdio.stdin_read.get();
  }
  return stdio;
}

}  // namespace

ExecOutcome exec_in_container(Engine& engine, const ContainerRecord& record, const ContainerSpec& process,
                              int init_pidfd, std::optional<QuietExec> quiet) {
  InitPlan plan;
  plan.seccomp = container_seccomp(record.spec, engine.config().state_root);
  build_process_plan(process, plan);
  const UniqueFd request = request_memfd(plan, joined_namespaces(record.spec));
  const UniqueFd enter_view = sealed_executable(helper_executable("mcore-enter"));
  ExecStdio stdio = prepare_stdio(process, quiet.has_value());
  EnterLaunch launch{&plan, {stdio.fds[0], stdio.fds[1], stdio.fds[2]}, request.get(), init_pidfd, enter_view.get()};
  auto resource = engine.resource();

  // Blocked from before the fork, so that no signal meant for the command is lost. A quiet command
  // gets none: mcore's own signals end mcore.
  std::optional<ForwardedSignals> signals;
  if (!quiet) signals.emplace();
  ContainerProcess entrant = ContainerProcess::spawn(0, exec_enter, &launch, true);
  for (UniqueFd* end : {&stdio.stdin_read, &stdio.stdout_write, &stdio.stderr_write}) end->reset();
  // mcore-enter's child is born in the cgroup: the command never runs outside the container's limits.
  resource->add_process(record.id, entrant.pid());
  entrant.release();
  std::optional<InitFailure> failure;
  std::optional<ContainerProcess> child = entrant.receive_forked(failure);
  entrant.wait();
  UniqueFd pty_master;
  if (child && process.tty) {
    pty_master = child->receive_pty_master(failure);
    if (pty_master) copy_window_size(pty_master.get());
  }
  if (child && !failure) failure = child->wait_for_exec();
  if (failure) {
    if (child) child->wait();
    StartFailure start = describe_start_failure(process.args.front(), *failure, "exec in the container");
    return {start.exit_code, std::move(start.error)};
  }
  if (quiet) {
    if (auto code = child->wait_for(quiet->time_limit)) return {*code, {}};
    child->send_signal(SIGKILL);
    return {child->wait(), {}, true};
  }
  if (process.detach) {
    child->disown();
    return {};
  }
  std::optional<RawTerminal> raw;
  if (process.tty && process.interactive) raw.emplace(STDIN_FILENO);
  return {relay_exec(*child, *signals,
                     {.pty_master = pty_master.get(),
                      .forward_stdin = process.interactive,
                      .stdin_pipe = std::move(stdio.stdin_write),
                      .stdout_pipe = std::move(stdio.stdout_read),
                      .stderr_pipe = std::move(stdio.stderr_read)}),
          {}};
}

}  // namespace mcore::engine
