#include "overlay_driver.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <string_view>
#include <system_error>
#include <utility>

#include "mcore/config_section.hpp"
#include "mcore/error.hpp"

namespace mcore::overlay {
namespace fs = std::filesystem;

namespace {

class UniqueFd {
 public:
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

struct DirCloser {
  void operator()(DIR* dir) const noexcept { ::closedir(dir); }
};
using UniqueDir = std::unique_ptr<DIR, DirCloser>;

void check_container_id(const std::string& id) {
  const bool plain = !id.empty() && id != "." && id != ".." &&
                     id.find_first_of(std::string_view("/\0", 2)) == std::string::npos;
  if (!plain) {
    throw Error("invalid container id \"" + id + "\"", 0,
                "a container id must be a plain name: not empty, without '/', not '.' or '..'");
  }
}

// overlay's option parser splits on ',' (options) and ':' (lower layers) and treats '\' as an escape.
// Kernels differ in how much escaping they honour, so such paths are refused rather than escaped.
void check_option_path(const fs::path& path, const std::string& what) {
  const auto pos = path.native().find_first_of(",:\\");
  if (pos == std::string::npos) return;
  throw Error(what + " " + path.string() + " contains '" + path.native()[pos] +
                  "', which overlay mount options cannot carry",
              0, "rename or move it to a path without ',', ':' or '\\'");
}

// Turns the stack into overlay's option string: the one place that knows its syntax. mount(2) copies a
// single page of options, which a few dozen long layer paths exceed; when images need more, switch this
// to short names relative to the layer store or to fsconfig(FSCONFIG_SET_STRING, "lowerdir+") (Linux 6.8).
std::string overlay_options(const std::vector<fs::path>& lowers_topmost_first, const fs::path& upper,
                            const fs::path& work, const std::vector<std::string>& extra_options) {
  std::string data = "lowerdir=";
  for (std::size_t i = 0; i < lowers_topmost_first.size(); ++i) {
    check_option_path(lowers_topmost_first[i], "lower directory");
    if (i != 0) data += ':';
    data += lowers_topmost_first[i].native();
  }
  check_option_path(upper, "upper directory");
  check_option_path(work, "work directory");
  data += ",upperdir=" + upper.native() + ",workdir=" + work.native();
  for (const auto& option : extra_options) data += ',' + option;

  const auto limit = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)) - 1;  // the page ends with NUL
  if (data.size() > limit) {
    throw Error("overlay options for " + std::to_string(lowers_topmost_first.size()) +
                    " lower directories take " + std::to_string(data.size()) + " bytes, more than the " +
                    std::to_string(limit) + " bytes mount(2) accepts",
                0, "use an image with fewer layers or shorter --rootfs paths");
  }
  return data;
}

void check_external_lower(const fs::path& path) {
  if (!path.is_absolute()) {
    throw Error("rootfs " + path.string() + " is not an absolute path", 0,
                "pass an absolute directory as the container's root filesystem");
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT) {
      throw Error("rootfs " + path.string() + " does not exist", 0,
                  "check the directory given as the container's root filesystem (--rootfs)");
    }
    throw Error("rootfs " + path.string(), err, "check the directory and its parents' permissions");
  }
  if (!S_ISDIR(st.st_mode)) {
    throw Error("rootfs " + path.string() + " is not a directory", 0,
                "give a directory holding the container's root filesystem (--rootfs)");
  }
}

// mkdir with an exact mode (the umask would change it). An existing directory is fine, so a second
// prepare keeps its content. Returns false when the parent is missing.
bool make_dir(const fs::path& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) == 0) {
    if (::chmod(path.c_str(), mode) != 0) throw Error::from_errno("chmod " + path.string());
    return true;
  }
  const int err = errno;
  if (err == ENOENT) return false;
  if (err != EEXIST) throw Error("create directory " + path.string(), err);
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) throw Error::from_errno("stat " + path.string());
  if (!S_ISDIR(st.st_mode)) {
    throw Error(path.string() + " exists and is not a directory", 0,
                "remove it; the overlay storage driver owns everything below its root");
  }
  return true;
}

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

OverlayStorageDriver::OverlayStorageDriver(const HostContext& context)
    : logger_(context.logger ? context.logger->clone("overlay")
                             : std::make_shared<spdlog::logger>("overlay")) {
  ConfigSection config(context.config, context.config_path.empty() ? "storage" : context.config_path);
  const auto root = config.get_string("root");
  auto options = config.get_string_list("mount_options");
  config.reject_unknown_keys();

  if (root) {
    root_ = *root;
    if (!root_.is_absolute()) {
      throw Error(config.key_path("root") + ": \"" + *root + "\" is not an absolute path", 0,
                  "set " + config.key_path("root") + " to an absolute directory");
    }
  } else {
    if (!context.data_root.is_absolute()) {
      throw Error("overlay storage driver: the data root \"" + context.data_root.string() +
                      "\" is not absolute",
                  0, "set data_root to an absolute directory in the config file");
    }
    root_ = context.data_root / "storage" / "overlay";
  }
  try {
    check_option_path(root_, "storage root");
  } catch (Error& error) {
    error.add_context(config.key_path("root")).set_hint("choose a " + config.key_path("root") +
                                                         " without ',', ':' or '\\'");
    throw;
  }

  if (options) {
    // The driver owns the layer options; anything else (metacopy=on, volatile, ...) passes through.
    constexpr std::array<std::string_view, 5> kOwned = {"lowerdir", "lowerdir+", "upperdir", "workdir",
                                                        "datadir+"};
    for (std::size_t i = 0; i < options->size(); ++i) {
      const std::string& option = (*options)[i];
      const std::string key_path = config.key_path("mount_options") + "[" + std::to_string(i) + "]";
      if (option.empty() || option.find(',') != std::string::npos) {
        throw Error(key_path + ": \"" + option + "\" is not one overlay mount option", 0,
                    "give each option as its own list item, e.g. [\"metacopy=on\", \"volatile\"]");
      }
      const std::string_view key = std::string_view(option).substr(0, option.find('='));
      if (std::find(kOwned.begin(), kOwned.end(), key) != kOwned.end()) {
        throw Error(key_path + ": " + std::string(key) + " is set by the overlay storage driver", 0,
                    "remove it from " + config.key_path("mount_options"));
      }
    }
    mount_options_ = std::move(*options);
  }
}

