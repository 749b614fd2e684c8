#include "cgroup_devices.hpp"

#include <array>

#include "mcore/error.hpp"

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

std::vector<DeviceRule> device_rules(const std::vector<DeviceAllowance>& allowed) {
  std::vector<DeviceRule> rules(kDefaultRules.begin(), kDefaultRules.end());
  for (const auto& device : allowed) {
    const std::string shown = std::string(1, device.type) + " " + number(device.major) + ":" + number(device.minor) +
                              " " + device.access;
    const bool known_access = !device.access.empty() &&
                              device.access.find_first_not_of("rwm") == std::string::npos;
    if ((device.type != 'a' && device.type != 'b' && device.type != 'c') || !known_access) {
      throw Error("device rule \"" + shown + "\" is not valid", EINVAL,
                  "the type is c, b or a, the access some of r, w and m");
    }
    rules.push_back({device.type, device.major, device.minor, device.access});
  }
  return rules;
}

std::string to_v1_rule(const DeviceRule& rule) {
  return std::string(1, rule.type) + " " + number(rule.major) + ":" + number(rule.minor) + " " +
         std::string(rule.access);
}

}  // namespace mcore::cgroup
