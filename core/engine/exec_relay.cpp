#include "engine/exec_relay.hpp"

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string_view>

#include "mcore/error.hpp"
#include "mcore/fd_io.hpp"

namespace mcore::engine {
namespace {

// Copies what one read returns (`from` polled readable, so it does not block); false at end of file or
// on error (EIO: the PTY's other side closed).
bool copy_available(int from, int to) {
  char buffer[16384];
  ssize_t n = ::read(from, buffer, sizeof buffer);
  if (n < 0 && errno == EINTR) return true;
  if (n <= 0) return false;
  write_all(to, std::string_view(buffer, static_cast<std::size_t>(n)));
  return true;
}

bool readable_now(int fd) {
  pollfd ready{fd, POLLIN, 0};
  return ::poll(&ready, 1, 0) > 0;
}

}  // namespace

void copy_window_size(int pty_master) {
  winsize size{};
  if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &size) != 0 && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) != 0) return;
  ::ioctl(pty_master, TIOCSWINSZ, &size);
}

int relay_exec(ContainerProcess& process, const ForwardedSignals& signals, const ExecRelayOptions& options) {
  UniqueFd signal_fd(::signalfd(-1, &signals.set(), SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signal_fd) throw Error::from_errno("create a signalfd");
  int master = options.pty_master;
  int input = options.pty_master >= 0 && options.forward_stdin ? STDIN_FILENO : -1;

  enum { kExit, kSignal, kMaster, kInput };
  bool exited = false;
  while (!exited) {
    std::array<pollfd, 4> fds{pollfd{process.pidfd(), POLLIN, 0}, pollfd{signal_fd.get(), POLLIN, 0},
                              pollfd{master, POLLIN, 0}, pollfd{input, POLLIN, 0}};
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw Error::from_errno("wait for the exec'd command");
    }
    if (fds[kSignal].revents & POLLIN) {
      signalfd_siginfo info{};
      while (::read(signal_fd.get(), &info, sizeof info) == sizeof info) {
        const int signal = static_cast<int>(info.ssi_signo);
        if (signal == SIGWINCH && master >= 0) copy_window_size(master);
        if (signal != SIGWINCH && signal != SIGCHLD) process.send_signal(signal);
      }
    }
    if ((fds[kMaster].revents & (POLLIN | POLLHUP | POLLERR)) && !copy_available(master, STDOUT_FILENO)) master = -1;
    if ((fds[kInput].revents & (POLLIN | POLLHUP | POLLERR)) && !copy_available(input, options.pty_master)) input = -1;
    exited = (fds[kExit].revents & POLLIN) != 0;
  }
  // Output the command wrote just before exiting is still in the PTY.
  while (master >= 0 && readable_now(master) && copy_available(master, STDOUT_FILENO)) {
  }
  return process.wait();
}

}  // namespace mcore::engine
