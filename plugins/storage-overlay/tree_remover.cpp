#include "tree_remover.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "mcore/error.hpp"

namespace mcore::overlay {
namespace fs = std::filesystem;

namespace {

struct DirCloser {
  void operator()(DIR* dir) const noexcept { ::closedir(dir); }
};
using UniqueDir = std::unique_ptr<DIR, DirCloser>;

}  // namespace

// A directory's stx_dev and mount-root attribute, without following a symlink.
struct statx stat_dir(int fd, const fs::path& shown) {
  struct statx stx {};
  if (::statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_MODE, &stx) != 0) {
    throw Error::from_errno("stat " + shown.string());
  }
  return stx;
}

bool is_mount_point(const struct statx& stx, const struct statx& parent) {
  // STATX_ATTR_MOUNT_ROOT (Linux 5.8) also catches bind mounts of the same file system; the device
  // check covers older kernels, where overlay and tmpfs mounts still show a device of their own.
  if ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0 &&
      (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0) {
    return true;
  }
  return stx.stx_dev_major != parent.stx_dev_major || stx.stx_dev_minor != parent.stx_dev_minor;
}

[[noreturn]] void refuse_mount_point(const fs::path& shown) {
  throw Error("refusing to delete " + shown.string() + ": it is a mount point", EBUSY,
              "stop the container or unmount " + shown.string() + ", then remove it again");
}

// Opens a directory entry without following symlinks. Returns -1 with errno ENOTDIR or ELOOP when the
// entry is not a directory. A directory we may not read (overlay's mode-000 work/work when not root) is
// made ours first: everything below is about to be deleted anyway.
int open_dir_at(int parent_fd, const char* name, const fs::path& shown) {
  constexpr int kFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  int fd = ::openat(parent_fd, name, kFlags);
  if (fd < 0 && errno == EACCES) {
    if (::fchmodat(parent_fd, name, S_IRWXU, AT_SYMLINK_NOFOLLOW) != 0) {
      throw Error::from_errno("chmod " + shown.string() + " for removal");
    }
    fd = ::openat(parent_fd, name, kFlags);
  }
  if (fd < 0 && errno != ENOTDIR && errno != ELOOP && errno != ENOENT) {
    throw Error::from_errno("open " + shown.string());
  }
  return fd;
}

namespace {

// Deletes a directory tree through file descriptors: never follows a symlink, never crosses into a
// mount. Each level holds two descriptors, so directories deeper than kMaxDepth are moved up to the top
// and deleted from there: a container cannot make its storage undeletable with a very deep tree.
class TreeRemover {
 public:
  TreeRemover(int top_fd, struct statx top_stat, fs::path top_path)
      : top_fd_(top_fd), top_stat_(top_stat), top_path_(std::move(top_path)) {}

  void empty_top() { empty_dir(top_fd_, top_stat_, top_path_, 0); }

 private:
  static constexpr int kMaxDepth = 64;

  void empty_dir(int dir_fd, const struct statx& dir_stat, const fs::path& shown, int depth) {
    const int read_fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (read_fd < 0) throw Error::from_errno("open " + shown.string());
    UniqueDir dir(::fdopendir(read_fd));
    if (!dir) {
      const int err = errno;
      ::close(read_fd);
      throw Error("read directory " + shown.string(), err);
    }
    // Read a batch of names, delete them, start over: removing entries while readdir walks the same
    // directory may skip others.
    std::vector<std::pair<std::string, unsigned char>> batch;
    do {
      batch.clear();
      ::rewinddir(dir.get());
      errno = 0;
      while (batch.size() < 1024) {
        const dirent* entry = ::readdir(dir.get());
        if (entry == nullptr) {
          if (errno != 0) throw Error::from_errno("read directory " + shown.string());
          break;
        }
        const std::string_view name = entry->d_name;
        if (name == "." || name == "..") continue;
        batch.emplace_back(name, entry->d_type);
      }
      for (const auto& [name, type] : batch) remove_entry(dir_fd, dir_stat, name, type, shown, depth);
    } while (!batch.empty());
  }

  void remove_entry(int dir_fd, const struct statx& dir_stat, const std::string& name, unsigned char type,
                    const fs::path& shown_dir, int depth) {
    const fs::path shown = shown_dir / name;
    if (type == DT_DIR || type == DT_UNKNOWN) {
      const int fd = open_dir_at(dir_fd, name.c_str(), shown);
      if (fd >= 0) {
        UniqueFd child(fd);
        struct statx child_stat = stat_dir(child.get(), shown);
        if (is_mount_point(child_stat, dir_stat)) refuse_mount_point(shown);
        if (depth >= kMaxDepth) {
          move_to_top(dir_fd, name, shown);
          return;
        }
        // Deleting entries needs write and search permission on their directory (root has both).
        if ((child_stat.stx_mode & (S_IWUSR | S_IXUSR)) != (S_IWUSR | S_IXUSR) &&
            ::fchmod(child.get(), S_IRWXU) != 0) {
          throw Error::from_errno("chmod " + shown.string() + " for removal");
        }
        empty_dir(child.get(), child_stat, shown, depth + 1);
        if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
          throw Error::from_errno("remove " + shown.string());
        }
        return;
      }
      if (errno == ENOENT) return;
    }
    if (::unlinkat(dir_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
      throw Error::from_errno("remove " + shown.string());
    }
  }

  void move_to_top(int dir_fd, const std::string& name, const fs::path& shown) {
    // The top directory's batch loop finds the moved tree on its next pass.
    for (;;) {
      const std::string moved = ".deep-" + std::to_string(next_moved_++);
      if (::renameat2(dir_fd, name.c_str(), top_fd_, moved.c_str(), RENAME_NOREPLACE) == 0) return;
      if (errno != EEXIST) throw Error::from_errno("move " + shown.string() + " up for removal");
    }
  }

  int top_fd_;
  struct statx top_stat_;
  fs::path top_path_;
  unsigned long next_moved_ = 0;
};

}  // namespace

void empty_tree(int dir_fd, const fs::path& shown) {
  TreeRemover(dir_fd, stat_dir(dir_fd, shown), shown).empty_top();
}

void remove_tree_at(int parent_fd, const std::string& name, const fs::path& shown) {
  const int fd = open_dir_at(parent_fd, name.c_str(), shown);
  if (fd < 0) {
    if (errno == ENOENT) return;
    if (::unlinkat(parent_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
      throw Error::from_errno("remove " + shown.string());
    }
    return;
  }
  UniqueFd dir(fd);
  const struct statx dir_stat = stat_dir(dir.get(), shown);
  if (is_mount_point(dir_stat, stat_dir(parent_fd, shown.parent_path()))) refuse_mount_point(shown);
  TreeRemover(dir.get(), dir_stat, shown).empty_top();
  if (::unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    throw Error::from_errno("remove " + shown.string());
  }
}

}  // namespace mcore::overlay
