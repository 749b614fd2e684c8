#pragma once
// A deployment: several services (containers) with their networks and volumes, brought up and down
// together from one file. The native format is JSON; the common subset of the Compose file format (YAML)
// reads into the same model. Keys follow Compose's names and meaning:
//
//   {"name": "shop",
//    "services": {"web": {"image": "busybox", "command": ["httpd", "-f"], "ports": ["8080:80"],
//                         "environment": {"MODE": "prod"}, "env_file": ["web.env"],
//                         "volumes": ["data:/data", "./static:/static:ro"], "networks": ["front"],
//                         "depends_on": {"db": {"condition": "service_healthy"}},
//                         "restart": "always", "mem_limit": "64m", "cpus": 0.5, "pids_limit": 100,
//                         "healthcheck": {"test": ["CMD", "true"], "interval": "1s", "retries": 3}}},
//    "networks": {"front": {"subnet": "10.90.0.0/24"}},
//    "volumes": {"data": {}}}
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mcore::engine {

struct ServiceHealthcheck {
  std::vector<std::string> test;  // the command run with exec: ["CMD", ...] or ["CMD-SHELL", "..."]
  int interval_ms = 1000;
  int timeout_ms = 5000;
  int retries = 3;
  int start_period_ms = 0;
};

struct ServiceDependency {
  std::string service;
  // "service_started" (the default), "service_healthy" (its healthcheck passes),
  // "service_completed_successfully" (it exited 0).
  std::string condition = "service_started";
};

struct DeploymentService {
  std::string name;
  std::string image;                             // required
  std::optional<std::vector<std::string>> command;     // replaces the image's Cmd
  std::optional<std::vector<std::string>> entrypoint;  // replaces the image's Entrypoint
  std::vector<std::string> environment;          // KEY=VALUE, env files first, then `environment`
  std::vector<std::string> ports;                // -p syntax
  std::vector<std::string> volumes;              // -v syntax; a relative host path is relative to the file
  std::vector<std::string> networks;             // deployment network names; none given: "default"
  std::vector<ServiceDependency> depends_on;
  std::string restart = "no";                    // --restart syntax
  std::optional<std::string> memory;             // mem_limit, --memory syntax
  std::optional<double> cpus;
  std::optional<std::int64_t> pids_limit;
  std::optional<std::string> user;
  std::optional<std::string> working_dir;
  std::optional<std::string> hostname;
  std::optional<ServiceHealthcheck> healthcheck;
};

struct DeploymentNetwork {
  std::string name;    // as the file names it; the mcore network is "<deployment>_<name>"
  std::string subnet;  // "" lets the driver choose
  std::string gateway;
};

struct DeploymentVolume {
  std::string name;  // as the file names it; the mcore volume is "<deployment>_<name>"
};

struct Deployment {
  std::string name;  // "name", else the file's directory name, made a valid name
  std::vector<DeploymentService> services;  // in dependency order once validated (dependencies first)
  std::vector<DeploymentNetwork> networks;  // "default" included when a service uses it
  std::vector<DeploymentVolume> volumes;
};

// Labels `up` puts on a deployment's containers: membership, and the hash of what the service asked for
// (a changed hash means the container is recreated).
inline constexpr const char* kDeploymentLabel = "mcore.deployment";
inline constexpr const char* kServiceLabel = "mcore.service";
// The services it depends on, comma-separated: `mcore boot` starts a deployment in that order.
inline constexpr const char* kDependsOnLabel = "mcore.depends-on";
inline constexpr const char* kConfigHashLabel = "mcore.config-hash";

// One problem found in a file: where ("services.web.ports[1]") and what.
struct DeploymentProblem {
  std::string path;
  std::string message;
};

}  // namespace mcore::engine
