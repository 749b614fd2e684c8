// mcore-enter: the process `mcore exec` puts into a running container. A small static program, run from
// a read-only view of its binary, so that what the container can see of it (/proc/PID/exe) is never a
// writable host file (CVE-2019-5736), and so that the exec costs one small exec rather than a second
// start of mcore.
//
// mcore forks, arranges the descriptors below and execs this in its own PID namespace, where nothing of
// the container can see it. It joins the container's namespaces, reads the container's passwd, waits until
// mcore has put it in the container's cgroup, then forks the second stage into the container's PID
// namespace as mcore's child (CLONE_PARENT) and exits. The second stage is visible in the container from
// its first instruction: non-dumpable, already inside every namespace, the cgroup and the working
// directory, holding only stdio and the sync socket. It starts a session (and terminal), drops privileges
// and execs the command. Failures go to mcore on the sync socket (init_protocol.hpp) as errno + step.
//
// Descriptors: 0-2 the command's stdio, 3 the sync socket, 4 the request (enter_request.hpp, a memfd),
// 5 the container init's pidfd, and from 7 the descriptors the command gets as 3, 4, ...
// (mcore-oci exec --preserve-fds). Nothing else is open, and the environment is empty.
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "engine/init/container_child.hpp"
#include "engine/exec/enter_request.hpp"
#include "engine/io/fd_passing.hpp"
#include "engine/init/init_protocol.hpp"

namespace {

using namespace mcore::engine;

constexpr int kSyncFd = 3;
constexpr int kRequestFd = 4;
constexpr int kInitPidfd = 5;
constexpr int kFirstPreserved = 7;

// The preserved descriptors from 7 onto 3, 4, ...; the sync socket moves above them first.
void place_preserved(const ContainerChild& child) {
  const int count = child.plan.preserve_fds;
  if (count == 0) return;
  const int sync = ::fcntl(child.plan.sync_fd, F_DUPFD_CLOEXEC, kFirstPreserved + count);
  if (sync < 0) child.fail("move the sync socket");
  child.plan.sync_fd = sync;
  for (int i = 0; i < count; ++i) {
    if (::dup2(kFirstPreserved + i, 3 + i) < 0) child.fail("place a preserved descriptor");
  }
  for (int i = 0; i < count; ++i) {
    if (kFirstPreserved + i >= 3 + count) ::close(kFirstPreserved + i);
  }
}

// The second stage, in the container's PID namespace.
[[noreturn]] void run_command(const ContainerChild& child, const ResolvedUser& user) {
  // The first message: the kernel adds our PID as mcore sees it, and mcore, our parent too
  // (CLONE_PARENT), opens a pidfd of us.
  InitMessage started{};
  started.kind = InitMessageKind::started;
  if (!send_message(child.plan.sync_fd, &started, sizeof started)) child.fail("tell mcore the process started");
  start_session(child);
  apply_rlimits(child);
  drop_privileges(child, user);
  stay_undumpable(child);
  ::umask(child.plan.umask);
  reset_signals();
  place_preserved(child);
  exec_command(child);
}

std::string read_request() {
  std::string bytes;
  char buffer[65536];
  ssize_t n;
  while ((n = ::pread(kRequestFd, buffer, sizeof buffer, static_cast<off_t>(bytes.size()))) > 0) {
    bytes.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(kRequestFd);
  return n < 0 ? std::string() : bytes;
}

}  // namespace

int main() {
  EnterRequest request;
  InitPlan& plan = request.process;
  plan.sync_fd = kSyncFd;
  const ContainerChild child{plan};
  // An exec makes a process dumpable again: not for long, and not where the container can see it.
  stay_undumpable(child);
  if (!decode_enter_request(read_request(), request)) {
    errno = EINVAL;
    child.fail("read the request from mcore");
  }
  if (::setns(kInitPidfd, request.namespaces) != 0) child.fail("join the container's namespaces");
  ::close(kInitPidfd);
  const ResolvedUser user = resolve_credentials(child);
  wait_for_go(child);
  // Joining the mount namespace made its root (the container's, after the init's pivot_root) ours.
  if (::chdir(plan.working_dir) != 0) child.fail("chdir to the working directory", plan.working_dir + 1);
  clone_args args{};
  args.flags = CLONE_PARENT;  // exit_signal stays 0: the kernel gives the child our own, SIGCHLD
  const long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0) child.fail("fork into the container's PID namespace");
  if (pid == 0) run_command(child, user);
  return 0;
}
