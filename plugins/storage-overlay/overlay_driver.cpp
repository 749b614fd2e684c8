#include "overlay_driver.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <string_view>
#include <system_error>
#include <utility>

#include "diff_writer.hpp"
#include "layer_paths.hpp"
#include "layer_unpacker.hpp"
#include "mcore/config_section.hpp"
#include "mcore/error.hpp"
#include "tree_remover.hpp"

namespace mcore::overlay {
namespace fs = std::filesystem;

namespace {

void check_container_id(const std::string& id) {
  const bool plain = !id.empty() && id != "." && id != ".." &&
                     id.find_first_of(std::string_view("/\0", 2)) == std::string::npos;
  if (!plain) {
    throw Error("invalid container id \"" + id + "\"", 0,
                "a container id must be a plain name: not empty, without '/', not '.' or '..'");
  }
}

// Beside each layer's diff/: its unpacked size in decimal bytes, so `mcore images` need not walk trees.
constexpr const char* kSizeFile = "size";

void write_size_file(int layer_dir_fd, std::uint64_t size, const fs::path& path) {
  const UniqueFd fd(::openat(layer_dir_fd, kSizeFile, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (fd.get() < 0) throw Error::from_errno("create " + path.string());
  const std::string text = std::to_string(size) + "\n";
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    throw Error::from_errno("write " + path.string());
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
// single page of options, so paths in the store are relative to the root (the mount's working
// directory): a layer takes 9 bytes ("l/<6 hex>:") whatever the root's length, and the page holds
// about 430 layers next to a 64-character container id (overlay itself stacks at most 500). Only
// external lowers (--rootfs) stay absolute. Beyond a page it would take fsconfig "lowerdir+" (Linux 6.8).
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

// Creates `dir`, a directory right below the store root (0700, like the root), and the root if needed.
void make_store_dir(const fs::path& root, const fs::path& dir) {
  if (make_dir(dir, S_IRWXU)) return;
  std::error_code ec;
  fs::create_directories(root.parent_path(), ec);
  if (ec) throw Error("create directory " + root.parent_path().string(), ec.value());
  make_dir(root, S_IRWXU);
  if (!make_dir(dir, S_IRWXU)) throw Error("create directory " + dir.string(), ENOENT);
}

UniqueFd open_store_dir(const fs::path& path) {
  return UniqueFd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

// Names of work directories below <root>/layers; they never look like a layer (64 hex digits).
std::string temporary_name(const char* purpose) {
  std::random_device random;
  const unsigned long long value = (static_cast<unsigned long long>(random()) << 32) | random();
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", value);
  return std::string("tmp-") + purpose + "-" + text;
}

// The shortest short link name tried first: collisions of 24-bit prefixes just take one digit more.
constexpr std::size_t kShortNameLength = 6;

std::string short_link_target(const std::string& hex) { return "../layers/" + hex + "/diff"; }

bool link_points_to(int links_fd, const std::string& name, const std::string& target) {
  std::array<char, 128> buffer{};
  const ssize_t n = ::readlinkat(links_fd, name.c_str(), buffer.data(), buffer.size());
  return n > 0 && std::string_view(buffer.data(), static_cast<std::size_t>(n)) == target;
}

// The name of layer `hex`'s short link, or "" when it has none.
std::string find_short_link(int links_fd, const std::string& hex) {
  const std::string target = short_link_target(hex);
  for (std::size_t length = kShortNameLength; length <= hex.size(); ++length) {
    if (link_points_to(links_fd, hex.substr(0, length), target)) return hex.substr(0, length);
  }
  return {};
}

// Deletes a work directory below <root>/layers unless dismissed: a failed apply leaves nothing.
class LayerWorkDir {
 public:
  LayerWorkDir(int layers_fd, std::string name, fs::path shown, spdlog::logger& logger)
      : layers_fd_(layers_fd), name_(std::move(name)), shown_(std::move(shown)), logger_(logger) {}
  LayerWorkDir(const LayerWorkDir&) = delete;
  LayerWorkDir& operator=(const LayerWorkDir&) = delete;
  ~LayerWorkDir() {
    if (name_.empty()) return;
    try {
      remove_tree_at(layers_fd_, name_, shown_);
    } catch (const Error& error) {
      logger_.warn("could not delete {}: {}", shown_.string(), error.what());
    }
  }
  void dismiss() { name_.clear(); }

 private:
  int layers_fd_;
  std::string name_;
  fs::path shown_;
  spdlog::logger& logger_;
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
  if (user_attributes_ &&
      std::find(mount_options_.begin(), mount_options_.end(), "userxattr") == mount_options_.end()) {
    mount_options_.push_back("userxattr");
  }
}

fs::path OverlayStorageDriver::layer_lower(const std::string& layer_id) const {
  const std::string hex = layer_hex(layer_id);
  const UniqueFd links = open_store_dir(links_dir());
  const std::string name = links.get() < 0 ? std::string() : find_short_link(links.get(), hex);
  return name.empty() ? fs::path("layers") / hex / "diff" : fs::path("l") / name;
}

std::string OverlayStorageDriver::make_short_link(const std::string& hex) const {
  make_store_dir(root_, links_dir());
  const UniqueFd links = open_store_dir(links_dir());
  if (links.get() < 0) throw Error::from_errno("open " + links_dir().string());
  const std::string target = short_link_target(hex);
  // The link dangles until the layer is renamed into place; a link left by a crash is simply reused.
  for (std::size_t length = kShortNameLength; length <= hex.size(); ++length) {
    const std::string name = hex.substr(0, length);
    if (::symlinkat(target.c_str(), links.get(), name.c_str()) == 0) return name;
    if (errno != EEXIST) throw Error::from_errno("create " + (links_dir() / name).string());
    if (link_points_to(links.get(), name, target)) return name;
  }
  throw Error("no short link name is free for layer " + hex, EEXIST,
              "remove stale links from " + links_dir().string());
}

std::optional<LayerInfo> OverlayStorageDriver::find_layer(const std::string& layer_id) const {
  if (!is_layer_id(layer_id)) return std::nullopt;  // apply_layer never stored one
  const fs::path layer = layers_dir() / layer_hex(layer_id);
  struct stat st {};
  if (::lstat((layer / "diff").c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    throw Error::from_errno("stat " + (layer / "diff").string());
  }
  if (!S_ISDIR(st.st_mode)) return std::nullopt;
  LayerInfo info{.id = layer_id};
  std::ifstream size_file(layer / kSizeFile);
  size_file >> info.size_bytes;  // stays 0 when unreadable: the size is for display only
  return info;
}

std::vector<LayerInfo> OverlayStorageDriver::list_layers() const {
  std::vector<LayerInfo> layers;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(layers_dir(), error)) {
    // Work directories of applies and removals in progress have other names, so they are skipped.
    if (auto layer = find_layer("sha256:" + entry.path().filename().string())) layers.push_back(std::move(*layer));
  }
  if (error && error != std::errc::no_such_file_or_directory) {
    throw Error("list layers in " + layers_dir().string(), error.value());
  }
  return layers;
}

LayerInfo OverlayStorageDriver::apply_layer(const std::string& layer_id, ByteSource& tar_stream) {
  try {
    const std::string hex = layer_hex(layer_id);
    make_store_dir(root_, layers_dir());
    const UniqueFd layers = open_store_dir(layers_dir());
    if (layers.get() < 0) throw Error::from_errno("open " + layers_dir().string());
    // Unpack privately, then rename into place: rename is atomic, so find_layer never sees half a layer.
    const std::string work_name = temporary_name("apply");
    const fs::path work = layers_dir() / work_name;
    if (::mkdirat(layers.get(), work_name.c_str(), S_IRWXU) != 0) {
      throw Error::from_errno("create " + work.string());
    }
    LayerWorkDir work_dir(layers.get(), work_name, work, *logger_);
    const UniqueFd work_fd(
        ::openat(layers.get(), work_name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (work_fd.get() < 0) throw Error::from_errno("open " + work.string());
    // Held while it is worked on: sweep_interrupted() takes only work directories nobody holds.
    if (::flock(work_fd.get(), LOCK_EX) != 0) throw Error::from_errno("lock " + work.string());
    if (::mkdirat(work_fd.get(), "diff", 0755) != 0) {
      throw Error::from_errno("create " + (work / "diff").string());
    }
    const UniqueFd diff(::openat(work_fd.get(), "diff", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (diff.get() < 0) throw Error::from_errno("open " + (work / "diff").string());

    const UnpackResult unpacked =
        unpack_layer(tar_stream, diff.get(), work / "diff",
                     user_attributes_ ? "user.overlay.opaque" : "trusted.overlay.opaque");
    for (const auto& device : unpacked.skipped_devices) {
      logger_->warn("layer {}: skipped {}: device nodes cannot be created here", layer_id.substr(7, 12), device);
    }
    LayerInfo info{.id = layer_id, .size_bytes = unpacked.bytes};
    write_size_file(work_fd.get(), info.size_bytes, work / kSizeFile);
    make_short_link(hex);
    if (::renameat2(layers.get(), work_name.c_str(), layers.get(), hex.c_str(), RENAME_NOREPLACE) == 0) {
      work_dir.dismiss();
      logger_->debug("applied layer {} ({} bytes)", layer_id, info.size_bytes);
    } else if (errno == EEXIST || errno == ENOTEMPTY) {
      logger_->debug("layer {} was applied concurrently; discarding this copy", layer_id);
    } else {
      throw Error::from_errno("rename " + work.string() + " to " + (layers_dir() / hex).string());
    }
    return info;
  } catch (Error& error) {
    error.add_context("apply layer " + layer_id);
    throw;
  }
}

void OverlayStorageDriver::remove_layer(const std::string& layer_id) {
  try {
    const std::string hex = layer_hex(layer_id);
    const UniqueFd layers = open_store_dir(layers_dir());
    if (layers.get() < 0) {
      if (errno == ENOENT) return;
      throw Error::from_errno("open " + layers_dir().string());
    }
    // Out of sight first, so find_layer turns empty at once even if the deletion fails half-way; locked
    // from before the move, so that sweep_interrupted() never takes it while this deletes it.
    const UniqueFd held(::openat(layers.get(), hex.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (held.get() >= 0 && ::flock(held.get(), LOCK_EX) != 0) {
      throw Error::from_errno("lock " + (layers_dir() / hex).string());
    }
    const std::string work_name = temporary_name("remove");
    const bool moved =
        ::renameat2(layers.get(), hex.c_str(), layers.get(), work_name.c_str(), RENAME_NOREPLACE) == 0;
    if (!moved && errno != ENOENT) {
      throw Error::from_errno("move " + (layers_dir() / hex).string() + " aside");
    }
    const UniqueFd links = open_store_dir(links_dir());
    if (links.get() >= 0) {
      const std::string name = find_short_link(links.get(), hex);
      if (!name.empty() && ::unlinkat(links.get(), name.c_str(), 0) != 0 && errno != ENOENT) {
        throw Error::from_errno("remove " + (links_dir() / name).string());
      }
    }
    if (moved) remove_tree_at(layers.get(), work_name, layers_dir() / work_name);
    logger_->debug("removed layer {}", layer_id);
  } catch (Error& error) {
    error.add_context("remove layer " + layer_id);
    throw;
  }
}

std::vector<std::string> OverlayStorageDriver::sweep_interrupted() {
  std::vector<std::string> swept;
  const UniqueFd layers = open_store_dir(layers_dir());
  if (layers.get() < 0) {
    if (errno == ENOENT) return swept;
    throw Error::from_errno("open " + layers_dir().string());
  }
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(layers_dir(), error)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("tmp-")) continue;
    const UniqueFd work(::openat(layers.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (work.get() < 0 || ::flock(work.get(), LOCK_EX | LOCK_NB) != 0) continue;  // gone, or in progress
    remove_tree_at(layers.get(), name, entry.path());
    swept.push_back((name.starts_with("tmp-apply-") ? "half-applied layer " : "half-removed layer ") + entry.path().string());
  }
  return swept;
}

void OverlayStorageDriver::write_diff(const std::string& container_id, ByteSink& tar_out) {
  check_container_id(container_id);
  const fs::path upper = containers_dir() / container_id / "upper";
  const UniqueFd fd(::open(upper.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno != ENOENT) throw Error::from_errno("open " + upper.string());
    throw Error("container " + container_id + " has no writable layer (" + upper.string() + " is missing)", 0,
                "its storage was released; only a container that still has its files can be committed");
  }
  write_upper_diff(fd.get(), upper, tar_out, *logger_);
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
    if (!find_layer(*it)) {
      throw Error("layer " + *it + " is not in the overlay layer store", 0, "pull the image again");
    }
    lowers.push_back(layer_lower(*it));
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
  // Relative to the root, so the options' size does not grow with the root's length.
  mount.working_directory = root_;
  const fs::path relative_dir = fs::path("containers") / request.container_id;
  mount.data = overlay_options(lower_dirs(request), relative_dir / "upper", relative_dir / "work",
                               mount_options_);

  // The container directory (0700) is what keeps other users out of the writable layer.
  if (!make_dir(dir, S_IRWXU)) {
    make_store_dir(root_, containers_dir());
    if (!make_dir(dir, S_IRWXU)) throw Error("create directory " + dir.string(), ENOENT);
  }
  // The upper directory's mode is the container's "/" mode: overlay shows the upper root's attributes.
  make_dir(plan.upper_dir, 0755);
  make_dir(work, S_IRWXU);
  make_dir(plan.rootfs, 0755);

  plan.mounts.push_back(std::move(mount));
  logger_->debug("prepared rootfs of {}: {} (in {})", request.container_id, plan.mounts.back().data,
                 root_.string());
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

  remove_tree_at(containers.get(), container_id, dir);
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
