#include "engine/io/fd_passing.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace mcore::engine {

namespace {

// Room for kMaxPassedFds descriptors and the sender's credentials.
constexpr std::size_t kControlSpace = CMSG_SPACE(sizeof(int) * kMaxPassedFds) + CMSG_SPACE(sizeof(ucred));

// What one message passed: descriptors in a fixed array, so that a receive allocates nothing (the
// container's init receives its root this way between clone and execve).
struct Passed {
  int fds[kMaxPassedFds];
  std::size_t count = 0;
};

ssize_t receive(int socket, void* buffer, std::size_t size, Passed& passed, pid_t* sender) {
  iovec payload{buffer, size};
  alignas(cmsghdr) char control[kControlSpace] = {};
  msghdr header{};
  header.msg_iov = &payload;
  header.msg_iovlen = 1;
  header.msg_control = control;
  header.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(socket, &header, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (sender != nullptr) *sender = 0;
  if (n <= 0) return n;
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&header); cmsg != nullptr; cmsg = CMSG_NXTHDR(&header, cmsg)) {
    if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_CREDENTIALS && sender != nullptr) {
      ucred credentials{};
      std::memcpy(&credentials, CMSG_DATA(cmsg), sizeof credentials);
      *sender = credentials.pid;
    }
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count && passed.count < kMaxPassedFds; ++i) {
      std::memcpy(&passed.fds[passed.count++], CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
    }
  }
  return n;
}

}  // namespace

bool send_message(int socket, const void* data, std::size_t size, std::span<const int> fds) {
  if (fds.size() > kMaxPassedFds) {
    errno = EINVAL;
    return false;
  }
  iovec payload{const_cast<void*>(data), size};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)] = {};
  msghdr header{};
  header.msg_iov = &payload;
  header.msg_iovlen = 1;
  if (!fds.empty()) {
    header.msg_control = control;
    header.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* cmsg = CMSG_FIRSTHDR(&header);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t n;
  do {
    n = ::sendmsg(socket, &header, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(size);
}

bool send_message(int socket, const void* data, std::size_t size, int fd) {
  if (fd < 0) return send_message(socket, data, size, std::span<const int>());
  return send_message(socket, data, size, std::span<const int>(&fd, 1));
}

ssize_t receive_message(int socket, void* buffer, std::size_t size, UniqueFd* passed, pid_t* sender) {
  Passed fds;
  const ssize_t n = receive(socket, buffer, size, fds, sender);
  // One descriptor is expected: any others are closed here.
  for (std::size_t i = 0; i < fds.count; ++i) {
    UniqueFd fd(fds.fds[i]);
    if (i == 0 && passed != nullptr) *passed = std::move(fd);
  }
  return n;
}

ssize_t receive_message(int socket, void* buffer, std::size_t size, std::vector<UniqueFd>& passed) {
  Passed fds;
  const ssize_t n = receive(socket, buffer, size, fds, nullptr);
  for (std::size_t i = 0; i < fds.count; ++i) passed.emplace_back(fds.fds[i]);
  return n;
}

}  // namespace mcore::engine
