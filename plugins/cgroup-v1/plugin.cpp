#include <memory>

#include "cgroup_v1_driver.hpp"
#include "mcore/plugin.hpp"

namespace mcore::cgroup {
namespace {

std::unique_ptr<Driver> create_driver(const HostContext& context) {
  return std::make_unique<CgroupV1Driver>(context);
}

}  // namespace

const PluginDescriptor kCgroupV1Descriptor{
    kAbiMajor,
    kAbiMinor,
    DriverKind::resource,
    "cgroup-v1",
    "1.0.0",
    "cgroup v1 (hybrid and legacy hosts): memory, cpu, cpuacct, cpuset, pids and freezer hierarchies",
    MCORE_BUILD_TAG,
    &create_driver,
};

}  // namespace mcore::cgroup

MCORE_PLUGIN(mcore::cgroup::kCgroupV1Descriptor)
