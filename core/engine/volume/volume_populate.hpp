#pragma once
// Docker's first-use copy: a volume that has never been mounted and is empty is filled with what the
// image holds at the path it is mounted on, owners, modes and links kept.
#include "engine/container/container_spec.hpp"
#include "engine/context/engine.hpp"
#include "mcore/storage_driver.hpp"

namespace mcore::engine {

// For every named volume of `spec` not yet populated: when it is empty and the image has a directory at
// its container path, copies that directory's content into it; then marks it populated either way. The
// image is read through the container's own root filesystem mounts (`rootfs`), done in a private mount
// namespace of a short-lived child, so nothing appears on the host; paths resolve inside the root, so a
// symlink in the image cannot make the copy read the host. Throws Error when a copy fails.
void populate_volumes(Engine& engine, const ContainerSpec& spec, const RootfsPlan& rootfs);

}  // namespace mcore::engine
