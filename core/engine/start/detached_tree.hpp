#pragma once
// Detached copies of host paths (open_tree(OPEN_TREE_CLONE)), for an init in a user namespace of its
// own to attach with move_mount: its root cannot reach host paths that only the host's root may. An
// idmapped copy (MOUNT_ATTR_IDMAP) shows the files through the namespace's id maps: a file owned by 0 on
// disk is owned by the namespace's root, and what that root creates is 0 on disk. The image layers
// under a mapped container's root and its :idmap volumes are mounted this way; nothing is copied or
// chowned.
#include <string>

#include "mcore/unique_fd.hpp"

namespace mcore::engine {

// A detached copy of the mount at `path` (with its submounts when `recursive`), as the host sees it.
// Throws Error naming the path.
UniqueFd clone_tree(const std::string& path, bool recursive);

// clone_tree, idmapped for the user namespace `userns_fd`; ready for move_mount or as an overlay layer.
// `what` names the path in errors ("layer /var/lib/...", "volume /srv/data"). Throws Error; where the
// kernel or the path's file system lacks idmapped mounts, says so rather than falling back to a chown.
UniqueFd idmapped_tree(const std::string& path, int userns_fd, bool recursive, const std::string& what);

}  // namespace mcore::engine
