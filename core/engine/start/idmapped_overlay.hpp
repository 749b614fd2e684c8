#pragma once
// The root of a container in a user namespace: its image's files must appear owned by the container's
// own ids without a chown of the store. Overlay cannot be idmapped itself, and mounted from inside the
// user namespace it would read user.overlay.* attributes instead of the trusted.overlay.* ones our
// layers carry. So the host-root launcher assembles the overlay as a detached mount over idmapped
// clones of the lower layers, and the init, in its new mount namespace, attaches it with move_mount.
// The host's mount table never holds it. Verified on this kernel: docs/user-namespaces.md.
#include "mcore/storage_driver.hpp"
#include "mcore/unique_fd.hpp"

namespace mcore::engine {

// Builds the overlay that `overlay` (a storage driver's MountSpec of type "overlay": lowerdir, upperdir,
// workdir and other options, relative paths resolved against its working_directory) describes, as a
// detached mount whose lower layers are seen through the user namespace `userns_fd`'s maps (or as they
// are, for -1: a namespace that shows every id as itself, as rootless mcore's containers do). The upper
// and work directories are used as they are: the caller gives them to the container's root. Returns
// the mount (fsmount), ready for move_mount. Throws Error naming the layer or step; where the kernel
// or a layer's file system lacks idmapped mounts, says so rather than falling back to a chown.
UniqueFd detached_idmapped_overlay(const MountSpec& overlay, int userns_fd);

}  // namespace mcore::engine
