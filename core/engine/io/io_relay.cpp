#include "engine/io/io_relay.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include <sys/syscall.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>

#include "engine/io/fd_passing.hpp"
#include "engine/io/supervisor_protocol.hpp"
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

void send_frame(int socket, FrameKind kind, const void* data, std::size_t size) {
  char frame[kMaxFrame];
  frame[0] = static_cast<char>(kind);
  std::memcpy(frame + 1, data, size);
  send_message(socket, frame, size + 1);
}

void send_window_size(int socket) {
  winsize size{};
  if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &size) != 0 && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) != 0) return;
  WindowSize window{size.ws_row, size.ws_col};
  send_frame(socket, FrameKind::resize, &window, sizeof window);
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

AttachOutcome relay_attached(int supervisor_socket, const ForwardedSignals& signals, const AttachOptions& options) {
  UniqueFd signal_fd(::signalfd(-1, &signals.set(), SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signal_fd) throw Error::from_errno("create a signalfd");
  int input = options.forward_stdin ? STDIN_FILENO : -1;
  if (options.tty) send_window_size(supervisor_socket);

  AttachOutcome outcome;
  enum { kSupervisor, kSignal, kInput };
  for (;;) {
    std::array<pollfd, 3> fds{pollfd{supervisor_socket, POLLIN, 0}, pollfd{signal_fd.get(), POLLIN, 0},
                              pollfd{input, POLLIN, 0}};
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw Error::from_errno("wait for container events");
    }
    if (fds[kSignal].revents & POLLIN) {
      signalfd_siginfo info{};
      while (::read(signal_fd.get(), &info, sizeof info) == sizeof info) {
        int signal = static_cast<int>(info.ssi_signo);
        if (signal == SIGWINCH) {
          if (options.tty) send_window_size(supervisor_socket);
        } else if (signal != SIGCHLD && options.init_pidfd >= 0) {
          ::syscall(SYS_pidfd_send_signal, options.init_pidfd, signal, nullptr, 0);
        }
      }
    }
    if (fds[kInput].revents & (POLLIN | POLLHUP | POLLERR)) {
      char buffer[kMaxFrame - 1];
      ssize_t n = ::read(input, buffer, sizeof buffer);
      if (n > 0) {
        send_frame(supervisor_socket, FrameKind::stdin_data, buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        if (!options.tty) send_frame(supervisor_socket, FrameKind::stdin_close, nullptr, 0);
        input = -1;
      }
    }
    if (fds[kSupervisor].revents) {
      char frame[kMaxFrame];
      std::vector<UniqueFd> passed;
      ssize_t n = receive_message(supervisor_socket, frame, sizeof frame, passed);
      if (n <= 0) break;
      const auto size = static_cast<std::size_t>(n - 1);
      switch (static_cast<FrameKind>(frame[0])) {
        case FrameKind::stdout_data: write_all(STDOUT_FILENO, frame + 1, size); break;
        case FrameKind::stderr_data: write_all(STDERR_FILENO, frame + 1, size); break;
        case FrameKind::exited:
          if (size == sizeof(std::int32_t)) {
            std::int32_t code;
            std::memcpy(&code, frame + 1, sizeof code);
            outcome.exit_code = code;
          }
          break;
        case FrameKind::exit_handover:
          if (size == sizeof(ExitHandover) && !passed.empty()) {
            ExitHandover handover;
            std::memcpy(&handover, frame + 1, sizeof handover);
            handover.finished_at[sizeof handover.finished_at - 1] = '\0';
            HandedOverExit& taken = outcome.handover.emplace();
            taken.facts = {handover.exit_code, handover.finished_at, handover.log_failures,
                           handover.stop_requested != 0};
            taken.liveness_lock = std::move(passed.front());
            for (std::size_t i = 1; i < passed.size(); ++i) taken.other_clients.push_back(std::move(passed[i]));
            return outcome;
          }
          break;
        default: break;
      }
    }
  }
  return outcome;
}

}  // namespace mcore::engine
