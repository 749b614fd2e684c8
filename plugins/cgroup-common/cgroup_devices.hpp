#pragma once
// Docker's default device rules. Without them a container's root, which holds CAP_MKNOD, could create
// /dev/sda and read the host's disk. Both backends enforce the same list: v1 through the devices
// controller, v2 through a BPF_CGROUP_DEVICE program.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mcore/resource_driver.hpp"

namespace mcore::cgroup {

struct DeviceRule {
  char type;            // 'c', 'b', or 'a' (both)
  std::int64_t major;   // -1: any
  std::int64_t minor;   // -1: any
  std::string_view access;  // any of "r", "w", "m"
};

// Allowed by default; everything else is denied.
std::span<const DeviceRule> default_device_rules();

// The defaults and then `allowed` (which the rules point into: keep it alive). Throws Error naming
// the allowance when its type or access is not one the kernel knows.
std::vector<DeviceRule> device_rules(const std::vector<DeviceAllowance>& allowed);

// "c 1:3 rwm", "b *:* m": the line cgroup v1's devices.allow takes.
std::string to_v1_rule(const DeviceRule& rule);

}  // namespace mcore::cgroup
