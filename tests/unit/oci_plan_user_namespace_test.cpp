// An OCI bundle with a new user namespace turned into the init's plan: the root and every bind source
// come from mcore-oci (the container's root may not reach the bundle), devices are the host's nodes
// bound in, and what such a namespace may not mount or join is left out or refused.
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "engine/oci/oci_plan.hpp"
#include "engine/oci/runtime_spec.hpp"
#include "test_support.hpp"

namespace mcore::engine {
namespace {

using nlohmann::json;

RuntimeSpec mapped_spec(const std::function<void(json&)>& change = {}) {
  json document = default_runtime_spec();
  document["process"]["args"] = {"true"};
  document["linux"]["namespaces"].push_back({{"type", "user"}});
  document["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  document["linux"]["gidMappings"] = document["linux"]["uidMappings"];
  document["mounts"].push_back(
      {{"destination", "/data"}, {"type", "bind"}, {"source", "/srv/data"}, {"options", {"rbind"}}});
  if (change) change(document);
  return parse_runtime_spec(document, "/bundles/b1");
}

const InitStep* step_for(const InitPlan& plan, const char* target) {
  for (const auto& step : plan.steps) {
    if (step.target != nullptr && std::strcmp(step.target, target) == 0) return &step;
  }
  return nullptr;
}

TEST(OciPlanUserNamespace, RootAndBindSourcesComeFromTheParent) {
  OciLaunchPlan plan;
  build_oci_plan(mapped_spec(), {{"memory", "cgroup", "memory"}, {"unified", "cgroup2", ""}}, plan);
  EXPECT_NE(plan.clone_flags & CLONE_NEWUSER, 0u);
  const InitStep* root = step_for(plan.init, "/bundles/b1/rootfs");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->kind, InitStepKind::attach_root);
  const InitStep* data = step_for(plan.init, "data");
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(data->kind, InitStepKind::bind_in_root);
  EXPECT_TRUE(data->source_sent);
  const InitStep* null_device = step_for(plan.init, "dev/null");
  ASSERT_NE(null_device, nullptr);
  EXPECT_EQ(null_device->kind, InitStepKind::bind_in_root) << "mknod is not allowed in a user namespace";
  EXPECT_TRUE(null_device->source_sent);
  EXPECT_TRUE(plan.init.cgroup_mounts.empty()) << "a user namespace may not mount a v1 hierarchy";

  OciLaunchPlan host;
  build_oci_plan(mapped_spec([](json& document) {
                   document["linux"]["namespaces"].erase(document["linux"]["namespaces"].size() - 1);
                   document["linux"].erase("uidMappings");
                   document["linux"].erase("gidMappings");
                 }),
                 {{"memory", "cgroup", "memory"}}, host);
  EXPECT_EQ(step_for(host.init, "/bundles/b1/rootfs")->kind, InitStepKind::mount_host);
  EXPECT_FALSE(step_for(host.init, "data")->source_sent);
  EXPECT_EQ(step_for(host.init, "dev/null")->kind, InitStepKind::mknod_in_root);
}

TEST(OciPlanUserNamespace, DevicesAreTheHostsNodesOrRefused) {
  OciLaunchPlan plan;
  build_oci_plan(
      mapped_spec([](json& document) {
        document["linux"]["devices"] = {{{"path", "/dev/full"}, {"type", "c"}, {"major", 1}, {"minor", 7}}};
      }),
      {}, plan);
  const InitStep* full = step_for(plan.init, "dev/full");
  ASSERT_NE(full, nullptr);
  EXPECT_EQ(full->kind, InitStepKind::bind_in_root);
  EXPECT_STREQ(full->source, "/dev/full");

  OciLaunchPlan wrong;
  const std::string error = test::error_of([&] {
    build_oci_plan(
        mapped_spec([](json& document) {
          document["linux"]["devices"] = {{{"path", "/dev/full"}, {"type", "c"}, {"major", 1}, {"minor", 3}}};
        }),
        {}, wrong);
  });
  EXPECT_NE(error.find("linux.devices[0]: in a user namespace the device is bound from the host's /dev/full"),
            std::string::npos)
      << error;
}

TEST(OciPlanUserNamespace, JoiningByPathIsRefused) {
  OciLaunchPlan plan;
  const std::string error = test::error_of([&] {
    build_oci_plan(mapped_spec([](json& document) {
                     for (auto& entry : document["linux"]["namespaces"]) {
                       if (entry["type"] == "network") entry["path"] = "/proc/self/ns/net";
                     }
                   }),
                   {}, plan);
  });
  EXPECT_NE(error.find("together with a new user namespace is not supported"), std::string::npos) << error;
}

}  // namespace
}  // namespace mcore::engine
