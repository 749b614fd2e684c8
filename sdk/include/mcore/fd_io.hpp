#pragma once
// Raw descriptor and file I/O that the engine and drivers alike need: one copy of each loop, so that
// EINTR, short writes and /proc's size-0 files are handled the same everywhere.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "mcore/unique_fd.hpp"

namespace mcore {

// Writes all of `bytes` to `fd`, retrying short writes and EINTR. False with errno set on failure.
bool write_all(int fd, std::string_view bytes) noexcept;

// Reads `fd` to its end (a pipe until every writer closed it), retrying EINTR. Throws Error naming
// `what` on a read error.
std::string read_to_end(int fd, const std::string& what);

// An anonymous memory file (memfd) holding `bytes`, positioned at its start: input of any size for
// another process, without a pipe that could fill up. Throws Error naming `name`.
UniqueFd memory_file(const char* name, std::string_view bytes);

// Reads a whole file, /proc and /sys ones included (they report size 0). Throws Error naming the path.
std::string read_file(const std::filesystem::path& path);

// The same, or nullopt when the file does not exist. Throws Error on any other failure.
std::optional<std::string> read_file_if_exists(const std::filesystem::path& path);

// Writes `content` to an existing kernel file (a cgroup, proc or sys knob) in one write(2): the kernel
// parses each write as one value, so it must not be split. Throws Error naming the path and the value.
void write_knob(const std::filesystem::path& path, std::string_view content);

}  // namespace mcore
