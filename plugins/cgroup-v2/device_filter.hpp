#pragma once
// cgroup v2 has no devices controller: device access is decided by a BPF_PROG_TYPE_CGROUP_DEVICE
// program attached to the group, built here from the same rules the v1 driver writes.
#include <filesystem>
#include <span>

#include "cgroup_devices.hpp"

namespace mcore::cgroup {

// Builds a program that allows exactly `rules` (everything else denied) and attaches it to `group`.
// The attachment lives as long as the group. Throws Error naming the group.
void attach_device_filter(const std::filesystem::path& group, std::span<const DeviceRule> rules);

}  // namespace mcore::cgroup
