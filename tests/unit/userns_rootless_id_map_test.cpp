// The maps of rootless mcore's namespace and of the containers nested in it.
#include <gtest/gtest.h>

#include "engine/userns/rootless_id_map.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

TEST(RootlessIdMap, TheUserIsRootAndTheRangesFollowInFileOrder) {
  const IdMap map = rootless_id_map(1000, {{100000, 65536}, {300000, 10}});
  const IdMap expected = {{0, 1000, 1}, {1, 100000, 65536}, {65537, 300000, 10}};
  EXPECT_EQ(map, expected);
}

TEST(RootlessIdMap, EmptyRangesAreSkippedAndTheKernelsLineLimitHolds) {
  std::vector<IdRange> ranges(400, IdRange{500000, 1});
  ranges.front().size = 0;
  const IdMap map = rootless_id_map(1000, ranges);
  EXPECT_EQ(map.size(), kMaxIdMapEntries);
  EXPECT_EQ(map[1].container_id, 1u);
}

TEST(RootlessIdMap, ParsesTheKernelsColumns) {
  const IdMap map = parse_proc_id_map("         0       1000          1\n         1     100000      65536\n");
  const IdMap expected = {{0, 1000, 1}, {1, 100000, 65536}};
  EXPECT_EQ(map, expected);
  EXPECT_EQ(parse_proc_id_map("0 0 4294967295\n"), (IdMap{{0, 0, 4294967295U}}));
  EXPECT_THROW(parse_proc_id_map("0 1000\n"), Error);
  EXPECT_THROW(parse_proc_id_map("0 1000 1 7\n"), Error);
  EXPECT_THROW(parse_proc_id_map("0 x 1\n"), Error);
}

TEST(RootlessIdMap, AContainerSeesEveryIdOfTheNamespaceAsItself) {
  const IdMap identity = identity_of({{0, 1000, 1}, {1, 100000, 65536}});
  const IdMap expected = {{0, 0, 1}, {1, 1, 65536}};
  EXPECT_EQ(identity, expected);
  EXPECT_TRUE(is_identity(identity));
  EXPECT_FALSE(is_identity({{0, 100000, 65536}}));
}

}  // namespace
}  // namespace mcore::engine
