#pragma once
// ContainerSpec <-> JSON, for the "spec" member of a container's record. Every field round-trips;
// missing members read as the defaults, so records written by an older mcore still load.
#include <nlohmann/json.hpp>

#include "engine/container/container_spec.hpp"

namespace mcore::engine {

nlohmann::json spec_to_json(const ContainerSpec& spec);
ContainerSpec spec_from_json(const nlohmann::json& json);

// Volumes both ways, also for the request a deployment compares.
nlohmann::json volumes_to_json(const std::vector<VolumeSpec>& volumes);
std::vector<VolumeSpec> volumes_from_json(const nlohmann::json& json);

// Resource limits both ways; an unset limit is left out.
nlohmann::json limits_to_json(const ResourceLimits& limits);
ResourceLimits limits_from_json(const nlohmann::json& json);

// Published ports both ways, also for the network endpoint a record keeps.
nlohmann::json ports_to_json(const std::vector<PortMapping>& ports);
std::vector<PortMapping> ports_from_json(const nlohmann::json& json);

// "no", "on-failure:3", "always", "unless-stopped" (Docker's spelling both ways).
std::string to_string(const RestartPolicy& policy);
// Throws Error naming the value and the accepted forms.
RestartPolicy parse_restart_policy(const std::string& text);

}  // namespace mcore::engine
