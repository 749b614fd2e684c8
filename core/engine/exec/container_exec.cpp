#include "engine/exec/container_exec.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "engine/context/rootless_namespace.hpp"
#include "engine/exec/container_entry.hpp"
#include "engine/exec/exec_relay.hpp"
#include "engine/init/container_child.hpp"
#include "engine/init/init_plan.hpp"
#include "engine/start/container_network.hpp"
#include "engine/start/container_process.hpp"
#include "engine/start/container_seccomp.hpp"
#include "engine/start/start_failure.hpp"

namespace mcore::engine {
namespace {

// The namespaces the init was cloned into (PID included: it decides where mcore-enter's child is
// born) and the cgroup namespace it unshares; with --network=host the init shares the host's network
// namespace, and so will we; in a user namespace of its own, so will we.
int joined_namespaces(const ContainerSpec& spec) {
  int flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP | CLONE_NEWPID;
  if (has_own_network_namespace(spec)) flags |= CLONE_NEWNET;
  // setns(2) through a pidfd enters the user namespace first, then the others it owns.
  if (has_own_user_namespace(spec)) flags |= CLONE_NEWUSER;
  return flags;
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
  // Rootless, from outside: into the namespace the container's start entered (see CliContext).
  if (engine.rootless() && ::geteuid() != 0) join_rootless_namespace_of(record.pid, init_pidfd);
  InitPlan plan;
  plan.seccomp = container_seccomp(record.spec, engine.config().state_root);
  build_process_plan(process, plan);
  ExecStdio stdio = prepare_stdio(process, quiet.has_value());
  auto resource = engine.resource();

  // Blocked from before the fork, so that no signal meant for the command is lost. A quiet command
  // gets none: mcore's own signals end mcore.
  std::optional<ForwardedSignals> signals;
  if (!quiet) signals.emplace();
  ContainerEntry entry = enter_container(plan, joined_namespaces(record.spec), init_pidfd, stdio.fds,
                                         [&](pid_t entrant) { resource->add_process(record.id, entrant); },
                                         [&stdio] {
                                           for (UniqueFd* end : {&stdio.stdin_read, &stdio.stdout_write, &stdio.stderr_write}) end->reset();
                                         });
  std::optional<InitFailure>& failure = entry.failure;
  std::optional<ContainerProcess>& child = entry.process;
  UniqueFd& pty_master = entry.pty_master;
  if (pty_master) copy_window_size(pty_master.get());
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
