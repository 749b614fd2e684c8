#include "engine/util/file_util.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "mcore/error.hpp"

namespace mcore::engine {

void ensure_private_directory(const std::filesystem::path& dir) {
  // Created 0700: the umask can only narrow it further.
  if (::mkdir(dir.c_str(), 0700) == 0) return;
  if (errno == ENOENT) {
    std::error_code error;
    std::filesystem::create_directories(dir.parent_path(), error);
    if (error) throw Error("create " + dir.parent_path().string(), error.value());
    if (::mkdir(dir.c_str(), 0700) == 0) return;
  }
  if (errno != EEXIST) throw Error::from_errno("create " + dir.string());
  struct stat status {};
  if (::stat(dir.c_str(), &status) != 0) throw Error::from_errno("stat " + dir.string());
  if (!S_ISDIR(status.st_mode)) throw Error(dir.string() + " is not a directory", ENOTDIR, "move it out of mcore's way");
  if (status.st_uid != ::geteuid()) {
    throw Error(dir.string() + " belongs to uid " + std::to_string(status.st_uid) + ", not to mcore's user", EPERM,
                "whoever owns it can change what mcore keeps there: chown " + std::to_string(::geteuid()) + " " +
                    dir.string());
  }
  if ((status.st_mode & 077) != 0 && ::chmod(dir.c_str(), 0700) != 0) {
    throw Error::from_errno("make " + dir.string() + " private (chmod 0700)");
  }
}

FileLock::FileLock(const std::filesystem::path& path, Mode mode)
    : FileLock(UniqueFd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)), path, mode) {}

FileLock FileLock::on_existing(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd && errno == ENOENT) return FileLock();
  return FileLock(std::move(fd), path, Mode::exclusive);
}

FileLock::FileLock(UniqueFd fd, const std::filesystem::path& path, Mode mode) : fd_(std::move(fd)) {
  if (!fd_) throw Error::from_errno("open lock file " + path.string());
  int result;
  do {
    result = ::flock(fd_.get(), mode == Mode::shared ? LOCK_SH : LOCK_EX);
  } while (result != 0 && errno == EINTR);
  if (result != 0) throw Error::from_errno("lock " + path.string());
}

}  // namespace mcore::engine
