#pragma once
// What the container verbs share: resolving each CONTAINER argument and Docker's per-container
// reporting (the argument echoed on success, one error line per failure, exit 1 if any failed).
#include <functional>
#include <string>
#include <vector>

#include "cli/verbs.hpp"

namespace mcore::cli {

// Runs `action` on the id of each container `references` names, in order. Returns the verb's exit
// code: 0, or 1 when any container was refused; mcore's own failures still exit 125.
int for_each_container(CliContext& context, const std::vector<std::string>& references,
                       const std::function<void(const std::string& id)>& action, bool echo = true);

// The id one CONTAINER argument names; refusals (unknown, ambiguous) exit 1.
std::string container_id_of(CliContext& context, const std::string& reference);

// Throws the usage error Docker gives when a verb got no CONTAINER argument.
void require_containers(const std::string& verb, const std::vector<std::string>& references);

}  // namespace mcore::cli
