#include "engine/context/ungrouped_resources.hpp"

#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

constexpr const char* kWhy =
    "rootless mcore has no cgroup of its own on this host (cgroup v1, or v2 without "
    "a delegated subtree)";

// The first limit set, as its flag; nullptr when none is.
const char* first_limit(const ResourceLimits& limits) {
  if (limits.memory_bytes) return "--memory";
  if (limits.memory_swap_bytes) return "--memory-swap";
  if (limits.nano_cpus) return "--cpus";
  if (limits.cpu_shares) return "--cpu-shares";
  if (limits.cpuset_cpus) return "--cpuset-cpus";
  if (limits.cpuset_mems) return "--cpuset-mems";
  if (limits.pids_limit) return "--pids-limit";
  return nullptr;
}

constexpr const char* kLimitHint =
    "run it without resource limits, as root, or on a cgroup v2 host where systemd "
    "delegates the user a cgroup (user@.service)";

[[noreturn]] void refuse(const std::string& what, const char* hint = kLimitHint) {
  throw Error(what + ": " + kWhy, 0, hint);
}

}  // namespace

void UngroupedResources::create(const ResourceRequest& request) {
  if (const char* flag = first_limit(request.limits)) refuse(std::string(flag) + " cannot be enforced");
  if (!request.allowed_devices.empty()) refuse("device rules cannot be enforced");
}

ResourceStats UngroupedResources::stats(const std::string&) const {
  refuse("usage statistics are not counted",
         "run it as root, or on a cgroup v2 host with a delegated cgroup");
}

void UngroupedResources::freeze(const std::string&) {
  refuse("pausing a container needs a cgroup freezer",
         "commit a running container with --pause=false, or stop it first");
}

void UngroupedResources::update(const std::string&, const ResourceLimits& limits) {
  refuse(std::string(first_limit(limits) != nullptr ? first_limit(limits) : "a limit") +
         " cannot be enforced");
}

}  // namespace mcore::engine
