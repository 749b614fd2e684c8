#pragma once
// --userns, --uidmap and --gidmap resolved into a spec's id maps: which containers get a user namespace
// of their own, and the checks that must pass before anything of the container exists.
#include "engine/container/container_request.hpp"
#include "engine/container/container_spec.hpp"

namespace mcore::engine {

// Sets spec.uid_map and spec.gid_map from `request` (a --gidmap defaults to the --uidmap, as in
// Podman). Runs after the network and privileges are resolved. Throws Error naming the flag when a
// line is malformed or overlaps another, when the map leaves the container's root unmapped, or when
// the request asks for what a user namespace cannot give yet (--userns=auto|private, --privileged,
// --network host).
void resolve_user_namespace(const ContainerRequest& request, ContainerSpec& spec);

}  // namespace mcore::engine
