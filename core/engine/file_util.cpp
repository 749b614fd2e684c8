#include "engine/file_util.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "mcore/error.hpp"

namespace mcore::engine {

std::string read_file(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw Error::from_errno("open " + path.string());
  // No fstat size: files under /proc and /sys report 0 and must be read to EOF.
  std::string content;
  char buffer[8192];
  for (;;) {
    const ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw Error::from_errno("read " + path.string());
    }
    if (got == 0) break;
    content.append(buffer, static_cast<std::size_t>(got));
  }
  return content;
}

void write_knob(const std::filesystem::path& path, std::string_view content) {
  // Kernel knobs often take "value\n"; the newline only clutters the message.
  std::string_view shown = content;
  while (!shown.empty() && shown.back() == '\n') shown.remove_suffix(1);
  const std::string what = "write " + std::string(shown) + " to " + path.string();

  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) throw Error::from_errno(what);
  // One write(2): the kernel parses each write as a whole value, so it must not be split.
  ssize_t written;
  do {
    written = ::write(fd.get(), content.data(), content.size());
  } while (written < 0 && errno == EINTR);
  if (written < 0) throw Error::from_errno(what);
  if (static_cast<std::size_t>(written) != content.size()) {
    throw Error(what + ": short write (" + std::to_string(written) + " of " + std::to_string(content.size()) +
                " bytes)");
  }
}

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
