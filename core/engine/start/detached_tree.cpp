#include "engine/start/detached_tree.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "mcore/error.hpp"

namespace mcore::engine {

namespace {

// `purpose` completes "open ..." in the error.
UniqueFd open_tree_clone(const std::string& path, bool recursive, const std::string& purpose) {
  const unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
  UniqueFd clone(static_cast<int>(::syscall(SYS_open_tree, AT_FDCWD, path.c_str(), flags)));
  if (!clone) throw Error::from_errno("open " + purpose + " (open_tree)");
  return clone;
}

}  // namespace

UniqueFd clone_tree(const std::string& path, bool recursive) {
  return open_tree_clone(path, recursive, path + " to bind it into the container");
}

UniqueFd idmapped_tree(const std::string& path, int userns_fd, bool recursive, const std::string& what) {
  const unsigned recursion = recursive ? AT_RECURSIVE : 0;
  UniqueFd clone = open_tree_clone(path, recursive, what + " for an idmapped mount");
  mount_attr attributes{};
  attributes.attr_set = MOUNT_ATTR_IDMAP;
  attributes.userns_fd = static_cast<std::uint64_t>(userns_fd);
  if (::syscall(SYS_mount_setattr, clone.get(), "", AT_EMPTY_PATH | recursion, &attributes,
                sizeof attributes) != 0) {
    const int error = errno;
    if (error == EINVAL || error == ENOSYS || error == EPERM) {
      throw Error("idmap " + what + ": this kernel or file system does not support idmapped mounts", error,
                  "user namespaces need Linux 5.12 or later and files on ext4, xfs, btrfs or tmpfs");
    }
    throw Error("idmap " + what + " (mount_setattr)", error);
  }
  return clone;
}

}  // namespace mcore::engine
