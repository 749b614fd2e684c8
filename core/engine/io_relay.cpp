#include "engine/io_relay.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

// Signals that are about mcore's own terminal or children, not for the container.
bool is_forwarded(int signal) {
  switch (signal) {
    case SIGKILL: case SIGSTOP: case SIGCHLD: case SIGPIPE: case SIGWINCH: case SIGURG:
    case SIGTSTP: case SIGTTIN: case SIGTTOU: case SIGPROF: case SIGVTALRM: case SIGSEGV:
    case SIGBUS: case SIGFPE: case SIGILL: case SIGTRAP: case SIGSYS: case SIGABRT:
      return false;
    default:
      return signal < SIGRTMIN;
  }
}

// Writes all of `data` to a blocking or non-blocking fd; gives up on a closed peer.
void write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        pollfd wait{fd, POLLOUT, 0};
        ::poll(&wait, 1, -1);
        continue;
      }
      return;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

// Copies what is readable now; returns false at end of file or on error (EIO: the PTY's other side closed).
bool copy_available(int from, int to) {
  char buffer[16384];
  ssize_t n = ::read(from, buffer, sizeof buffer);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) return false;
  write_all(to, buffer, static_cast<std::size_t>(n));
  return true;
}

}  // namespace

ForwardedSignals::ForwardedSignals() {
  ::sigemptyset(&set_);
  for (int signal = 1; signal < SIGRTMIN; ++signal) {
    if (is_forwarded(signal)) ::sigaddset(&set_, signal);
  }
  ::sigaddset(&set_, SIGWINCH);
  ::sigaddset(&set_, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &set_, &old_);
}

ForwardedSignals::~ForwardedSignals() { ::sigprocmask(SIG_SETMASK, &old_, nullptr); }

RawTerminal::RawTerminal(int fd) : fd_(fd) {
  if (!::isatty(fd)) return;
  if (::tcgetattr(fd, &saved_) != 0) return;
  termios raw = saved_;
  ::cfmakeraw(&raw);
  active_ = ::tcsetattr(fd, TCSANOW, &raw) == 0;
}

RawTerminal::~RawTerminal() {
  if (active_) ::tcsetattr(fd_, TCSADRAIN, &saved_);
}

void copy_window_size(int pty_master) {
  winsize size{};
  if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &size) != 0 && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) != 0) return;
  ::ioctl(pty_master, TIOCSWINSZ, &size);
}

int relay_until_exit(ContainerProcess& process, const ForwardedSignals& signals, const RelayOptions& options) {
  UniqueFd signal_fd(::signalfd(-1, &signals.set(), SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signal_fd) throw Error::from_errno("create a signalfd");
  int master = options.pty_master;
  int input = options.forward_stdin ? STDIN_FILENO : -1;
  if (master >= 0) ::fcntl(master, F_SETFL, ::fcntl(master, F_GETFL) | O_NONBLOCK);

  enum { kExit, kSignal, kMaster, kInput };
  bool exited = false;
  while (!exited) {
    std::array<pollfd, 4> fds{pollfd{process.pidfd(), POLLIN, 0}, pollfd{signal_fd.get(), POLLIN, 0},
                              pollfd{master, POLLIN, 0}, pollfd{input, POLLIN, 0}};
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw Error::from_errno("wait for container events");
    }
    if (fds[kSignal].revents & POLLIN) {
      signalfd_siginfo info{};
      while (::read(signal_fd.get(), &info, sizeof info) == sizeof info) {
        int signal = static_cast<int>(info.ssi_signo);
        if (signal == SIGWINCH) {
          if (master >= 0) copy_window_size(master);
        } else if (signal != SIGCHLD) {
          process.send_signal(signal);
        }
      }
    }
    if (fds[kMaster].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (!copy_available(master, STDOUT_FILENO)) master = -1;
    }
    if (fds[kInput].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (!copy_available(input, options.pty_master)) input = -1;
    }
    exited = (fds[kExit].revents & POLLIN) != 0;
  }
  // Output the command wrote just before exiting is still in the PTY.
  while (master >= 0 && copy_available(master, STDOUT_FILENO)) {
    pollfd more{master, POLLIN, 0};
    if (::poll(&more, 1, 0) <= 0) break;
  }
  return process.wait();
}

}  // namespace mcore::engine
