#include "engine/exec/sealed_executable.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mcore/error.hpp"

namespace mcore::engine {

UniqueFd sealed_executable(const std::filesystem::path& program) {
  UniqueFd view(static_cast<int>(
      ::syscall(SYS_open_tree, AT_FDCWD, program.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)));
  if (!view) {
    throw Error::from_errno("make a read-only view of " + program.string() + " (open_tree)",
                            "mcore enters containers only through a read-only view of its helper: run it as "
                            "root on Linux 5.12 or later");
  }
  mount_attr attributes{};
  attributes.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  if (::syscall(SYS_mount_setattr, view.get(), "", AT_EMPTY_PATH, &attributes, sizeof attributes) != 0) {
    throw Error::from_errno("make the view of " + program.string() + " read-only (mount_setattr)");
  }
  return view;
}

}  // namespace mcore::engine
