#pragma once
// The maps of rootless mcore's user namespace, as Podman's: the user's own id is the namespace's 0,
// and the user's subordinate ranges follow it from 1 on, in file order.
#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/userns/id_map.hpp"

namespace mcore::engine {

// "0 OWN 1", then "1 START1 SIZE1", "1+SIZE1 START2 SIZE2", ...; ranges that would run past the
// kernel's line limit or past id 4294967294 inside are left out.
IdMap rootless_id_map(std::uint32_t own_id, const std::vector<IdRange>& subordinate);

// /proc/PID/uid_map or gid_map as the kernel prints it ("%10u %10u %10u\n" per line). Throws Error on
// text that is not three numbers per line.
IdMap parse_proc_id_map(std::string_view text);

// The map that shows every id of a namespace whose own map is `outer` as itself: one line per line of
// `outer`, inside = outside = the line's inside ids. A container nested in rootless mcore's namespace
// gets it, so that it sees the files as mcore does.
IdMap identity_of(const IdMap& outer);

}  // namespace mcore::engine
