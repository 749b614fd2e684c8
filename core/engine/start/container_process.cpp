#include "engine/start/container_process.hpp"

#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "engine/init/container_init.hpp"
#include "engine/io/fd_passing.hpp"
#include "engine/init/init_protocol.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

// Receives one message; returns false at end of file. A passed descriptor lands in `passed_fd`, the
// sender's PID (on a socket with SO_PASSCRED) in `sender`.
bool receive(int fd, InitMessage& message, UniqueFd* passed_fd, pid_t* sender = nullptr) {
  ssize_t n = receive_message(fd, &message, sizeof message, passed_fd, sender);
  // A child that failed before reading our "go" byte resets the connection as it exits; the error comes
  // first, once, and its report still waits behind it.
  if (n < 0 && errno == ECONNRESET) n = receive_message(fd, &message, sizeof message, passed_fd, sender);
  if (n < 0) throw Error::from_errno("read from the container init");
  if (n == 0) return false;
  if (static_cast<std::size_t>(n) != sizeof message) throw Error("short message from the container init");
  message.step[sizeof message.step - 1] = '\0';
  return true;
}

InitFailure to_failure(const InitMessage& message) { return {message.step, message.error_number}; }

}  // namespace

ContainerProcess ContainerProcess::spawn(unsigned long clone_flags, ChildMain child_main, void* context,
                                        bool forks_child) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    throw Error::from_errno("create the sync socket");
  }
  UniqueFd parent_end(pair[0]);
  UniqueFd child_end(pair[1]);
  // The forked process tells us who it is by sending: the kernel adds its PID, in our namespace.
  const int on = 1;
  if (forks_child && ::setsockopt(parent_end.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0) {
    throw Error::from_errno("ask for the sender's credentials on the sync socket");
  }

  int pidfd = -1;
  clone_args args{};
  args.flags = clone_flags | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<std::uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  // clone3 without a stack behaves like fork: the child continues on a copy of this stack.
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0) {
    if (clone_flags == 0) throw Error::from_errno("fork a process into the container");
    throw Error::from_errno("clone the container init", "check that this kernel allows new namespaces");
  }
  if (pid == 0) {
    // The child must not hold mcore's end, or it would never see end-of-file if mcore dies.
    ::close(parent_end.release());
    child_main(context, child_end.get());
  }
  return ContainerProcess(static_cast<pid_t>(pid), UniqueFd(pidfd), std::move(parent_end));
}

ContainerProcess ContainerProcess::start(InitPlan& plan, unsigned long namespace_flags) {
  return spawn(
      namespace_flags,
      [](void* context, int sync_fd) noexcept {
        auto& plan = *static_cast<InitPlan*>(context);
        plan.sync_fd = sync_fd;
        run_container_init(plan);
      },
      &plan);
}

ContainerProcess::~ContainerProcess() {
  if (pidfd_ && !reaped_) {
    send_signal(SIGKILL);
    siginfo_t info{};
    while (::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED) < 0 && errno == EINTR) {
    }
  }
}

UniqueFd ContainerProcess::receive_pty_master(std::optional<InitFailure>& failure) {
  InitMessage message{};
  UniqueFd master;
  if (!receive(sync_.get(), message, &master)) throw Error("the container init exited before creating its terminal");
  if (message.kind == InitMessageKind::failure) {
    failure = to_failure(message);
    return {};
  }
  if (!master) throw Error("the container init sent no terminal");
  return master;
}

std::optional<ContainerProcess> ContainerProcess::receive_forked(std::optional<InitFailure>& failure) {
  InitMessage message{};
  pid_t sender = 0;
  if (!receive(sync_.get(), message, nullptr, &sender)) {
    failure = InitFailure{"enter the container", ECHILD};
    return std::nullopt;
  }
  if (message.kind == InitMessageKind::failure) {
    failure = to_failure(message);
    return std::nullopt;
  }
  if (message.kind != InitMessageKind::started || sender <= 0) {
    throw Error("the process entering the container did not say who it is");
  }
  // It is our child (CLONE_PARENT) and not reaped: its PID cannot have been reused.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, sender, 0U)));
  if (!pidfd) throw Error::from_errno("open a pidfd of the process in the container");
  return ContainerProcess(sender, std::move(pidfd), std::move(sync_));
}

bool ContainerProcess::release() {
  char go = kInitGo;
  if (::send(sync_.get(), &go, 1, MSG_NOSIGNAL) == 1) return true;
  // The init failed before the barrier and is gone; its report waits in the socket.
  if (errno == EPIPE || errno == ECONNRESET) return false;
  throw Error::from_errno("release the container init");
}

bool ContainerProcess::send_mount(int mount_fd) {
  const char mount = 'm';
  return send_message(sync_.get(), &mount, 1, mount_fd);
}

std::optional<InitFailure> ContainerProcess::wait_for_exec(bool released) {
  InitMessage message{};
  if (!receive(sync_.get(), message, nullptr)) {
    if (!released) return InitFailure{"set up the container", ECHILD};
    sync_.reset();
    return std::nullopt;
  }
  return to_failure(message);
}

std::optional<InitFailure> ContainerProcess::wait_for_ready() { return wait_for_message(InitMessageKind::ready); }

std::optional<InitFailure> ContainerProcess::wait_for_hooks() { return wait_for_message(InitMessageKind::hooks); }

std::optional<InitFailure> ContainerProcess::wait_for_message(InitMessageKind kind) {
  InitMessage message{};
  if (!receive(sync_.get(), message, nullptr)) return InitFailure{"set up the container", ECHILD};
  if (message.kind == kind) return std::nullopt;
  return to_failure(message);
}

void ContainerProcess::send_signal(int signal) noexcept {
  if (pidfd_) ::syscall(SYS_pidfd_send_signal, pidfd_.get(), signal, nullptr, 0);
}

int ContainerProcess::wait() {
  siginfo_t info{};
  while (::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED) < 0) {
    if (errno != EINTR) throw Error::from_errno("wait for the container");
  }
  reaped_ = true;
  if (info.si_code == CLD_EXITED) return info.si_status;
  return 128 + info.si_status;
}

std::optional<int> ContainerProcess::wait_for(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  pollfd exited{pidfd_.get(), POLLIN, 0};
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    const int ready = ::poll(&exited, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
    if (ready > 0) return wait();
    if (ready == 0) return std::nullopt;
    if (errno != EINTR) throw Error::from_errno("wait for the container's process");
  }
}

}  // namespace mcore::engine
