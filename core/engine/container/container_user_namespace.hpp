#pragma once
// --userns, --uidmap and --gidmap resolved into a spec's id maps: which containers get a user namespace
// of their own, the checks that must pass before anything of the container exists, and the range a
// --userns=auto container gets.
#include <string_view>

#include "engine/container/container_request.hpp"
#include "engine/container/container_spec.hpp"
#include "engine/container/container_store.hpp"

namespace mcore::engine {

// The ids one --userns=auto container gets, as Podman's default size.
inline constexpr std::uint32_t kAutoIdRangeSize = 65536;

// Sets spec.uid_map and spec.gid_map from `request` (a --gidmap defaults to the --uidmap, as in
// Podman); without --userns or maps, `default_mode` (the config's "userns") applies. --userns=private
// means a namespace of its own: with the given maps, else a range chosen as for auto. Returns true
// when the ids are to be chosen with allocate_auto_id_maps (--userns=auto, or private without maps).
// Throws Error naming the flag when a line is malformed or overlaps another, when the map leaves the
// container's root unmapped, when flags conflict, or when a volume asks for idmap without a user
// namespace.
bool resolve_user_namespace(const ContainerRequest& request, std::string_view default_mode,
                            ContainerSpec& spec);

// Rootless: every container gets a user namespace of its own inside the user's, so that its root owns
// its namespaces and the init can be given its root filesystem as for --uidmap. Without --uidmap it
// shows every id as the user's namespace does (each id as itself, nothing copied or idmapped); with
// one, the map's host side names ids of the user's namespace (0 is the user, 1... the subordinate
// ids), as in Podman. `choose_ids` (what resolve_user_namespace returned) is refused: ranges of
// /etc/subuid are root's to hand out. Throws Error.
void place_in_rootless_namespace(bool choose_ids, ContainerSpec& spec);

// --userns=auto: the first kAutoIdRangeSize uids and gids out of `user`'s ranges in `subuid_text` and
// `subgid_text` (/etc/subuid, /etc/subgid) that no container in `store` holds, as the maps 0:START:N.
// Call with store.lock_id_ranges() held until the record is written. Throws Error naming the file and
// the fix when the user has no range or every range is taken.
void allocate_auto_id_maps(const ContainerStore& store, const std::string& user, std::string_view subuid_text,
                           std::string_view subgid_text, ContainerSpec& spec);

}  // namespace mcore::engine
