// The pure helpers behind `mcore images`: Docker's size and age texts, RFC 3339 parsing, ids, names.
#include <gtest/gtest.h>

#include "cli/image_format.hpp"

namespace mcore::cli {
namespace {

TEST(ImageFormat, SizesUseDecimalUnitsAndThreeDigits) {
  EXPECT_EQ(human_size(0), "0B");
  EXPECT_EQ(human_size(999), "999B");
  EXPECT_EQ(human_size(1000), "1kB");
  EXPECT_EQ(human_size(4'260'000), "4.26MB");
  EXPECT_EQ(human_size(77'812'345), "77.8MB");
  EXPECT_EQ(human_size(1'200'000'000), "1.2GB");
  EXPECT_EQ(human_size(5e12), "5TB");
}

TEST(ImageFormat, ParsesRfc3339WithFractionsAndOffsets) {
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339("2024-01-01T00:00:00Z"), 1704067200);
  EXPECT_EQ(parse_rfc3339("2024-01-01T00:00:00.123456789Z"), 1704067200);
  EXPECT_EQ(parse_rfc3339("2024-01-01T02:00:00+02:00"), 1704067200);
  EXPECT_EQ(parse_rfc3339("2023-12-31T23:30:00-00:30"), 1704067200);
  EXPECT_FALSE(parse_rfc3339(""));
  EXPECT_FALSE(parse_rfc3339("2024-01-01"));
  EXPECT_FALSE(parse_rfc3339("2024-01-01T00:00:00"));
  EXPECT_FALSE(parse_rfc3339("2024-01-01T00:00:00Zjunk"));
}

TEST(ImageFormat, AgesReadLikeDocker) {
  EXPECT_EQ(human_duration_ago(0), "Less than a second ago");
  EXPECT_EQ(human_duration_ago(1), "1 second ago");
  EXPECT_EQ(human_duration_ago(59), "59 seconds ago");
  EXPECT_EQ(human_duration_ago(60), "About a minute ago");
  EXPECT_EQ(human_duration_ago(45 * 60), "45 minutes ago");
  EXPECT_EQ(human_duration_ago(3600), "About an hour ago");
  EXPECT_EQ(human_duration_ago(5 * 3600), "5 hours ago");
  EXPECT_EQ(human_duration_ago(3 * 86400), "3 days ago");
  EXPECT_EQ(human_duration_ago(20 * 86400), "2 weeks ago");
  EXPECT_EQ(human_duration_ago(100 * 86400), "3 months ago");
  EXPECT_EQ(human_duration_ago(800 * 86400), "2 years ago");
  EXPECT_EQ(created_since("2024-01-01T00:00:00Z", 1704067200 + 3 * 86400), "3 days ago");
  EXPECT_EQ(created_since("garbage", 0), "");
}

TEST(ImageFormat, ShortIdsAndFamiliarNames) {
  const std::string id = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  EXPECT_EQ(short_id(id), "0123456789ab");
  EXPECT_EQ(short_id(id, true), id);
  EXPECT_EQ(familiar("docker.io/library/alpine:latest"), "alpine:latest");
  EXPECT_EQ(familiar("127.0.0.1:5000/app:1"), "127.0.0.1:5000/app:1");
  EXPECT_EQ(familiar("NOT VALID"), "NOT VALID");
}

}  // namespace
}  // namespace mcore::cli
