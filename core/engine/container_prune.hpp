#pragma once
// mcore prune: removes stopped containers and whatever a crash left behind — records whose supervisor
// died, cgroups and writable layers without a container, runtime directories without a supervisor,
// and names without a record.
#include <string>
#include <vector>

#include "engine/engine.hpp"

namespace mcore::engine {

struct PruneReport {
  std::vector<std::string> removed_containers;  // ids
  std::vector<std::string> stale;               // what else was cleaned, one line each
};

PruneReport prune_containers(Engine& engine);

}  // namespace mcore::engine
