#include "engine/init/copy_up.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace mcore::engine {
namespace {

// Deeper trees are refused rather than risking the init's stack.
constexpr int kMaxDepth = 64;

int copy_file(int from, int to, const char* name, const struct stat& status) noexcept {
  const int in = ::openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0) return errno;
  const int out = ::openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, status.st_mode & 07777);
  int error = out < 0 ? errno : 0;
  for (off_t left = status.st_size; error == 0 && left > 0;) {
    const ssize_t copied = ::sendfile(out, in, nullptr, static_cast<size_t>(left));
    if (copied < 0 && errno == EINTR) continue;
    if (copied <= 0) error = copied < 0 ? errno : 0;
    if (copied <= 0) break;
    left -= copied;
  }
  if (error == 0 && ::fchown(out, status.st_uid, status.st_gid) != 0) error = errno;
  if (error == 0 && ::fchmod(out, status.st_mode & 07777) != 0) error = errno;  // set-id bits, after chown
  if (out >= 0) ::close(out);
  ::close(in);
  return error;
}

int copy_entry(int from, int to, const char* name, int depth) noexcept;

int copy_directory(int from, int to, int depth) noexcept {
  if (depth > kMaxDepth) return ELOOP;
  // getdents64 on a descriptor of its own: the caller's stays usable.
  const int listing = ::openat(from, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (listing < 0) return errno;
  alignas(8) char buffer[4096];
  int error = 0;
  for (;;) {
    const long bytes = ::syscall(SYS_getdents64, listing, buffer, sizeof buffer);
    if (bytes <= 0) {
      if (bytes < 0) error = errno;
      break;
    }
    for (long at = 0; at < bytes && error == 0;) {
      const auto* entry = reinterpret_cast<const dirent64*>(buffer + at);
      at += entry->d_reclen;
      if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) continue;
      error = copy_entry(from, to, entry->d_name, depth);
    }
    if (error != 0) break;
  }
  ::close(listing);
  return error;
}

int copy_entry(int from, int to, const char* name, int depth) noexcept {
  struct stat status {};
  if (::fstatat(from, name, &status, AT_SYMLINK_NOFOLLOW) != 0) return errno;
  const mode_t permissions = status.st_mode & 07777;
  if (S_ISREG(status.st_mode)) return copy_file(from, to, name, status);
  if (S_ISLNK(status.st_mode)) {
    char target[PATH_MAX];
    const ssize_t length = ::readlinkat(from, name, target, sizeof target - 1);
    if (length < 0) return errno;
    target[length] = '\0';
    if (::symlinkat(target, to, name) != 0) return errno;
    return ::fchownat(to, name, status.st_uid, status.st_gid, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno;
  }
  if (S_ISDIR(status.st_mode)) {
    if (::mkdirat(to, name, 0700) != 0) return errno;
    const int source = ::openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    const int target = ::openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int error = source < 0 || target < 0 ? errno : copy_directory(source, target, depth + 1);
    if (error == 0 && ::fchown(target, status.st_uid, status.st_gid) != 0) error = errno;
    if (error == 0 && ::fchmod(target, permissions) != 0) error = errno;
    if (source >= 0) ::close(source);
    if (target >= 0) ::close(target);
    return error;
  }
  if (S_ISCHR(status.st_mode) || S_ISBLK(status.st_mode) || S_ISFIFO(status.st_mode) || S_ISSOCK(status.st_mode)) {
    if (::mknodat(to, name, status.st_mode, status.st_rdev) != 0) return errno;
    return ::fchownat(to, name, status.st_uid, status.st_gid, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno;
  }
  return 0;
}

}  // namespace

int copy_tree(int from, int to) noexcept { return copy_directory(from, to, 0); }

}  // namespace mcore::engine
