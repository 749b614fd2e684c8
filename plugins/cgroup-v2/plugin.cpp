#include <memory>

#include "cgroup_v2_driver.hpp"
#include "mcore/plugin.hpp"

namespace mcore::cgroup {
namespace {

std::unique_ptr<Driver> create_driver(const HostContext& context) {
  return std::make_unique<CgroupV2Driver>(context);
}

}  // namespace

const PluginDescriptor kCgroupV2Descriptor{
    kAbiMajor,
    kAbiMinor,
    DriverKind::resource,
    "cgroup-v2",
    "1.0.0",
    "cgroup v2 (unified hierarchy): memory, cpu, cpuset, pids, freezer and cgroup.kill",
    MCORE_BUILD_TAG,
    &create_driver,
};

}  // namespace mcore::cgroup

MCORE_PLUGIN(mcore::cgroup::kCgroupV2Descriptor)
