#pragma once
// `mcore boot`: what Docker's daemon does when it starts, for a runtime without a daemon. Run at every
// boot (the systemd unit mcore.service installs does) and safe to run at any time, as often as wanted:
//   1. containers lost while running (their supervisor died with a crash, or the machine rebooted and
//      cleared the state root) get their exit recorded, and those whose restart policy says so are
//      started again;
//   2. stopped containers with --restart always are started, and with unless-stopped unless a user
//      stopped them (Docker's rules at daemon start);
//   3. what the dead left behind (cgroups, writable layers, runtime directories, leases, port rules,
//      half-done downloads and unpacks) is swept, as `mcore prune` would, but no container is removed.
// Starts go in dependency order within a deployment (a service after those it depends on), the rest in
// creation order. A container that fails to start is reported and the others still start.
#include <map>
#include <string>
#include <vector>

#include "engine/context/engine.hpp"

namespace mcore::engine {

struct BootReport {
  std::vector<std::string> started;   // container names
  std::vector<std::string> recorded;  // lost containers whose exit was recorded, without a restart
  std::vector<std::string> swept;     // leftovers removed, one line each
  std::vector<std::string> failed;    // "name: why"
};

BootReport boot_containers(Engine& engine);

// The order a deployment's services start in: each after the services it depends on, the rest kept in
// the order given. `depends_on` maps a service to the services it needs; unknown names are ignored.
std::vector<std::string> dependency_order(const std::vector<std::string>& services,
                                          const std::map<std::string, std::vector<std::string>>& depends_on);

}  // namespace mcore::engine
