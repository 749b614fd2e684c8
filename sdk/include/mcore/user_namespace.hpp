#pragma once
// Whether the process runs in the host's initial user namespace or in one of its own, as rootless
// mcore does: there, root is an ordinary user on the host, so a driver can neither make host network
// links nor write trusted.* attributes, and says so (or chooses what a namespace's root can do).
namespace mcore {

// True when /proc/self/uid_map maps every id to itself in one line (or cannot be read).
bool in_initial_user_namespace();

}  // namespace mcore
