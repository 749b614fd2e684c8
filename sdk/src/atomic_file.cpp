#include "mcore/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "mcore/error.hpp"
#include "mcore/fd_io.hpp"
#include "mcore/unique_fd.hpp"

namespace mcore {
namespace {

// Removes a temporary file unless it was renamed into place.
class TempFileGuard {
 public:
  explicit TempFileGuard(std::string path) : path_(std::move(path)) {}
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;
  ~TempFileGuard() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  void commit() { path_.clear(); }

 private:
  std::string path_;
};

}  // namespace

std::string atomic_write_temp_template(const std::filesystem::path& path) {
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  return (dir / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
}

bool is_atomic_write_leftover(std::string_view file_name) {
  const auto marker = file_name.rfind(".tmp-");
  return file_name.starts_with('.') && marker != std::string_view::npos && marker > 1 &&
         file_name.size() == marker + 5 + 6;
}

std::vector<RemovedLeftover> remove_atomic_write_leftovers(const std::filesystem::path& dir) {
  std::vector<RemovedLeftover> removed;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    if (!is_atomic_write_leftover(entry.path().filename().string())) continue;
    std::error_code size_error;
    const auto size = std::filesystem::file_size(entry.path(), size_error);
    if (::unlink(entry.path().c_str()) == 0) removed.push_back({entry.path(), size_error ? 0 : size});
  }
  return removed;
}

void write_file_atomic(const std::filesystem::path& path, std::string_view content,
                       const AtomicWriteOptions& options) {
  const std::string what = "write " + path.string();
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  std::string temp = atomic_write_temp_template(path);
  UniqueFd fd(::mkostemp(temp.data(), O_CLOEXEC));
  if (!fd) throw Error::from_errno(what + ": create temporary file in " + dir.string());
  TempFileGuard guard(temp);
  if (::fchmod(fd.get(), options.mode) != 0) throw Error::from_errno(what + ": chmod " + temp);
  struct stat existing {};
  if (options.keep_owner && ::stat(path.c_str(), &existing) == 0 &&
      (existing.st_uid != ::geteuid() || existing.st_gid != ::getegid()) &&
      ::fchown(fd.get(), existing.st_uid, existing.st_gid) != 0) {
    // Not permitted: the file becomes the caller's, as any rewrite by the caller would.
  }
  if (!write_all(fd.get(), content)) throw Error::from_errno(what + ": write " + temp);
  if (options.sync_file && ::fsync(fd.get()) != 0) throw Error::from_errno(what + ": fsync " + temp);
  // close() can report a deferred write error (NFS); check it before the rename publishes the file.
  if (::close(fd.release()) != 0) throw Error::from_errno(what + ": close " + temp);
  if (::rename(temp.c_str(), path.c_str()) != 0) throw Error::from_errno(what + ": rename " + temp);
  guard.commit();
  if (options.sync_directory) {
    if (UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)); dir_fd) ::fsync(dir_fd.get());
  }
}

}  // namespace mcore
