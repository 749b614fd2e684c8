#pragma once
// `docker container inspect`'s document for one container, built from its record: Docker's member
// names, nesting and order, so that tools reading Docker's JSON (jq paths, --format templates ported to
// jq) read mcore's. Members mcore has nothing for yet (networks, health) are empty, not invented.
#include <filesystem>

#include <nlohmann/json.hpp>

#include "engine/container/container_store.hpp"

namespace mcore::engine {

// `record` as observe_container() returns it, so the State is the truth; `log_path` is the container's
// json-file log (ContainerStore::log_path). Times are RFC 3339; a time never set reads as Go's zero time
// "0001-01-01T00:00:00Z", as in Docker.
nlohmann::ordered_json inspect_container(const ContainerRecord& record,
                                         const std::filesystem::path& log_path);

}  // namespace mcore::engine
