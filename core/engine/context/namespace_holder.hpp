#pragma once
// The user's namespace outlives the command that made it: a small process, the holder, stays in it,
// as Podman's pause process does. Every later rootless command joins that one namespace instead of
// making another, so whatever a command creates there (a container's namespaces, the pasta driver's
// network namespace) remains within reach of the next command's root. A namespace's root has no power
// over a sibling namespace, even one with the same maps.
#include <sys/types.h>

#include <filesystem>

#include "engine/userns/id_map.hpp"
#include "mcore/unique_fd.hpp"

namespace mcore::engine {

// The user namespace the holder named in `pid_file` keeps, opened; none when the file names no live
// holder or the holder's namespace has other maps than `uid_map` and `gid_map` (/etc/subuid changed:
// that holder is stopped).
UniqueFd held_user_namespace(const std::filesystem::path& pid_file, const IdMap& uid_map,
                             const IdMap& gid_map);

// Starts a holder in the user namespace of process `member` and records it in `pid_file`. Call from
// outside that namespace, as its owner, in a single-threaded process. Returns false when no holder
// could be started; the namespace still serves `member`, it only ends with it.
bool start_namespace_holder(pid_t member, const std::filesystem::path& pid_file);

}  // namespace mcore::engine
