#pragma once
// Small file helpers every part of the engine uses: whole-file reads, crash-safe writes, and locks.
#include <filesystem>
#include <string>
#include <string_view>

#include "engine/unique_fd.hpp"

namespace mcore::engine {

// Reads a whole file; throws Error naming the path.
std::string read_file(const std::filesystem::path& path);

// Writes `content` to a temporary file beside `path`, fsyncs it and renames it over `path`, so a crash
// leaves either the old or the new file, never a torn one. Throws Error naming the path.
void write_file_atomic(const std::filesystem::path& path, std::string_view content, int mode = 0644);

// Writes `content` to an existing file (a cgroup or proc knob) in one write(2). Throws Error naming the
// path and the value.
void write_knob(const std::filesystem::path& path, std::string_view content);

// A flock(2) on `path` (created if missing), held until destruction: exclusive, or shared with other
// shared holders.
class FileLock {
 public:
  enum class Mode { exclusive, shared };
  explicit FileLock(const std::filesystem::path& path, Mode mode = Mode::exclusive);
  FileLock(FileLock&&) noexcept = default;
  FileLock& operator=(FileLock&&) noexcept = default;

 private:
  UniqueFd fd_;
};

}  // namespace mcore::engine
