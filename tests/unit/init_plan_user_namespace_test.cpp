// The init's script for a container in a user namespace of its own: the root comes from the parent,
// devices are the host's nodes bound in, and only what such a namespace may mount is mounted.
#include <sys/mount.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "engine/init/init_plan.hpp"

namespace mcore::engine {
namespace {

RootfsPlan overlay_root() {
  RootfsPlan rootfs;
  rootfs.rootfs = "/var/lib/mcore/overlay/containers/c/merged";
  MountSpec overlay;
  overlay.source = "overlay";
  overlay.target = rootfs.rootfs;
  overlay.fstype = "overlay";
  overlay.data = "lowerdir=l/a,upperdir=c/upper,workdir=c/work";
  rootfs.mounts.push_back(overlay);
  return rootfs;
}

const InitStep* step_for(const InitPlan& plan, const char* target) {
  for (const auto& step : plan.steps) {
    if (step.target != nullptr && std::strcmp(step.target, target) == 0) return &step;
  }
  return nullptr;
}

ContainerSpec mapped_spec() {
  ContainerSpec spec;
  spec.args = {"sh"};
  spec.uid_map = {{0, 100000, 65536}};
  spec.gid_map = {{0, 100000, 65536}};
  return spec;
}

CgroupView hybrid_cgroups() { return {true, {{"memory", "cgroup", "memory"}, {"unified", "cgroup2", ""}}}; }

TEST(InitPlanUserNamespace, TheRootIsAttachedNotMounted) {
  InitPlan plan;
  build_init_plan(mapped_spec(), overlay_root(), {}, {}, plan);
  const InitStep* root = step_for(plan, "/var/lib/mcore/overlay/containers/c/merged");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->kind, InitStepKind::attach_root);
  EXPECT_TRUE(std::none_of(plan.steps.begin(), plan.steps.end(),
                           [](const InitStep& step) { return step.kind == InitStepKind::mount_host; }));

  InitPlan host;
  ContainerSpec shared = mapped_spec();
  shared.uid_map.clear();
  shared.gid_map.clear();
  build_init_plan(shared, overlay_root(), {}, {}, host);
  EXPECT_EQ(step_for(host, "/var/lib/mcore/overlay/containers/c/merged")->kind, InitStepKind::mount_host);
}

TEST(InitPlanUserNamespace, DevicesAreTheHostsNodesBoundIn) {
  InitPlan plan;
  build_init_plan(mapped_spec(), overlay_root(), {}, {}, plan);
  const InitStep* null = step_for(plan, "dev/null");
  ASSERT_NE(null, nullptr);
  EXPECT_EQ(null->kind, InitStepKind::bind_in_root);
  EXPECT_STREQ(null->source, "/dev/null");
  EXPECT_TRUE(std::none_of(plan.steps.begin(), plan.steps.end(),
                           [](const InitStep& step) { return step.kind == InitStepKind::mknod_in_root; }));
  EXPECT_EQ(step_for(plan, "dev/ptmx")->kind, InitStepKind::symlink_in_root);
}

TEST(InitPlanUserNamespace, PrivilegedBindsTheHostsDevicesAndHostNetworkBindsItsSys) {
  ContainerSpec spec = mapped_spec();
  spec.privileged = true;
  spec.network = NetworkMode::host;
  InitPlan plan;
  build_init_plan(spec, overlay_root(), {}, {}, plan);
  EXPECT_TRUE(std::none_of(plan.steps.begin(), plan.steps.end(), [](const InitStep& step) {
    return step.kind == InitStepKind::mknod_in_root;
  })) << "mknod is not allowed in a user namespace";
  if (std::filesystem::exists("/dev/kmsg")) {  // a host device beyond the default set
    const InitStep* kmsg = step_for(plan, "dev/kmsg");
    ASSERT_NE(kmsg, nullptr);
    EXPECT_EQ(kmsg->kind, InitStepKind::bind_in_root);
    EXPECT_STREQ(kmsg->source, "/dev/kmsg");
  }
  EXPECT_EQ(std::count_if(plan.steps.begin(), plan.steps.end(),
                          [](const InitStep& step) {
                            return step.target && std::strcmp(step.target, "dev/null") == 0;
                          }),
            1)
      << "a default node is not bound twice";
  EXPECT_EQ(step_for(plan, "dev/ptmx")->kind, InitStepKind::symlink_in_root)
      << "the link stays, not the host's ptmx";
  const InitStep* sys = step_for(plan, "sys");
  ASSERT_NE(sys, nullptr);
  EXPECT_EQ(sys->kind, InitStepKind::bind_in_root)
      << "sysfs of the host's network namespace is not its to mount";
  EXPECT_STREQ(sys->source, "/sys");
  EXPECT_EQ(bind_flags(*sys), static_cast<unsigned long>(MS_BIND)) << "without the host's submounts";
  EXPECT_TRUE(sys->read_only);
  EXPECT_TRUE(sys->source_sent);

  ContainerSpec own_network = mapped_spec();
  InitPlan mounted;
  build_init_plan(own_network, overlay_root(), {}, {}, mounted);
  EXPECT_EQ(step_for(mounted, "sys")->kind, InitStepKind::mount_in_root);
}

TEST(InitPlanUserNamespace, DevptsNamesTheTtyGroupOnlyWhenItIsMapped) {
  InitPlan mapped;
  build_init_plan(mapped_spec(), overlay_root(), {}, {}, mapped);
  EXPECT_NE(std::string(step_for(mapped, "dev/pts")->data).find("gid=5"), std::string::npos);
  ContainerSpec root_only = mapped_spec();
  root_only.gid_map = {{0, 100000, 1}};
  InitPlan unmapped;
  build_init_plan(root_only, overlay_root(), {}, {}, unmapped);
  EXPECT_EQ(std::string(step_for(unmapped, "dev/pts")->data).find("gid="), std::string::npos);
}

TEST(InitPlanUserNamespace, CgroupV1HierarchiesAreNotMountedInAUserNamespace) {
  InitPlan mapped;
  build_init_plan(mapped_spec(), overlay_root(), {}, hybrid_cgroups(), mapped);
  EXPECT_TRUE(mapped.cgroup_mounts.empty());
  EXPECT_TRUE(mapped.new_cgroup_namespace);
  InitPlan pure_v2;
  build_init_plan(mapped_spec(), overlay_root(), {}, {true, {{"", "cgroup2", ""}}}, pure_v2);
  EXPECT_EQ(pure_v2.cgroup_mounts.size(), 1u);
  ContainerSpec shared = mapped_spec();
  shared.uid_map.clear();
  shared.gid_map.clear();
  InitPlan host;
  build_init_plan(shared, overlay_root(), {}, hybrid_cgroups(), host);
  EXPECT_EQ(host.cgroup_mounts.size(), 2u);
}

}  // namespace
}  // namespace mcore::engine
