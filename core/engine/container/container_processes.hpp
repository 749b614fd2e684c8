#pragma once
// The host pids of a running container's processes, for `mcore top`: every process whose cgroup, in
// any hierarchy, is the container's group (record.cgroup, the resource driver's path) or one below it.
// Read from /proc/<pid>/cgroup, which names groups the way the driver recorded them, so no cgroup mount
// has to be found. A stopgap until ResourceDriver can list a group's processes itself.
#include <sys/types.h>

#include <string_view>
#include <vector>

#include "engine/container/container_store.hpp"

namespace mcore::engine {

// Whether /proc/<pid>/cgroup `content` puts the process in `group` or below it.
bool in_cgroup(std::string_view content, std::string_view group);

// Sorted. Throws Error when the record names no group.
std::vector<pid_t> container_processes(const ContainerRecord& record);

// The host PIDs of every process in `group` (a path as /proc/PID/cgroup shows it), sorted.
std::vector<pid_t> processes_in_group(std::string_view group);

}  // namespace mcore::engine
