#include "engine/exec/exec_relay.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string>
#include <string_view>

#include "mcore/error.hpp"
#include "mcore/fd_io.hpp"

namespace mcore::engine {
namespace {

// Copies what one read returns (`from` polled readable, so it does not block); false at end of file, on
// error (EIO: the PTY's other side closed) or when `to` is gone (EPIPE: whoever read mcore's output left).
bool copy_available(int from, int to) {
  char buffer[16384];
  ssize_t n = ::read(from, buffer, sizeof buffer);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) return false;
  return write_all(to, std::string_view(buffer, static_cast<std::size_t>(n)));
}

bool readable_now(int fd) {
  pollfd ready{fd, POLLIN, 0};
  return ::poll(&ready, 1, 0) > 0;
}

// mcore's stdin on its way to the command. The command may never read it: writes are non-blocking and
// what does not fit waits here, while stdin is not read, so the relay never stalls on a full pipe.
class StdinForwarder {
 public:
  StdinForwarder(int to, bool owned) : to_(to), owned_(owned) {
    if (to_ >= 0) ::fcntl(to_, F_SETFL, ::fcntl(to_, F_GETFL) | O_NONBLOCK);
  }
  ~StdinForwarder() { close_target(); }
  StdinForwarder(const StdinForwarder&) = delete;
  StdinForwarder& operator=(const StdinForwarder&) = delete;

  pollfd stdin_poll() const { return {to_ >= 0 && pending_.empty() ? STDIN_FILENO : -1, POLLIN, 0}; }
  pollfd target_poll() const { return {to_ >= 0 && !pending_.empty() ? to_ : -1, POLLOUT, 0}; }

  void read_stdin() {
    char buffer[16384];
    ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
      // The command sees end of file on a pipe; a terminal stays open, as Docker leaves it.
      if (owned_) close_target();
      done_reading_ = true;
      return;
    }
    pending_.assign(buffer, static_cast<std::size_t>(n));
    flush();
  }

  void flush() {
    while (!pending_.empty()) {
      ssize_t n = ::write(to_, pending_.data(), pending_.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return;
      if (n <= 0) {  // the command closed its stdin
        close_target();
        return;
      }
      pending_.erase(0, static_cast<std::size_t>(n));
    }
  }

  bool reading() const { return !done_reading_ && to_ >= 0; }

 private:
  void close_target() {
    if (owned_ && to_ >= 0) ::close(to_);
    to_ = -1;
    pending_.clear();
  }

  int to_;
  bool owned_;
  bool done_reading_ = false;
  std::string pending_;
};

}  // namespace

void copy_window_size(int pty_master) {
  winsize size{};
  if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &size) != 0 && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) != 0) return;
  ::ioctl(pty_master, TIOCSWINSZ, &size);
}

int relay_exec(ContainerProcess& process, const ForwardedSignals& signals, ExecRelayOptions options) {
  UniqueFd signal_fd(::signalfd(-1, &signals.set(), SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signal_fd) throw Error::from_errno("create a signalfd");
  // A reader of mcore's output that goes away ends that copy (EPIPE), not mcore.
  ::signal(SIGPIPE, SIG_IGN);

  struct Output {
    int from;
    int to;
    UniqueFd owned;  // the pipes; the PTY master is the caller's
  };
  std::array<Output, 3> outputs{Output{options.pty_master, STDOUT_FILENO, {}},
                                Output{options.stdout_pipe.get(), STDOUT_FILENO, std::move(options.stdout_pipe)},
                                Output{options.stderr_pipe.get(), STDERR_FILENO, std::move(options.stderr_pipe)}};
  const bool owns_input = options.pty_master < 0;
  const int input_target = !options.forward_stdin ? -1 : owns_input ? options.stdin_pipe.release() : options.pty_master;
  StdinForwarder input(input_target, owns_input);

  enum { kExit, kSignal, kStdin, kTarget, kOutputs };
  bool exited = false;
  while (!exited) {
    std::array<pollfd, kOutputs + 3> fds{pollfd{process.pidfd(), POLLIN, 0}, pollfd{signal_fd.get(), POLLIN, 0},
                                         input.stdin_poll(), input.target_poll()};
    for (std::size_t i = 0; i < outputs.size(); ++i) fds[kOutputs + i] = {outputs[i].from, POLLIN, 0};
    if (!input.reading()) fds[kStdin].fd = -1;
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw Error::from_errno("wait for the exec'd command");
    }
    if (fds[kSignal].revents & POLLIN) {
      signalfd_siginfo info{};
      while (::read(signal_fd.get(), &info, sizeof info) == sizeof info) {
        const int signal = static_cast<int>(info.ssi_signo);
        if (signal == SIGWINCH && options.pty_master >= 0) copy_window_size(options.pty_master);
        if (signal != SIGWINCH && signal != SIGCHLD) process.send_signal(signal);
      }
    }
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      Output& output = outputs[i];
      if ((fds[kOutputs + i].revents & (POLLIN | POLLHUP | POLLERR)) && !copy_available(output.from, output.to)) {
        output.owned.reset();
        output.from = -1;
      }
    }
    if (fds[kTarget].revents & (POLLOUT | POLLERR | POLLHUP)) input.flush();
    if (fds[kStdin].revents & (POLLIN | POLLHUP | POLLERR)) input.read_stdin();
    exited = (fds[kExit].revents & POLLIN) != 0;
  }
  // Output the command wrote just before exiting is still in the PTY or the pipes.
  for (Output& output : outputs) {
    while (output.from >= 0 && readable_now(output.from) && copy_available(output.from, output.to)) {
    }
  }
  return process.wait();
}

}  // namespace mcore::engine
