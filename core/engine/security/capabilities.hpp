#pragma once
// Linux capability sets as Docker spells them: names, Docker's default set, --cap-add/--cap-drop/
// --privileged resolution, and the async-signal-safe calls the container init uses to apply them.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mcore::engine {

// Bit N set = capability N (CAP_CHOWN is bit 0).
using CapabilitySet = std::uint64_t;

// Docker's default set: CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP SETPCAP
// NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE.
CapabilitySet default_capabilities();

// Every capability the running kernel knows (0..cap_last_cap).
CapabilitySet all_capabilities();

// The capabilities mcore's own process holds (its permitted set): the most it can give a container.
CapabilitySet held_capabilities();

// "NET_ADMIN", "CAP_NET_ADMIN", "net_admin" -> 12. Throws Error naming the unknown capability.
int capability_from_name(std::string_view name);

// 12 -> "CAP_NET_ADMIN".
std::string capability_name(int capability);

std::vector<std::string> capability_names(CapabilitySet set);

// Docker's rules: start from the default set, drop `drop`, then add `add`; "ALL" in `add` means every
// capability except those in `drop`, "ALL" in `drop` means only those in `add`. `privileged` means
// every capability, whatever the lists say. The result never exceeds `held` (pass held_capabilities()).
// Throws Error on an unknown name (even when privileged) and on an explicit add of a capability not held.
CapabilitySet resolve_capabilities(bool privileged, const std::vector<std::string>& add,
                                   const std::vector<std::string>& drop,
                                   CapabilitySet held = all_capabilities());

// --- Container init side: async-signal-safe, return 0 or an errno value. ---------------------------

// Drops every capability not in `keep` from the bounding set (needs CAP_SETPCAP).
int drop_bounding_set(CapabilitySet keep) noexcept;

// Sets effective and permitted to `set`, inheritable to empty (as Docker does since 20.10), and clears
// the ambient set.
int set_process_capabilities(CapabilitySet set) noexcept;

}  // namespace mcore::engine
