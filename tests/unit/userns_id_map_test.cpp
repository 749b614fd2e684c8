// --uidmap/--gidmap entries and whole maps, checked as the kernel will take them.
#include <string>

#include <gtest/gtest.h>

#include "engine/userns/id_map.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

std::string parse_error(const std::string& text) {
  try {
    parse_id_map_entry(text, "--uidmap");
  } catch (const Error& error) {
    return std::string(error.what()) + " | " + error.hint();
  }
  return "no error";
}

std::string check_error(const IdMap& map) {
  try {
    check_id_map(map, "--gidmap");
  } catch (const Error& error) {
    return error.what();
  }
  return "no error";
}

TEST(IdMapEntry, ParsesPodmansThreeFields) {
  const IdMapEntry entry = parse_id_map_entry("0:100000:65536", "--uidmap");
  EXPECT_EQ(entry.container_id, 0u);
  EXPECT_EQ(entry.host_id, 100000u);
  EXPECT_EQ(entry.size, 65536u);
  EXPECT_EQ(to_string(entry), "0:100000:65536");
}

TEST(IdMapEntry, TheLargestRangeEndsBeforeTheInvalidId) {
  const IdMapEntry entry = parse_id_map_entry("0:0:4294967295", "--uidmap");
  EXPECT_EQ(entry.size, 4294967295u);
  EXPECT_NE(parse_error("1:0:4294967295"), "no error");
  EXPECT_NE(parse_error("0:1:4294967295"), "no error");
}

TEST(IdMapEntry, BadTextNamesTheFlagTheTextAndTheFix) {
  const std::string wrong_count = parse_error("0:100000");
  EXPECT_NE(wrong_count.find("--uidmap 0:100000: expected three fields"), std::string::npos) << wrong_count;
  EXPECT_NE(wrong_count.find("for example --uidmap 0:100000:65536"), std::string::npos) << wrong_count;
  EXPECT_NE(parse_error("0:1:2:3").find("expected three fields"), std::string::npos);
  EXPECT_NE(parse_error("a:100000:65536").find("CONTAINER is not a number"), std::string::npos);
  EXPECT_NE(parse_error("0:-1:65536").find("HOST is not a number"), std::string::npos);
  EXPECT_NE(parse_error("0:100000:").find("SIZE is not a number"), std::string::npos);
  EXPECT_NE(parse_error("0:100000:65536 ").find("SIZE is not a number"), std::string::npos);
  EXPECT_NE(parse_error("0:4294967296:1").find("HOST is not a number"), std::string::npos);
  EXPECT_NE(parse_error("0:100000:0").find("SIZE is 0"), std::string::npos);
}

TEST(IdMap, DisjointEntriesPassAndBecomeTheProcText) {
  const IdMap map{{0, 1000, 1}, {1, 100000, 65535}};
  EXPECT_EQ(check_error(map), "no error");
  EXPECT_EQ(proc_id_map_text(map), "0 1000 1\n1 100000 65535\n");
}

TEST(IdMap, OverlapsOnEitherSideAreRefusedNamingBothEntries) {
  EXPECT_EQ(check_error({{0, 100000, 10}, {5, 200000, 10}}),
            "--gidmap 0:100000:10 and 5:200000:10 overlap on the container side");
  EXPECT_EQ(check_error({{0, 100000, 10}, {10, 100009, 10}}),
            "--gidmap 0:100000:10 and 10:100009:10 overlap on the host side");
  // Adjoining is not overlapping.
  EXPECT_EQ(check_error({{0, 100000, 10}, {10, 100010, 10}}), "no error");
}

TEST(IdMap, EmptyAndOverlongMapsAreRefused) {
  EXPECT_EQ(check_error({}), "--gidmap: the map is empty");
  IdMap long_map;
  for (std::uint32_t i = 0; i <= kMaxIdMapEntries; ++i) long_map.push_back({i, 100000 + i, 1});
  EXPECT_EQ(check_error(long_map), "--gidmap: 341 entries, the kernel takes at most 340");
  long_map.pop_back();
  EXPECT_EQ(check_error(long_map), "no error");
}

TEST(IdMap, HostIdOfFollowsTheEntryThatCoversTheIdAndContainerIdOfGoesBack) {
  const IdMap map{{0, 1000, 1}, {1, 100000, 65535}};
  EXPECT_EQ(host_id_of(map, 0), 1000u);
  EXPECT_EQ(host_id_of(map, 1), 100000u);
  EXPECT_EQ(host_id_of(map, 65535), 165534u);
  EXPECT_EQ(host_id_of(map, 65536), std::nullopt);
  // And back: container_id_of is its inverse.
  for (std::uint32_t id : {0U, 1U, 65535U}) EXPECT_EQ(container_id_of(map, *host_id_of(map, id)), id);
  EXPECT_EQ(container_id_of(map, 165535), std::nullopt);
  EXPECT_EQ(container_id_of(map, 0), std::nullopt) << "host root is nobody inside";
}

TEST(IdMap, HostIdsWithinAllowedRangesMayCrossAdjoiningRanges) {
  const std::vector<IdRange> allowed{{100000, 65536}, {165536, 65536}, {300000, 10}};
  EXPECT_TRUE(host_ids_within({{0, 100000, 65536}}, allowed));
  EXPECT_TRUE(host_ids_within({{0, 150000, 30000}}, allowed));  // across the two adjoining ranges
  EXPECT_TRUE(host_ids_within({{0, 300000, 10}, {10, 100000, 5}}, allowed));
  EXPECT_FALSE(host_ids_within({{0, 99999, 2}}, allowed));
  EXPECT_FALSE(host_ids_within({{0, 231000, 1000}}, allowed));  // runs past the second range's end
  EXPECT_FALSE(host_ids_within({{0, 300005, 6}}, allowed));
  EXPECT_FALSE(host_ids_within({{0, 0, 1}}, {}));
}

TEST(IdRange, OverlapIsHalfOpen) {
  EXPECT_TRUE(overlaps({10, 5}, {14, 1}));
  EXPECT_FALSE(overlaps({10, 5}, {15, 1}));
  EXPECT_FALSE(overlaps({10, 5}, {5, 5}));
  EXPECT_FALSE(overlaps({10, 0}, {10, 5}));
  EXPECT_TRUE(overlaps({0, 4294967295u}, {4294967294u, 1}));
}

}  // namespace
}  // namespace mcore::engine
