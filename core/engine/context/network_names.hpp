#pragma once
// The names of the Network driver's networks, for the checks "does it exist" before a create.
#include <set>
#include <string>

#include "engine/context/engine.hpp"

namespace mcore::engine {

std::set<std::string> network_names(Engine& engine);

}  // namespace mcore::engine
