// The resource conformance kit (sdk/conformance) against the in-tree cgroup drivers. Each case's groups
// live beneath this process's own cgroup. A backend the host lacks is skipped: cgroup-v2 on a hybrid
// host (its controllers are on v1), cgroup-v1 on a pure v2 host.
#include "mcore/conformance/resource_conformance.hpp"

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using namespace mcore::conformance;

// The controllers the drivers need, as /proc/self/cgroup and the mounts show them.
std::string v1_unavailable() {
  for (const char* controller : {"memory", "cpu", "cpuacct", "cpuset", "pids", "freezer", "devices"}) {
    if (!fs::is_directory(fs::path("/sys/fs/cgroup") / controller)) {
      return std::string("no cgroup v1 ") + controller + " hierarchy (a pure cgroup v2 host)";
    }
  }
  return {};
}

std::string v2_unavailable() {
  const std::string controllers = mcore::test::read_text("/sys/fs/cgroup/cgroup.controllers");
  for (const char* controller : {"memory", "cpu", "pids"}) {
    if (controllers.find(controller) == std::string::npos) {
      return std::string("/sys/fs/cgroup is no cgroup v2 hierarchy with the ") + controller +
             " controller (a hybrid host: controllers are on cgroup v1)";
    }
  }
  return {};
}

ResourceTarget cgroup_target(const std::string& name, AvailabilityCheck unavailable) {
  return ResourceTarget{
      .name = name,
      .factory = plugin_factory(fs::path(MCORE_PLUGIN_BUILD_DIR) / ("mcore-resource-" + name + ".so")),
      // A relative parent: below the cgroup this test runs in.
      .config =
          [](const std::string& parent) {
            return nlohmann::json{{"cgroup_parent", parent}};
          },
      .cgroup_parent_prefix = "mcore-conformance",
      .remove_parent = mcore::test::remove_cgroup_tree,
      .unavailable = std::move(unavailable),
  };
}

INSTANTIATE_TEST_SUITE_P(InTree, ResourceConformance,
                         ::testing::Values(cgroup_target("cgroup-v1", v1_unavailable),
                                           cgroup_target("cgroup-v2", v2_unavailable)),
                         TargetName());

}  // namespace
