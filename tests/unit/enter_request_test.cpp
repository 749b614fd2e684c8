// The request `mcore exec` hands mcore-enter: what build_process_plan made comes out the same on the
// other side, and damaged bytes are refused rather than half-read.
#include "engine/exec/enter_request.hpp"

#include <linux/seccomp.h>
#include <sched.h>

#include <cstring>

#include <gtest/gtest.h>

namespace mcore::engine {
namespace {

InitPlan sample_plan() {
  ContainerSpec spec;
  spec.args = {"sh", "-c", "echo hi"};
  spec.env = {"PATH=/usr/bin:/bin", "A=b", "EMPTY="};
  spec.working_dir = "/srv";
  spec.user = "nobody";
  spec.group = "nogroup";
  spec.capabilities = 0xa80425fbULL;
  spec.no_new_privileges = true;
  spec.tty = true;
  InitPlan plan;
  build_process_plan(spec, plan);
  plan.seccomp.instructions = {{0x20, 0, 0, 4}, {0x06, 0, 0, 0x7fff0000}};
  plan.seccomp.flags = SECCOMP_FILTER_FLAG_LOG;
  return plan;
}

std::vector<std::string> strings(const std::vector<char*>& pointers) {
  std::vector<std::string> out;
  for (char* pointer : pointers) out.push_back(pointer != nullptr ? pointer : "<null>");
  return out;
}

TEST(EnterRequest, WhatGoesInComesOut) {
  const InitPlan plan = sample_plan();
  const int namespaces = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET;
  EnterRequest request;
  ASSERT_TRUE(decode_enter_request(encode_enter_request(plan, namespaces), request));
  const InitPlan& got = request.process;
  EXPECT_EQ(request.namespaces, namespaces);
  EXPECT_EQ(strings(got.argv), strings(plan.argv));
  EXPECT_EQ(strings(got.envp), strings(plan.envp));
  EXPECT_STREQ(got.working_dir, "/srv");
  EXPECT_STREQ(got.user, "nobody");
  ASSERT_NE(got.group, nullptr);
  EXPECT_STREQ(got.group, "nogroup");
  ASSERT_NE(got.path_env, nullptr);
  EXPECT_STREQ(got.path_env, "/usr/bin:/bin");
  EXPECT_EQ(got.home_slot, plan.home_slot);
  EXPECT_EQ(std::string(got.envp[static_cast<std::size_t>(got.home_slot)]), "HOME=/");
  EXPECT_EQ(got.capabilities, plan.capabilities);
  EXPECT_TRUE(got.no_new_privileges);
  EXPECT_TRUE(got.tty);
  ASSERT_EQ(got.seccomp.instructions.size(), 2u);
  EXPECT_EQ(std::memcmp(got.seccomp.instructions.data(), plan.seccomp.instructions.data(), 2 * sizeof(sock_filter)), 0);
  EXPECT_EQ(got.seccomp.flags, static_cast<unsigned int>(SECCOMP_FILTER_FLAG_LOG));
}

// What an OCI process adds (mcore-oci exec): exact groups, umask, a bounding set, rlimits, preserved
// descriptors.
TEST(EnterRequest, TheOciProcessFieldsComeOut) {
  InitPlan plan = sample_plan();
  plan.umask = 077;
  plan.explicit_groups = true;
  plan.additional_gids = {5, 70000};
  plan.bounding = 0x3fULL;
  plan.rlimits = {{7, 100, 200}, {6, 1, 2}};
  plan.preserve_fds = 6;
  EnterRequest request;
  ASSERT_TRUE(decode_enter_request(encode_enter_request(plan, CLONE_NEWNS), request));
  const InitPlan& got = request.process;
  EXPECT_EQ(got.umask, 077u);
  EXPECT_TRUE(got.explicit_groups);
  EXPECT_EQ(got.additional_gids, (std::vector<gid_t>{5, 70000}));
  EXPECT_EQ(got.bounding, 0x3fULL);
  ASSERT_EQ(got.rlimits.size(), 2u);
  EXPECT_EQ(got.rlimits[0].resource, 7);
  EXPECT_EQ(got.rlimits[0].soft, 100u);
  EXPECT_EQ(got.rlimits[1].hard, 2u);
  EXPECT_EQ(got.preserve_fds, 6);
  plan.preserve_fds = kMaxPreservedFds + 1;
  EXPECT_FALSE(decode_enter_request(encode_enter_request(plan, CLONE_NEWNS), request)) << "too many descriptors";

  const InitPlan plain = sample_plan();
  EnterRequest defaults;
  ASSERT_TRUE(decode_enter_request(encode_enter_request(plain, CLONE_NEWNS), defaults));
  EXPECT_EQ(defaults.process.umask, 022u);
  EXPECT_FALSE(defaults.process.explicit_groups);
  EXPECT_FALSE(defaults.process.bounding.has_value());
  EXPECT_TRUE(defaults.process.rlimits.empty());
  EXPECT_EQ(defaults.process.preserve_fds, 0);
}

TEST(EnterRequest, NoGroupStaysNoGroup) {
  ContainerSpec spec;
  spec.args = {"true"};
  InitPlan plan;
  build_process_plan(spec, plan);
  EnterRequest request;
  ASSERT_TRUE(decode_enter_request(encode_enter_request(plan, 0), request));
  EXPECT_EQ(request.process.group, nullptr);
  EXPECT_EQ(request.process.path_env, nullptr);
}

TEST(EnterRequest, DamagedBytesAreRefused) {
  const std::string bytes = encode_enter_request(sample_plan(), CLONE_NEWNS);
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    EnterRequest request;
    EXPECT_FALSE(decode_enter_request(std::string_view(bytes).substr(0, cut), request)) << "cut at " << cut;
  }
  EnterRequest request;
  EXPECT_FALSE(decode_enter_request(bytes + "x", request)) << "trailing bytes";
  std::string wrong_magic = bytes;
  wrong_magic[0] = 'X';
  EXPECT_FALSE(decode_enter_request(wrong_magic, request));
}

}  // namespace
}  // namespace mcore::engine
