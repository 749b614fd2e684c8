#pragma once
// Small file helpers every part of the engine uses: private directories and locks. Whole-file reads
// and knob writes (mcore/fd_io.hpp) and crash-safe writes (mcore/atomic_file.hpp) are the SDK's,
// shared with the drivers.
#include <filesystem>
#include <string>
#include <string_view>

#include "mcore/atomic_file.hpp"
#include "mcore/fd_io.hpp"
#include "mcore/unique_fd.hpp"

namespace mcore::engine {

// Creates `dir` (missing parents 0755) as a private directory, mode 0700. One that exists is narrowed to
// 0700 when found wider, and refused when another user owns it (that user could swap what mcore keeps
// there). Throws Error naming the path.
void ensure_private_directory(const std::filesystem::path& dir);

// A flock(2) on `path` (created if missing), held until destruction: exclusive, or shared with other
// shared holders.
class FileLock {
 public:
  enum class Mode { exclusive, shared };
  explicit FileLock(const std::filesystem::path& path, Mode mode = Mode::exclusive);
  // An exclusive lock on an existing file or directory, never creating one; holds nothing when `path`
  // does not exist.
  static FileLock on_existing(const std::filesystem::path& path);
  FileLock(FileLock&&) noexcept = default;
  FileLock& operator=(FileLock&&) noexcept = default;
  // Unlocks early (idempotent).
  void release() { fd_.reset(); }

 private:
  FileLock() = default;
  FileLock(UniqueFd fd, const std::filesystem::path& path, Mode mode);
  UniqueFd fd_;
};

}  // namespace mcore::engine
