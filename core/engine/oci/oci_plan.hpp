#pragma once
// An OCI bundle's runtime spec turned into the engine's init plan: the same executor that runs `mcore
// run`'s containers (init/), fed by a second front end. What is new to it (namespaces joined by path,
// exact groups, rlimits, the exec FIFO barrier) are plan fields with mcore run's defaults.
#include <vector>

#include "engine/init/init_plan.hpp"
#include "engine/oci/runtime_spec.hpp"
#include "mcore/unique_fd.hpp"

namespace mcore::engine {

struct OciLaunchPlan {
  InitPlan init;
  unsigned long clone_flags = 0;  // CLONE_NEW* for the namespaces made new
  // A PID namespace given by path: the parent joins it before the clone (setns on a PID namespace only
  // moves the children).
  UniqueFd pid_namespace;
  std::vector<UniqueFd> joined;  // the descriptors in init.join_namespaces, closed when the plan goes
};

// Builds the plan for `spec`. `hierarchies` are the host's cgroup hierarchies, mounted (in a cgroup
// namespace of the container's own) where the spec mounts "cgroup". Opens every namespace path and checks
// its type. Throws Error naming the config.json field at fault.
void build_oci_plan(const RuntimeSpec& spec, const std::vector<CgroupHierarchy>& hierarchies, OciLaunchPlan& plan);

// The process part alone, for `mcore-oci exec`: command, environment, user, groups, umask, rlimits,
// capabilities, and the container's seccomp profile (`seccomp`, linux.seccomp) compiled for them.
void build_oci_process_plan(const OciProcess& process, const std::optional<nlohmann::json>& seccomp, InitPlan& plan);

}  // namespace mcore::engine
