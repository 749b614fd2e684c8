// in_cgroup(): which /proc/<pid>/cgroup contents put a process in a container's group, v1 and v2.
#include <gtest/gtest.h>

#include "engine/container/container_processes.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

TEST(ContainerProcesses, MatchesTheGroupAndGroupsBelowItInAnyHierarchy) {
  const std::string group = "/mcore/abc";
  EXPECT_TRUE(in_cgroup("0::/mcore/abc\n", group));
  EXPECT_TRUE(in_cgroup("0::/mcore/abc/init\n", group));
  // cgroup v1: one line per hierarchy; the group need only appear in one of them.
  EXPECT_TRUE(in_cgroup("9:name=systemd:/\n4:memory:/mcore/abc\n0::/\n", group));
  EXPECT_FALSE(in_cgroup("0::/mcore/abcd\n", group)) << "a sibling whose name starts alike";
  EXPECT_FALSE(in_cgroup("0::/mcore\n", group)) << "the parent";
  EXPECT_FALSE(in_cgroup("0::/other/mcore/abc\n", group));
  EXPECT_FALSE(in_cgroup("", group));
  EXPECT_FALSE(in_cgroup("garbage without colons\n", group));
}

TEST(ContainerProcesses, ARecordWithoutAGroupIsAnError) {
  ContainerRecord record;
  record.id = std::string(64, 'a');
  EXPECT_THROW(container_processes(record), Error);
}

}  // namespace
}  // namespace mcore::engine
