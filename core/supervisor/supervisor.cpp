#include "supervisor/supervisor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "engine/logs/container_log.hpp"
#include "engine/io/fd_passing.hpp"
#include "engine/util/rfc3339.hpp"
#include "engine/io/supervisor_protocol.hpp"

namespace mcore::supervisor {
namespace {

using engine::FrameKind;

struct Client {
  int fd = -1;
  bool attached = false;
  bool takes_exit = false;  // the exit taker (supervisor_protocol.hpp, exit_handover)
};

class Supervisor {
 public:
  explicit Supervisor(const SupervisorOptions& options)
      : options_(options), log_(options.log_path, options.log), stdin_fd_(options.stdin_fd) {
    if (options.client_fd >= 0) {
      add_client(options.client_fd, true);
      clients_.back().takes_exit = options.client_takes_exit;
    }
  }

  int run() {
    int exit_code = -1;
    while (exit_code < 0) {
      poll_once(exit_code);
    }
    finish(exit_code);
    return 1;
  }

 private:
  void add_client(int fd, bool attached) {
    // A client that stops reading must not stall the container for long: sends time out, then it is dropped.
    timeval limit{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    clients_.push_back({fd, attached});
  }

  // A client may attach, type into the container and take the init's pidfd: only root, or the user the
  // supervisor runs as, whatever the socket's mode and directories say.
  static bool trusted_peer(int fd) {
    ucred peer{};
    socklen_t size = sizeof peer;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0) return false;
    return peer.uid == 0 || peer.uid == ::geteuid();
  }

  void drop_client(std::size_t index) {
    ::close(clients_[index].fd);
    clients_.erase(clients_.begin() + static_cast<std::ptrdiff_t>(index));
  }

  void send_frame(Client& client, FrameKind kind, const char* data, std::size_t size) {
    char frame[engine::kMaxFrame];
    frame[0] = static_cast<char>(kind);
    std::memcpy(frame + 1, data, size);
    if (::send(client.fd, frame, size + 1, MSG_NOSIGNAL) < 0) client.attached = false;
  }

  void broadcast(FrameKind kind, const char* data, std::size_t size) {
    for (auto& client : clients_) {
      if (client.attached) send_frame(client, kind, data, size);
    }
  }

  // Reads what the command wrote; returns false at end of file (or EIO: a terminal whose last holder left).
  bool pump_output(int fd, engine::LogStream stream, FrameKind kind) {
    char buffer[engine::kMaxFrame - 1];
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (n <= 0) return false;
    log_.write(stream, buffer, static_cast<std::size_t>(n));
    broadcast(kind, buffer, static_cast<std::size_t>(n));
    return true;
  }

  void handle_frame(Client& client, const char* frame, std::size_t size) {
    switch (static_cast<FrameKind>(frame[0])) {
      case FrameKind::attach: client.attached = true; break;
      case FrameKind::stdin_data: {
        int target = options_.pty_fd >= 0 ? options_.pty_fd : stdin_fd_;
        if (target >= 0) write_all(target, frame + 1, size - 1);
        break;
      }
      case FrameKind::stdin_close:
        if (stdin_fd_ >= 0) ::close(stdin_fd_);
        stdin_fd_ = -1;
        break;
      case FrameKind::resize:
        if (options_.pty_fd >= 0 && size == 1 + sizeof(engine::WindowSize)) {
          engine::WindowSize window{};
          std::memcpy(&window, frame + 1, sizeof window);
          winsize size_request{};
          size_request.ws_row = window.rows;
          size_request.ws_col = window.columns;
          ::ioctl(options_.pty_fd, TIOCSWINSZ, &size_request);
        }
        break;
      case FrameKind::want_pidfd: send_pidfd(client); break;
      case FrameKind::stop_requested: stop_requested_ = true; break;
      case FrameKind::want_log_failures: {
        const std::uint64_t failures = log_.failed_writes();
        send_frame(client, FrameKind::log_failures, reinterpret_cast<const char*>(&failures), sizeof failures);
        break;
      }
      default: break;
    }
  }

  void send_pidfd(Client& client) {
    const char kind = static_cast<char>(FrameKind::pidfd);
    engine::send_message(client.fd, &kind, 1, options_.init_pidfd);
  }

  static bool write_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
      ssize_t n = ::write(fd, data, size);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data += n;
      size -= static_cast<std::size_t>(n);
    }
    return true;
  }

