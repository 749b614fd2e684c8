#pragma once
// Raw descriptor I/O that every writer of files and pipes needs, in the engine and in drivers.
#include <string_view>

namespace mcore {

// Writes all of `bytes` to `fd`, retrying short writes and EINTR. False with errno set on failure.
bool write_all(int fd, std::string_view bytes) noexcept;

}  // namespace mcore
