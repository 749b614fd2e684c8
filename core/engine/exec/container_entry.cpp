#include "engine/exec/container_entry.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine/context/self_command.hpp"
#include "engine/exec/enter_request.hpp"
#include "engine/exec/sealed_executable.hpp"
#include "engine/init/container_child.hpp"
#include "mcore/error.hpp"
#include "mcore/fd_io.hpp"

namespace mcore::engine {
namespace {

// What the forked child needs to become mcore-enter (enter/main.cpp).
struct EnterLaunch {
  InitPlan* plan;       // for reporting a failure; its sync_fd is set in the child
  int stdio[3];
  int request_fd;       // the request, in a memfd
  int init_pidfd;
  int enter_view;       // the read-only view of mcore-enter
};

// In the forked child, still mcore, in mcore's own PID namespace where no container can see it: lays out
// the descriptors mcore-enter expects (0-2 stdio, 3 sync, 4 request, 5 init pidfd, then the caller's
// 3 .. 3+N-1 that --preserve-fds passes on, from 7), closes every other one and execs mcore-enter from
// its read-only view, with an empty environment.
void exec_enter(void* context, int sync_fd) noexcept {
  auto& launch = *static_cast<EnterLaunch*>(context);
  const int preserved = launch.plan->preserve_fds;
  const int wanted[7] = {launch.stdio[0], launch.stdio[1], launch.stdio[2], sync_fd,
                         launch.request_fd, launch.init_pidfd, launch.enter_view};
  // Above the whole layout first, so that no dup2 below overwrites a descriptor still to be placed.
  const int above = 7 + preserved;
  int moved[7];
  for (int i = 0; i < 7; ++i) moved[i] = ::fcntl(wanted[i], F_DUPFD_CLOEXEC, above);
  launch.plan->sync_fd = moved[3];
  const ContainerChild child{*launch.plan};
  for (int i = 0; i < 7; ++i) {
    if (moved[i] < 0) child.fail("arrange the descriptors of mcore-enter");
  }
  // From the last: 7+i may be the caller's 3+i+4, which by then is placed already.
  for (int i = preserved - 1; i >= 0; --i) {
    const int kept = ::fcntl(3 + i, F_DUPFD_CLOEXEC, above);
    if (kept < 0 || ::dup2(kept, 7 + i) < 0) child.fail("pass on a preserved descriptor");
  }
  for (int fd = 0; fd < 6; ++fd) {
    if (::dup2(moved[fd], fd) < 0) child.fail("arrange the descriptors of mcore-enter");
  }
  launch.plan->sync_fd = 3;
  if (::dup3(moved[6], 6, O_CLOEXEC) < 0 ||
      ::syscall(SYS_close_range, static_cast<unsigned>(above), ~0U, 0U) != 0) {
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
  return memory_file("mcore-enter-request", encode_enter_request(process, namespaces));
}

}  // namespace

ContainerEntry enter_container(InitPlan& plan, int namespaces, int init_pidfd, const int (&stdio)[3],
                               const std::function<void(pid_t)>& place, const std::function<void()>& after_spawn) {
  const UniqueFd request = request_memfd(plan, namespaces);
  const UniqueFd enter_view = sealed_executable(helper_executable("mcore-enter"));
  EnterLaunch launch{&plan, {stdio[0], stdio[1], stdio[2]}, request.get(), init_pidfd, enter_view.get()};
  ContainerProcess entrant = ContainerProcess::spawn(0, exec_enter, &launch, true);
  if (after_spawn) after_spawn();
  place(entrant.pid());
  entrant.release();
  std::optional<InitFailure> failure;
  std::optional<ContainerProcess> process = entrant.receive_forked(failure);
  entrant.wait();
  UniqueFd pty_master;
  if (process && plan.tty) pty_master = process->receive_pty_master(failure);
  return ContainerEntry{std::move(process), std::move(pty_master), std::move(failure)};
}

}  // namespace mcore::engine
