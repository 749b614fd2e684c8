// --userns=auto's choice of a free range out of the subordinate ranges.
#include <gtest/gtest.h>

#include "engine/userns/id_range_allocation.hpp"

namespace mcore::engine {
namespace {

constexpr std::uint32_t kSize = 65536;

TEST(FirstFreeRange, TheFirstRangeWhenNothingIsInUse) {
  const auto range = first_free_range({{100000, 3 * kSize}}, {}, kSize);
  ASSERT_TRUE(range);
  EXPECT_EQ(range->start, 100000u);
  EXPECT_EQ(range->size, kSize);
}

TEST(FirstFreeRange, SuccessiveAllocationsAreDisjointUntilExhausted) {
  const std::vector<IdRange> available{{100000, 3 * kSize}};
  std::vector<IdRange> in_use;
  for (int i = 0; i < 3; ++i) {
    const auto range = first_free_range(available, in_use, kSize);
    ASSERT_TRUE(range) << "allocation " << i;
    for (const IdRange& used : in_use) EXPECT_FALSE(overlaps(*range, used));
    EXPECT_EQ(range->start, 100000u + i * kSize);
    in_use.push_back(*range);
  }
  EXPECT_FALSE(first_free_range(available, in_use, kSize));
}

TEST(FirstFreeRange, AFreedRangeIsReused) {
  const std::vector<IdRange> available{{100000, 3 * kSize}};
  const std::vector<IdRange> in_use{{100000, kSize}, {100000 + 2 * kSize, kSize}};
  const auto range = first_free_range(available, in_use, kSize);
  ASSERT_TRUE(range);
  EXPECT_EQ(range->start, 100000u + kSize);
}

TEST(FirstFreeRange, SkipsPastRangesInUseInAnyOrderAndIdsOutsideMapsOfOthers) {
  // A --uidmap container took ids in the middle; the next run starts after them.
  const std::vector<IdRange> available{{100000, 4 * kSize}};
  const std::vector<IdRange> in_use{{100000 + kSize + 5, 10}, {100000, 100}};
  const auto range = first_free_range(available, in_use, kSize);
  ASSERT_TRUE(range);
  EXPECT_EQ(range->start, 100000u + kSize + 15);
}

TEST(FirstFreeRange, TakesARangeWholeFromOneAvailableRange) {
  const std::vector<IdRange> available{{100000, kSize / 2}, {500000, kSize}};
  const auto range = first_free_range(available, {}, kSize);
  ASSERT_TRUE(range);
  EXPECT_EQ(range->start, 500000u);
  EXPECT_FALSE(first_free_range({{100000, kSize - 1}}, {}, kSize));
  EXPECT_FALSE(first_free_range({{100000, kSize}}, {}, 0));
}

TEST(FirstFreeRange, WorksAtTheTopOfTheIdSpace) {
  const auto range = first_free_range({{4294967295u - kSize, kSize}}, {}, kSize);
  ASSERT_TRUE(range);
  EXPECT_EQ(range->end(), 4294967295u);
}

}  // namespace
}  // namespace mcore::engine
