#pragma once
// mcore prune: removes stopped containers and whatever a crash left behind — records whose supervisor
// died, cgroups and writable layers without a container, runtime directories without a supervisor,
// names without a record, and network leases, links and rules without a container.
#include <set>
#include <string>
#include <vector>

#include "engine/container/container_store.hpp"
#include "engine/context/engine.hpp"

namespace mcore::engine {

struct PruneReport {
  std::vector<std::string> removed_containers;  // ids
  std::vector<std::string> stale;               // what else was cleaned, one line each
  std::vector<std::string> kept;                // containers kept although asked about: why, one line each
};

PruneReport prune_containers(Engine& engine);

// What crashes left without a container: cgroups and writable layers whose container has no record (or,
// for cgroups, a stopped one), runtime directories without a supervisor, whatever killed commands
// left half-done (reclaim_interrupted_work), and network leftovers. The containers in `kept` keep
// everything. One line per thing removed. Part of prune_containers; `boot` runs it too.
std::vector<std::string> sweep_leftovers(Engine& engine, const std::set<std::string>& kept);

// Has the network driver release the leases, links and rules of containers that have no record (the
// rest is detached with its container). Part of prune_containers; `network rm` runs it first too.
void prune_network_leftovers(Engine& engine, const ContainerStore& store);

}  // namespace mcore::engine
