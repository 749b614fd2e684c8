#pragma once
// A container in a user namespace of its own (--uidmap, or an OCI bundle's uidMappings): what the
// launcher does for it as host root, since the init, root only inside its namespace, cannot. Before the
// clone, its writable layer is given to the container's root; right after, the init gets its id maps,
// its root filesystem and its bind mounts' sources.
#include <filesystem>

#include "engine/container/container_spec.hpp"
#include "engine/init/init_plan.hpp"
#include "engine/start/container_process.hpp"
#include "mcore/storage_driver.hpp"

namespace mcore::engine {

// Gives the writable layer's top directory to the container's root (the host ids its 0 maps to), so
// that it owns its "/" as an image's root does. Throws Error.
void give_upper_to_container_root(const RootfsPlan& rootfs, const ContainerSpec& spec);

// For `init`, cloned into a new user namespace and waiting at its attach_root step: writes its uid and
// gid maps, builds the root `root_mount` (the storage driver's overlay) describes as a detached
// overlay over layers idmapped for that namespace, and sends it; then, in `plan`'s order, a detached
// clone of each bind mount's source (host paths the container's root may not reach itself), idmapped
// where the step asks. Throws Error; false when the init has already failed (its report waits on the
// sync socket).
bool give_user_namespace(ContainerProcess& init, const ContainerSpec& spec, const MountSpec& root_mount,
                         const InitPlan& plan);

// The same for an OCI bundle, whose root is a directory the caller has prepared for the maps: the root
// sent is a recursive bind of `root`.
bool give_user_namespace(ContainerProcess& init, const IdMap& uid_map, const IdMap& gid_map,
                         const std::filesystem::path& root, const InitPlan& plan);

}  // namespace mcore::engine
