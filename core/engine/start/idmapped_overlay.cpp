#include "engine/start/idmapped_overlay.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <string_view>
#include <vector>

#include "engine/start/detached_tree.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

namespace fs = std::filesystem;

struct OverlayOptions {
  std::vector<fs::path> lowers;  // topmost first, as in lowerdir=
  fs::path upper;
  fs::path work;
  std::vector<std::string> others;  // passed on as they are: "key=value" or a flag
};

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// The storage driver writes the options (no ',' or ':' inside a path); relative paths are relative to
// the mount's working directory.
OverlayOptions parse_options(const MountSpec& overlay) {
  const auto resolve = [&](std::string_view path) { return overlay.working_directory / fs::path(path); };
  OverlayOptions options;
  for (std::string_view option : split(overlay.data, ',')) {
    if (option.empty()) continue;
    if (option.starts_with("lowerdir=")) {
      for (std::string_view lower : split(option.substr(9), ':')) options.lowers.push_back(resolve(lower));
    } else if (option.starts_with("upperdir=")) {
      options.upper = resolve(option.substr(9));
    } else if (option.starts_with("workdir=")) {
      options.work = resolve(option.substr(8));
    } else {
      options.others.emplace_back(option);
    }
  }
  if (options.lowers.empty() || options.upper.empty() || options.work.empty()) {
    throw Error("the storage driver's overlay mount lacks lowerdir, upperdir or workdir: \"" + overlay.data +
                "\"");
  }
  return options;
}

// What the kernel said about a failed fsconfig, from the file system context's log ("e overlayfs: ...").
std::string kernel_messages(int context) {
  std::string messages;
  char line[512];
  for (;;) {
    const ssize_t n = ::read(context, line, sizeof line - 1);
    if (n <= 0) return messages;
    messages += (messages.empty() ? "" : "; ") + std::string(line, static_cast<std::size_t>(n));
  }
}

class FsContext {
 public:
  FsContext() : fd_(static_cast<int>(::syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC))) {
    if (!fd_) throw Error::from_errno("open an overlay file system context (fsopen)");
  }

  // Returns errno, 0 on success.
  int try_set(const char* key, const std::string& value) const {
    return ::syscall(SYS_fsconfig, fd_.get(), FSCONFIG_SET_STRING, key, value.c_str(), 0) == 0 ? 0 : errno;
  }
  void set(const char* key, const std::string& value) const { check(key, try_set(key, value)); }
  void check(const char* key, int error) const {
    if (error != 0) fail(std::string("set overlay option ") + key, error);
  }
  void set_flag(const std::string& key) const {
    if (::syscall(SYS_fsconfig, fd_.get(), FSCONFIG_SET_FLAG, key.c_str(), nullptr, 0) != 0) {
      fail("set overlay option " + key, errno);
    }
  }
  void create() const {
    if (::syscall(SYS_fsconfig, fd_.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
      fail("create the overlay", errno);
    }
  }
  UniqueFd mount(unsigned int attributes) const {
    UniqueFd mounted(static_cast<int>(::syscall(SYS_fsmount, fd_.get(), FSMOUNT_CLOEXEC, attributes)));
    if (!mounted) fail("mount the overlay (fsmount)", errno);
    return mounted;
  }

 private:
  [[noreturn]] void fail(const std::string& step, int error) const {
    const std::string said = kernel_messages(fd_.get());
    throw Error(step + (said.empty() ? "" : " (" + said + ")"), error);
  }

  UniqueFd fd_;
};

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

// The lower layers, topmost first: one "lowerdir=" list where it fits fsconfig's 256 bytes (about 15
// layers), else one "lowerdir+" each (Linux 6.8). Not lowerdir+ first: before 6.5 overlay parses its
// options the legacy way, which takes any key and fails only at create.
void set_lowers(const FsContext& context, const std::vector<UniqueFd>& clones) {
  std::string list;
  for (const UniqueFd& clone : clones) list += (list.empty() ? "" : ":") + fd_path(clone.get());
  if (list.size() < 256) {
    context.set("lowerdir", list);
    return;
  }
  for (const UniqueFd& clone : clones) {
    const int error = context.try_set("lowerdir+", fd_path(clone.get()));
    if (error == EINVAL) {
      throw Error("this kernel takes a user namespace's " + std::to_string(clones.size()) +
                      " image layers only as one overlay option, longer than fsconfig's 256 bytes",
                  0, "use Linux 6.8 or later (overlay's lowerdir+), or an image with fewer layers");
    }
    context.check("lowerdir+", error);
  }
}

unsigned int mount_attributes(unsigned long flags) {
  unsigned int attributes = 0;
  if ((flags & MS_RDONLY) != 0) attributes |= MOUNT_ATTR_RDONLY;
  if ((flags & MS_NOSUID) != 0) attributes |= MOUNT_ATTR_NOSUID;
  if ((flags & MS_NODEV) != 0) attributes |= MOUNT_ATTR_NODEV;
  if ((flags & MS_NOEXEC) != 0) attributes |= MOUNT_ATTR_NOEXEC;
  if ((flags & MS_NOATIME) != 0) attributes |= MOUNT_ATTR_NOATIME;
  return attributes;
}

}  // namespace

UniqueFd detached_idmapped_overlay(const MountSpec& overlay, int userns_fd) {
  try {
    const OverlayOptions options = parse_options(overlay);
    const FsContext context;
    std::string paths;
    for (const fs::path& lower : options.lowers) paths += (paths.empty() ? "" : ":") + lower.string();
    // Without idmapping, the layers' own paths where they fit: before Linux 6.8 overlay cannot take
    // detached clones as layers ("failed to clone lowerpath").
    std::vector<UniqueFd> clones;
    if (userns_fd < 0 && paths.size() < 256) {
      context.set("lowerdir", paths);
    } else {
      for (const fs::path& lower : options.lowers)
        clones.push_back(userns_fd < 0 ? clone_tree(lower.string(), false)
                                       : idmapped_tree(lower, userns_fd, false, "layer " + lower.string()));
      set_lowers(context, clones);
    }
    context.set("upperdir", options.upper.string());
    context.set("workdir", options.work.string());
    for (const std::string& option : options.others) {
      const std::size_t equals = option.find('=');
      if (equals == std::string::npos) {
        context.set_flag(option);
      } else {
        context.set(option.substr(0, equals).c_str(), option.substr(equals + 1));
      }
    }
    context.create();
    // The overlay holds its layers now; the clones' descriptors may go.
    return context.mount(mount_attributes(overlay.flags));
  } catch (Error& error) {
    error.add_context("assemble the container's root for its user namespace");
    throw;
  }
}

}  // namespace mcore::engine
