#pragma once
// A deployment's service as the `mcore run` arguments that create its container, so that a service and
// a `run` of the same settings make the same container, and the arguments' hash says whether a running
// container still matches its service.
#include <string>
#include <vector>

#include "engine/deploy/deployment.hpp"

namespace mcore::cli {

// The container of `service`: "<deployment>-<service>-1".
std::string service_container_name(const engine::Deployment& deployment, const engine::DeploymentService& service);
// A deployment's network or volume as mcore names it: "<deployment>_<name>".
std::string deployment_object_name(const engine::Deployment& deployment, const std::string& name);

// `run` arguments (without -d) for `service`: name, labels (deployment, service), network with the
// service's name as an alias, ports, volumes (named ones mapped to the deployment's), environment,
// limits, restart policy, user, working directory, hostname, entrypoint, image and command. The config
// hash label is not among them: it is the hash of these.
std::vector<std::string> service_run_arguments(const engine::Deployment& deployment,
                                               const engine::DeploymentService& service);

// sha256 of the arguments, for the config-hash label.
std::string run_arguments_hash(const std::vector<std::string>& arguments);

}  // namespace mcore::cli
