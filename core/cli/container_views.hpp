#pragma once
// The records the container verbs show and act on: as observe_container() sees them, so a container
// whose supervisor is gone shows as exited without anyone having to repair its record first.
#include <string>
#include <vector>

#include "cli/verbs.hpp"
#include "engine/api/containers.hpp"

namespace mcore::cli {

// The container `reference` names (a name, an id or an unambiguous id prefix); refuses (exit 1) an
// unknown or ambiguous one, also when it is removed meanwhile.
engine::ContainerRecord observed_container(CliContext& context, const std::string& reference);

// Every container: the records newest first as Docker lists them, and those that cannot be read.
engine::ContainerListing observed_containers(CliContext& context);

}  // namespace mcore::cli
