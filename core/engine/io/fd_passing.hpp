#pragma once
// One message with descriptors riding along (SCM_RIGHTS) on a SOCK_SEQPACKET socket.
#include <sys/types.h>

#include <cstddef>
#include <span>
#include <vector>

#include "mcore/unique_fd.hpp"

namespace mcore::engine {

// Sends `size` bytes and, when `fd` >= 0, a copy of `fd`. Returns false when the peer is gone.
bool send_message(int socket, const void* data, std::size_t size, int fd = -1);

// The most descriptors one message carries (the kernel's SCM_MAX_FD is 253).
inline constexpr std::size_t kMaxPassedFds = 64;

// Sends `size` bytes with copies of `fds` (at most kMaxPassedFds). Returns false when the peer is gone.
bool send_message(int socket, const void* data, std::size_t size, std::span<const int> fds);

// Receives one message into `buffer` (close-on-exec for a passed descriptor, which lands in
// `passed`; any more are closed). Allocates nothing, so a cloned child may call it. On a socket with
// SO_PASSCRED, `sender` gets the sending process's PID as this process's PID namespace sees it (0 when none
// came). Returns the message's size, 0 at end of file, -1 on error (errno set; EINTR retried).
ssize_t receive_message(int socket, void* buffer, std::size_t size, UniqueFd* passed = nullptr,
                        pid_t* sender = nullptr);

// As above, keeping every passed descriptor (at most kMaxPassedFds), in the order they were sent.
ssize_t receive_message(int socket, void* buffer, std::size_t size, std::vector<UniqueFd>& passed);

}  // namespace mcore::engine
