#include "engine/io/supervisor_client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "engine/io/fd_passing.hpp"
#include "engine/io/supervisor_protocol.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {

std::optional<SupervisorClient> SupervisorClient::connect(const ContainerRuntimePaths& paths) {
  UniqueFd dir(::open(paths.dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return std::nullopt;
  UniqueFd socket(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!socket) throw Error::from_errno("create a socket");
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  // The same short path the launcher bound through (container_launch.cpp).
  const std::string path = "/proc/self/fd/" + std::to_string(dir.get()) + "/supervisor.sock";
  path.copy(address.sun_path, sizeof address.sun_path - 1);
  int result;
  do {
    result = ::connect(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
  } while (result != 0 && errno == EINTR);
  if (result != 0) return std::nullopt;
  return SupervisorClient(std::move(socket));
}

UniqueFd SupervisorClient::init_pidfd() {
  const char request = static_cast<char>(FrameKind::want_pidfd);
  char reply[kMaxFrame];
  UniqueFd pidfd;
  if (send_message(socket_.get(), &request, 1)) {
    for (;;) {
      ssize_t n = receive_message(socket_.get(), reply, sizeof reply, &pidfd);
      if (n <= 0) break;
      if (reply[0] == static_cast<char>(FrameKind::pidfd) && pidfd) return pidfd;
    }
  }
  throw Error("the container's supervisor did not hand over the container's process", 0,
              "the container has probably just exited; check `mcore ps -a`");
}

bool SupervisorClient::mark_stop_requested() {
  const char request = static_cast<char>(FrameKind::stop_requested);
  return send_message(socket_.get(), &request, 1);
}

std::optional<std::uint64_t> SupervisorClient::log_failures() {
  const char request = static_cast<char>(FrameKind::want_log_failures);
  if (!send_message(socket_.get(), &request, 1)) return std::nullopt;
  char reply[kMaxFrame];
  for (;;) {
    const ssize_t n = receive_message(socket_.get(), reply, sizeof reply);
    if (n <= 0) return std::nullopt;
    if (reply[0] == static_cast<char>(FrameKind::log_failures) && n == 1 + static_cast<ssize_t>(sizeof(std::uint64_t))) {
      std::uint64_t count;
      std::memcpy(&count, reply + 1, sizeof count);
      return count;
    }
  }
}

bool SupervisorClient::wait_closed(std::optional<std::chrono::milliseconds> timeout) {
  const auto deadline = timeout ? std::chrono::steady_clock::now() + *timeout : std::chrono::steady_clock::time_point::max();
  char frame[kMaxFrame];
  for (;;) {
    int wait_ms = -1;
    if (timeout) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      wait_ms = static_cast<int>(left.count());
    }
    pollfd ready{socket_.get(), POLLIN, 0};
    int n = ::poll(&ready, 1, wait_ms);
    if (n < 0 && errno != EINTR) throw Error::from_errno("wait for the container's supervisor");
    if (n <= 0) continue;
    if (receive_message(socket_.get(), frame, sizeof frame) <= 0) return true;
  }
}

std::optional<int> SupervisorClient::wait_exit_code() {
  const char request = static_cast<char>(FrameKind::attach);
  if (!send_message(socket_.get(), &request, 1)) return std::nullopt;
  std::optional<int> code;
  char frame[kMaxFrame];
  for (;;) {
    ssize_t n = receive_message(socket_.get(), frame, sizeof frame);
    if (n <= 0) return code;
    if (frame[0] == static_cast<char>(FrameKind::exited) && n == 1 + static_cast<ssize_t>(sizeof(std::int32_t))) {
      std::int32_t value;
      std::memcpy(&value, frame + 1, sizeof value);
      code = value;
    }
  }
}

UniqueFd open_init_pidfd(const Config& config, const ContainerRecord& record) {
  auto client = SupervisorClient::connect(runtime_paths(config, record.id));
  if (!client) {
    throw Error("container " + record.name + " is not running", 0, "start it with `mcore start " + record.name + "`");
  }
  return client->init_pidfd();
}

}  // namespace mcore::engine
