// The build ID of a loaded binary, the seccomp cache's key for mcore's own profile.
#include <gtest/gtest.h>

#include <unistd.h>

#include "engine/util/build_id.hpp"

namespace mcore::engine {
namespace {

void marker() {}

bool is_hex(const std::string& text) { return text.find_first_not_of("0123456789abcdef") == std::string::npos; }

TEST(BuildId, TheBinaryHoldingAnAddressHasOneAndKeepsIt) {
  const auto own = build_id_of(reinterpret_cast<const void*>(&marker));
  ASSERT_TRUE(own.has_value()) << "this test binary was linked with a build ID (the toolchain's default)";
  EXPECT_EQ(own->size(), 40u) << *own;  // SHA-1, ld's default
  EXPECT_TRUE(is_hex(*own)) << *own;
  EXPECT_EQ(build_id_of(reinterpret_cast<const void*>(&marker)), own);
}

TEST(BuildId, EachBinaryHasItsOwn) {
  const auto own = build_id_of(reinterpret_cast<const void*>(&marker));
  const auto libc = build_id_of(reinterpret_cast<const void*>(&::getpid));
  ASSERT_TRUE(libc.has_value());
  EXPECT_NE(libc, own);
}

TEST(BuildId, AnAddressNoBinaryHoldsHasNone) {
  int on_the_stack = 0;
  EXPECT_EQ(build_id_of(&on_the_stack), std::nullopt);
  EXPECT_EQ(build_id_of(nullptr), std::nullopt);
}

}  // namespace
}  // namespace mcore::engine