  void poll_once(int& exit_code) {
    enum { kInit, kOut, kErr, kPty, kListen, kFixed };
    std::vector<pollfd> fds = {{options_.init_pidfd, POLLIN, 0}, {out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0},
                               {pty_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    for (const auto& client : clients_) fds.push_back({client.fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) return;  // EINTR

    if (fds[kOut].revents && !pump_output(out_fd_, engine::LogStream::stdout_stream, FrameKind::stdout_data)) {
      out_fd_ = -1;
    }
    if (fds[kErr].revents && !pump_output(err_fd_, engine::LogStream::stderr_stream, FrameKind::stderr_data)) {
      err_fd_ = -1;
    }
    if (fds[kPty].revents && !pump_output(pty_fd_, engine::LogStream::stdout_stream, FrameKind::stdout_data)) {
      pty_fd_ = -1;
    }
    if (fds[kListen].revents & POLLIN) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0 && trusted_peer(fd)) {
        add_client(fd, false);
      } else if (fd >= 0) {
        ::close(fd);
      }
    }
    // Clients, newest last; iterate backwards so that dropping one keeps the others' indexes.
    for (std::size_t i = fds.size(); i-- > kFixed;) {
      if (!fds[i].revents) continue;
      std::size_t index = i - kFixed;
      char frame[engine::kMaxFrame];
      ssize_t n = ::recv(clients_[index].fd, frame, sizeof frame, MSG_DONTWAIT);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {
        drop_client(index);
        continue;
      }
      handle_frame(clients_[index], frame, static_cast<std::size_t>(n));
    }
    if (fds[kInit].revents & POLLIN) {
      siginfo_t info{};
      if (::waitid(P_PIDFD, static_cast<id_t>(options_.init_pidfd), &info, WEXITED | WNOHANG) == 0 &&
          info.si_pid != 0) {
        exit_code = info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
      }
    }
  }

  // Everything the command wrote before it exited, up to the point where the pipes are empty.
  void drain_output() {
    for (int* fd : {&out_fd_, &err_fd_, &pty_fd_}) {
      if (*fd < 0) continue;
      ::fcntl(*fd, F_SETFL, ::fcntl(*fd, F_GETFL) | O_NONBLOCK);
      const auto stream = fd == &err_fd_ ? engine::LogStream::stderr_stream : engine::LogStream::stdout_stream;
      const auto kind = fd == &err_fd_ ? FrameKind::stderr_data : FrameKind::stdout_data;
      for (;;) {
        char buffer[engine::kMaxFrame - 1];
        ssize_t n = ::read(*fd, buffer, sizeof buffer);
        if (n <= 0) break;
        log_.write(stream, buffer, static_cast<std::size_t>(n));
        broadcast(kind, buffer, static_cast<std::size_t>(n));
      }
    }
    log_.flush();
  }

  // Best effort: on a full state root the exit handler still learns the exit from its command line.
  void write_exit_file(int exit_code, const std::string& finished_at) {
    const std::string text = std::to_string(exit_code) + " " + finished_at + "\n";
    const std::string temporary = options_.exit_file.string() + ".tmp";
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return;
    const bool written = write_all(fd, text.data(), text.size());
    if (::close(fd) != 0 || !written) {
      ::unlink(temporary.c_str());  // never an empty or torn exit file in place
      return;
    }
    ::rename(temporary.c_str(), options_.exit_file.c_str());
  }

  void finish(int exit_code) {
    drain_output();
    const std::string finished_at = engine::now_rfc3339();
    write_exit_file(exit_code, finished_at);
    ::unlink(options_.socket_path.c_str());
    ::close(listen_fd_);
    const std::int32_t code = exit_code;
    broadcast(FrameKind::exited, reinterpret_cast<const char*>(&code), sizeof code);
    if (hand_over_exit(exit_code, finished_at)) ::_exit(0);
    // Clients stay connected through the exec: they see end of file once the exit is recorded.
    for (const auto& client : clients_) ::fcntl(client.fd, F_SETFD, 0);
    // What the exit handler must know even when no file could be written: the exit, the log's losses,
    // whether the exit was asked for.
    std::vector<std::string> facts = {"--lock-fd", std::to_string(options_.lock_fd), "--exit-code",
                                      std::to_string(exit_code), "--finished-at", finished_at,
                                      "--log-failures", std::to_string(log_.failed_writes())};
    if (stop_requested_) facts.push_back("--stop-requested");
    std::vector<std::string> command = options_.exit_command;
    command.insert(command.end() - 1, facts.begin(), facts.end());
    std::vector<char*> argv;
    for (const auto& arg : command) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    std::fprintf(stderr, "mcore-supervisor: exec %s: %s\n", argv[0], std::strerror(errno));
  }

  // Gives the exit to the exit taker, if it is still there: the same facts the exit handler would get,
  // the liveness lock, and the other clients, which thus see end of file only once the exit is recorded.
  // False when there is no taker or it is gone: the exit handler records the exit then.
  bool hand_over_exit(int exit_code, const std::string& finished_at) {
    auto taker = std::find_if(clients_.begin(), clients_.end(), [](const Client& c) { return c.takes_exit && c.attached; });
    if (taker == clients_.end() || clients_.size() > engine::kMaxPassedFds) return false;
    engine::ExitHandover handover{};
    handover.exit_code = exit_code;
    handover.log_failures = log_.failed_writes();
    handover.stop_requested = stop_requested_ ? 1 : 0;
    finished_at.copy(handover.finished_at, sizeof handover.finished_at - 1);
    char frame[1 + sizeof handover];
    frame[0] = static_cast<char>(FrameKind::exit_handover);
    std::memcpy(frame + 1, &handover, sizeof handover);
    std::vector<int> fds = {options_.lock_fd};
    for (const auto& client : clients_) {
      if (&client != &*taker) fds.push_back(client.fd);
    }
    return engine::send_message(taker->fd, frame, sizeof frame, fds);
  }

  const SupervisorOptions& options_;
  engine::ContainerLogWriter log_;
  int stdin_fd_;
  int out_fd_ = options_.stdout_fd;
  int err_fd_ = options_.stderr_fd;
  int pty_fd_ = options_.pty_fd;
  int listen_fd_ = options_.listen_fd;
  bool stop_requested_ = false;
  std::vector<Client> clients_;
};

}  // namespace

int run_supervisor(const SupervisorOptions& options) {
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  return Supervisor(options).run();
}

}  // namespace mcore::supervisor
