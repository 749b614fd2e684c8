#pragma once
// A detached clone of a host path seen through a user namespace's id maps (MOUNT_ATTR_IDMAP): a file
// owned by 0 on disk is owned by the namespace's root, and what that root creates is 0 on disk. The
// image layers under a mapped container's root and its :idmap volumes are mounted this way; nothing is
// copied or chowned.
#include <string>

#include "mcore/unique_fd.hpp"

namespace mcore::engine {

// open_tree(OPEN_TREE_CLONE) of `path` (with its submounts when `recursive`), idmapped for the user
// namespace `userns_fd`; ready for move_mount or as an overlay layer. `what` names the path in errors
// ("layer /var/lib/...", "volume /srv/data"). Throws Error; where the kernel or the path's file system
// lacks idmapped mounts, says so rather than falling back to a chown.
UniqueFd idmapped_tree(const std::string& path, int userns_fd, bool recursive, const std::string& what);

}  // namespace mcore::engine