fs::path OverlayStorageDriver::layer_dir(const std::string& layer_id) const {
  return root_ / "layers" / layer_id / "diff";
}

std::vector<fs::path> OverlayStorageDriver::lower_dirs(const RootfsRequest& request) const {
  if (request.layers.empty() && request.external_lowers.empty()) {
    throw Error("container " + request.container_id + " has neither image layers nor a root filesystem", 0,
                "give an image or a root filesystem directory (--rootfs)");
  }
  std::vector<fs::path> lowers;
  lowers.reserve(request.layers.size() + request.external_lowers.size());
  // Request lists run lowest first and external lowers sit above the layers; overlay wants the top first.
  for (auto it = request.external_lowers.rbegin(); it != request.external_lowers.rend(); ++it) {
    check_external_lower(*it);
    lowers.push_back(*it);
  }
  for (auto it = request.layers.rbegin(); it != request.layers.rend(); ++it) {
    if (!has_layer(*it)) {
      throw Error("layer " + *it + " is not in the overlay layer store", 0, "pull the image again");
    }
    lowers.push_back(layer_dir(*it));
  }
  return lowers;
}

RootfsPlan OverlayStorageDriver::prepare_rootfs(const RootfsRequest& request) {
  check_container_id(request.container_id);
  const fs::path dir = containers_dir() / request.container_id;
  RootfsPlan plan;
  plan.rootfs = dir / "merged";
  plan.upper_dir = dir / "upper";
  const fs::path work = dir / "work";
  // Validate everything before the first mkdir, so a refused request leaves nothing behind.
  MountSpec mount;
  mount.source = "overlay";
  mount.target = plan.rootfs;
  mount.fstype = "overlay";
  mount.data = overlay_options(lower_dirs(request), plan.upper_dir, work, mount_options_);

  // The container directory (0700) is what keeps other users out of the writable layer.
  if (!make_dir(dir, S_IRWXU)) {
    std::error_code ec;
    fs::create_directories(root_.parent_path(), ec);
    if (ec) throw Error("create directory " + root_.parent_path().string(), ec.value());
    make_dir(root_, S_IRWXU);
    make_dir(containers_dir(), S_IRWXU);
    if (!make_dir(dir, S_IRWXU)) throw Error("create directory " + dir.string(), ENOENT);
  }
  // The upper directory's mode is the container's "/" mode: overlay shows the upper root's attributes.
  make_dir(plan.upper_dir, 0755);
  make_dir(work, S_IRWXU);
  make_dir(plan.rootfs, 0755);

  plan.mounts.push_back(std::move(mount));
  logger_->debug("prepared rootfs of {}: {}", request.container_id, plan.mounts.back().data);
  return plan;
}

void OverlayStorageDriver::release_rootfs(const std::string& container_id) {
  check_container_id(container_id);
  const fs::path dir = containers_dir() / container_id;
  const int containers_fd = ::open(containers_dir().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (containers_fd < 0) {
    if (errno == ENOENT) return;
    throw Error::from_errno("open " + containers_dir().string());
  }
  UniqueFd containers(containers_fd);
  const int fd = open_dir_at(containers.get(), container_id.c_str(), dir);
  if (fd < 0) {
    if (errno == ENOENT) return;
    // Not a directory: not something prepare_rootfs made, but it squats on the container's name.
    if (::unlinkat(containers.get(), container_id.c_str(), 0) != 0 && errno != ENOENT) {
      throw Error::from_errno("remove " + dir.string());
    }
    return;
  }
  UniqueFd container(fd);
  const struct statx container_stat = stat_dir(container.get(), dir);
  if (is_mount_point(container_stat, stat_dir(containers.get(), containers_dir()))) refuse_mount_point(dir);

  // Check the rootfs first so that a mounted container loses nothing, whatever order readdir returns.
  // Only this mount namespace is visible here; the engine mounts in the container's own namespace,
  // which is gone once the container is.
  const int merged_fd = open_dir_at(container.get(), "merged", dir / "merged");
  if (merged_fd >= 0) {
    UniqueFd merged(merged_fd);
    if (is_mount_point(stat_dir(merged.get(), dir / "merged"), container_stat)) {
      refuse_mount_point(dir / "merged");
    }
  }

  TreeRemover(container.get(), container_stat, dir).empty_top();
  if (::unlinkat(containers.get(), container_id.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    throw Error::from_errno("remove " + dir.string());
  }
  logger_->debug("released rootfs of {}", container_id);
}

std::vector<std::string> OverlayStorageDriver::list_rootfs() const {
  std::vector<std::string> ids;
  std::error_code ec;
  fs::directory_iterator it(containers_dir(), ec);
  if (ec == std::errc::no_such_file_or_directory) return ids;
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const auto status = it->symlink_status(ec);
    if (ec) break;
    if (fs::is_directory(status)) ids.push_back(it->path().filename().string());
  }
  if (ec) throw Error("list " + containers_dir().string(), ec.value());
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace mcore::overlay
