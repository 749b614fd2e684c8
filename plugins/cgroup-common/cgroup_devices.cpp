#include "cgroup_devices.hpp"

#include <array>

namespace mcore::cgroup {
namespace {

// runc's and Docker's defaults (moby oci/devices, runc libcontainer/specconv AllowedDevices).
constexpr std::array kDefaultRules = {
    DeviceRule{'c', -1, -1, "m"},  DeviceRule{'b', -1, -1, "m"},   // mknod anything, open nothing by that
    DeviceRule{'c', 1, 3, "rwm"},  DeviceRule{'c', 1, 5, "rwm"},   // null, zero
    DeviceRule{'c', 1, 7, "rwm"},  DeviceRule{'c', 1, 8, "rwm"},   // full, random
    DeviceRule{'c', 1, 9, "rwm"},  DeviceRule{'c', 5, 0, "rwm"},   // urandom, tty
    DeviceRule{'c', 5, 1, "rwm"},  DeviceRule{'c', 5, 2, "rwm"},   // console, ptmx
    DeviceRule{'c', 136, -1, "rwm"}, DeviceRule{'c', 10, 200, "rwm"},  // pts, tun
};

std::string number(std::int64_t value) { return value < 0 ? "*" : std::to_string(value); }

}  // namespace

std::span<const DeviceRule> default_device_rules() { return kDefaultRules; }

std::string to_v1_rule(const DeviceRule& rule) {
  return std::string(1, rule.type) + " " + number(rule.major) + ":" + number(rule.minor) + " " + rule.access;
}

}  // namespace mcore::cgroup
