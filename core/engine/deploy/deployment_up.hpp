#pragma once
// `up` and `down` of a deployment: its networks, volumes and services, dependencies first. Each
// service becomes a ContainerRequest (service_request), so a service and a `run` of the same settings
// make the same container; the request's hash, kept as a label, says whether a container still
// matches its service. `up` is idempotent: a matching container is left running (or started when
// stopped), a changed one is recreated, containers of services no longer in the file are removed.
#include <functional>
#include <map>
#include <string>

#include "engine/container/container_request.hpp"
#include "engine/container/container_store.hpp"
#include "engine/context/engine.hpp"
#include "engine/deploy/deployment.hpp"

namespace mcore::engine {

// What up and down did, as they go: ("Network", "shop_front created"), ("Container", "shop-web-1 started").
using DeploymentProgress = std::function<void(const std::string& kind, const std::string& what)>;

// The container of `service`: "<deployment>-<service>-1".
std::string service_container_name(const Deployment& deployment, const DeploymentService& service);
// A deployment's network or volume as mcore names it: "<deployment>_<name>".
std::string deployment_object_name(const Deployment& deployment, const std::string& name);

// The request that creates `service`'s container, detached: name, labels (deployment, service,
// dependencies), network with the service's name as an alias, ports, volumes (named ones mapped to the
// deployment's), environment, limits, restart policy, user, working directory, hostname, entrypoint,
// image and command. The config hash label is not among them: it is the hash of this request.
ContainerRequest service_request(const Deployment& deployment, const DeploymentService& service);

// sha256 of the request's JSON, for the config-hash label.
std::string request_hash(const ContainerRequest& request);

// Service name -> its container (as observed: running only while its supervisor lives).
std::map<std::string, ContainerRecord> deployment_containers(Engine& engine, const std::string& deployment);

// Brings the deployment up. Waits for dependencies as their conditions say: service_healthy runs the
// dependency's healthcheck in its container (exec) until it passes, Compose's timing.
void deployment_up(Engine& engine, const Deployment& deployment, PullSink* pulls, const DeploymentProgress& progress);

// Removes the deployment's containers and networks, and with `volumes` its named volumes.
void deployment_down(Engine& engine, const Deployment& deployment, bool volumes, const DeploymentProgress& progress);

}  // namespace mcore::engine
