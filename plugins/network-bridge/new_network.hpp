#pragma once
// What a new network's record needs, for the bridge driver and for drivers built on its parts (the
// pasta driver's user networks): a valid name, an id, a creation time, and a subnet and gateway that
// collide with no other network and no host route.
#include <string>
#include <vector>

#include "network_store.hpp"

namespace mcore::bridge {

// Docker's name rule for networks; "host" and "none" are network modes, not names. Throws Error.
void check_network_name(const std::string& name);

// 64 random hex digits.
std::string random_network_id();

// Now, as RFC 3339 in UTC.
std::string now_rfc3339();

// Sets the record's subnet and gateway: the given ones, checked against `networks` (but the record's
// own name) and the host's routes, or the first free default pool. Throws Error naming the collision.
void assign_subnet(NetworkRecord& record, const std::string& subnet_text, const std::string& gateway_text,
                   const std::vector<NetworkRecord>& networks);

}  // namespace mcore::bridge
