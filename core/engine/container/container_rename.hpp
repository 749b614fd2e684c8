#pragma once
// `mcore rename`: a container's new name in the name index and in its record.
#include <string>

#include "engine/container/container_store.hpp"

namespace mcore::engine {

// Renames container `id` to `new_name` (already validated as a container name), under the container's
// lock. Order: the new name's link, then the record, then the old link goes; a crash in between leaves
// both names pointing at this container (lookups find it by either, ps shows the record's name), never a
// name pointing at nothing or a record whose name another container holds.
// Throws ContainerRefusal (container_control.hpp) when the container is gone, already has that name or
// another container holds it; Error for mcore's own failures, after which the names are as they were.
void rename_container(ContainerStore& store, const std::string& id, const std::string& new_name);

}  // namespace mcore::engine
