// The ranges /etc/subuid and /etc/subgid grant a user, by name or by uid.
#include <gtest/gtest.h>

#include "engine/userns/subordinate_ids.hpp"

namespace mcore::engine {
namespace {

bool operator==(const IdRange& a, const IdRange& b) { return a.start == b.start && a.size == b.size; }

constexpr const char* kSubuid =
    "alice:100000:65536\n"
    "bob:165536:65536\n"
    "1002:231072:65536\n"
    "alice:400000:1000\n"
    "# a comment is no entry\n"
    "carol:notanumber:65536\n"
    "carol:500000:0\n"
    "carol:600000\n"
    "carol:4294967000:1000\n"
    "\n"
    "dave:700000:10:extra\n"
    ":800000:10\n"
    "bob:900000:5";  // no final newline

TEST(SubordinateRanges, ByNameInFileOrder) {
  const auto ranges = subordinate_ranges(kSubuid, "alice", 1000);
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_TRUE(ranges[0] == (IdRange{100000, 65536}));
  EXPECT_TRUE(ranges[1] == (IdRange{400000, 1000}));
}

TEST(SubordinateRanges, ByNumericUidAsWell) {
  const auto ranges = subordinate_ranges(kSubuid, "erin", 1002);
  ASSERT_EQ(ranges.size(), 1u);
  EXPECT_TRUE(ranges[0] == (IdRange{231072, 65536}));
  const auto bob = subordinate_ranges(kSubuid, "bob", 1001);
  ASSERT_EQ(bob.size(), 2u);
  EXPECT_TRUE(bob[1] == (IdRange{900000, 5}));
}

TEST(SubordinateRanges, BadLinesAreSkippedNotFatal) {
  EXPECT_TRUE(subordinate_ranges(kSubuid, "carol", 1003).empty());
  EXPECT_TRUE(subordinate_ranges(kSubuid, "dave", 1004).empty());
  EXPECT_TRUE(subordinate_ranges(kSubuid, "", 1005).empty());
  EXPECT_TRUE(subordinate_ranges("", "alice", 1000).empty());
}

TEST(SubordinateRanges, ANameIsNotMatchedByPrefix) {
  EXPECT_TRUE(subordinate_ranges("alice2:100000:65536\n", "alice", 1000).empty());
  EXPECT_TRUE(subordinate_ranges("10000:100000:65536\n", "x", 1000).empty());
}

}  // namespace
}  // namespace mcore::engine
