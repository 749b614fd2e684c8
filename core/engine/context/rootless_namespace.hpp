#pragma once
// Rootless mcore works inside a user namespace (and a mount namespace it owns) in which the user is
// root and the user's subordinate ids are mapped: there it can unpack layers with their real owners,
// build overlays and clone containers. Every command that touches the roots enters a new one with the
// one, with maps written by the setuid helpers newuidmap and newgidmap (Debian's uidmap): the first
// makes it and leaves a holder process in it (namespace_holder.hpp), the others join it. Files keep
// their owners from one command to the next. A container lives on in the namespace its start
// entered, and a later `exec` joins that one from outside, as the namespace's owner.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "engine/userns/id_map.hpp"

namespace mcore::engine {

struct RootlessMaps {
  IdMap uid_map;
  IdMap gid_map;
};

// The maps for user `uid` (login `user_name`) and group `gid` out of /etc/subuid and /etc/subgid. Throws
// Error naming the file and the `usermod --add-subuids` command when the user has no range there.
RootlessMaps rootless_maps(std::uint32_t uid, std::uint32_t gid, const std::string& user_name);

// Moves this process, which must have one thread, into the user's namespace with `maps` and a mount
// namespace of its own there, and marks the environment so that mcore's own helpers know where they
// are. Joins the namespace a holder keeps (its pid file under `state_root`); else makes one (maps
// written by newuidmap and newgidmap from a helper child outside it) and starts its holder. Throws
// Error naming the missing helper (and the package) or what the helper said; on failure the process
// is where it was, or in a namespace where it is nobody and can do nothing.
void enter_rootless_namespace(const RootlessMaps& maps, const std::filesystem::path& state_root);

// Rootless `exec`: moves this single-threaded process into the user namespace the container whose
// init is `init_pid` (opened as `init_pidfd`) was started in, the parent of its own, and into a mount
// namespace of its own there; as that namespace's owner this process may. A new namespace would not
// do: its root has no power over the container's. Throws Error.
void join_rootless_namespace_of(pid_t init_pid, int init_pidfd);

// Inside the namespace enter_rootless_namespace made (this process or a helper it started): the host
// uid of its root; else nullopt.
std::optional<std::uint32_t> rootless_namespace_owner();

// This process's user namespace's uid and gid maps (/proc/self/uid_map, gid_map). Throws Error.
IdMap own_uid_map();
IdMap own_gid_map();

}  // namespace mcore::engine
