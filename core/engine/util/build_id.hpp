#pragma once
// The GNU build ID of a loaded binary: a hash the linker writes of everything it linked, so it changes
// whenever the code does. A cheap cache key for what a binary computes from its own code and tables.
#include <optional>
#include <string>

namespace mcore::engine {

// The build ID (lower-case hex) of the executable or library holding `address`; nullopt when no loaded
// object holds it or the object was linked without one (--build-id=none).
std::optional<std::string> build_id_of(const void* address);

}  // namespace mcore::engine
