#pragma once
// The range of ids a container started with --userns=auto gets: Docker's userns-remap made per
// container, each with its own ids out of the subordinate ranges of one user (the config's, `mcore`
// by default), never shared by two live containers.
#include <cstdint>
#include <optional>
#include <vector>

#include "engine/userns/id_map.hpp"

namespace mcore::engine {

// The lowest `size` consecutive ids inside one of `available` (in order) that overlap none of
// `in_use`; nullopt when no such run is left. A range is taken whole from one available range.
std::optional<IdRange> first_free_range(const std::vector<IdRange>& available,
                                        const std::vector<IdRange>& in_use, std::uint32_t size);

}  // namespace mcore::engine
