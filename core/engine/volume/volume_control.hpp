#pragma once
// What the verbs do with volumes beyond the store: creating a run's volumes, removing volumes no
// container names, anonymous volumes going with their container.
#include <map>
#include <string>
#include <vector>

#include "engine/container/container_store.hpp"
#include "engine/context/engine.hpp"
#include "engine/volume/volume_store.hpp"

namespace mcore::engine {

// Creates the named volumes `spec` mounts (when missing) and an anonymous one for each `-v /path`,
// and points each mount at its volume's directory. Call holding the volume lock shared until the
// container's record exists (VolumeStore::lock).
void create_container_volumes(Engine& engine, ContainerSpec& spec);

// Volume name -> the names of the containers (running or not) whose records mount it. Throws
// UnreadableRecordError while a record cannot be read: it may mount any volume.
std::map<std::string, std::vector<std::string>> volume_users(const ContainerStore& store);

// Removes volume `name`; refused (Error naming the containers) while a container's record names it,
// and for a volume that does not exist.
void remove_volume(Engine& engine, const std::string& name);

// Removes the volumes no container names: anonymous ones only, or all of them with `all` (Docker 23's
// `volume prune` and `volume prune -a`). Returns their names.
std::vector<std::string> prune_volumes(Engine& engine, bool all);

// The anonymous volumes of a removed container (rm -v, --rm), unless another container names them.
void remove_anonymous_volumes(Engine& engine, const ContainerStore& store, const ContainerSpec& spec);

}  // namespace mcore::engine
