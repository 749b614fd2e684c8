#pragma once
// Finds the container a user named: a name, a full id or an unambiguous id prefix, as Docker does.
#include <string>

#include "engine/container/container_store.hpp"

namespace mcore::engine {

// The id of the container `reference` names. Throws Error "no such container: X" or
// "... is ambiguous: it matches N containers (id1, id2 ...)", each with a hint.
std::string resolve_container_id(const ContainerStore& store, const std::string& reference);

}  // namespace mcore::engine
