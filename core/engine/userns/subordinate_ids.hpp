#pragma once
// The subordinate ids /etc/subuid and /etc/subgid grant a user (subuid(5)): lines "USER:START:COUNT",
// where USER is a login name or a numeric uid. newuidmap and newgidmap let the user map exactly these.
#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/userns/id_map.hpp"

namespace mcore::engine {

// The ranges `text` (a whole /etc/subuid or /etc/subgid) grants the user named `user_name` or whose
// uid is `uid`, in file order. Lines that do not parse are skipped, as shadow's own readers do, so
// one bad line does not take every user's ranges away.
std::vector<IdRange> subordinate_ranges(std::string_view text, std::string_view user_name, std::uint32_t uid);

}  // namespace mcore::engine
