#pragma once
// Docker's default device rules. Without them a container's root, which holds CAP_MKNOD, could create
// /dev/sda and read the host's disk. Both backends enforce the same list: v1 through the devices
// controller, v2 through a BPF_CGROUP_DEVICE program.
#include <cstdint>
#include <span>
#include <string>

namespace mcore::cgroup {

struct DeviceRule {
  char type;            // 'c', 'b', or 'a' (both)
  std::int64_t major;   // -1: any
  std::int64_t minor;   // -1: any
  const char* access;   // any of "r", "w", "m"
};

// Allowed by default; everything else is denied.
std::span<const DeviceRule> default_device_rules();

// "c 1:3 rwm", "b *:* m": the line cgroup v1's devices.allow takes.
std::string to_v1_rule(const DeviceRule& rule);

}  // namespace mcore::cgroup
