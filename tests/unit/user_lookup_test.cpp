// -u resolution against passwd and group contents, as the container init does it.
#include "engine/init/user_lookup.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mcore::engine {
namespace {

constexpr const char* kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "daemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n"
    "broken line without fields\n"
    "app:x:1000:1000:App User:/home/app:/bin/sh\n"
    "nohome:x:1001:1001";
constexpr const char* kGroups =
    "root:x:0:\n"
    "wheel:x:10:root,app\n"
    "app:x:1000:\n"
    "audio:x:29:daemon,app\n"
    "staff:x:50:";

std::vector<gid_t> additional(const ResolvedUser& user) {
  return {user.additional_gids, user.additional_gids + user.additional_count};
}

TEST(ResolveUser, RootByDefaultWithItsGroups) {
  ResolvedUser user;
  ASSERT_EQ(resolve_user(kPasswd, kGroups, "", nullptr, user), UserLookupResult::ok);
  EXPECT_EQ(user.uid, 0u);
  EXPECT_EQ(user.gid, 0u);
  EXPECT_STREQ(user.home, "/root");
  EXPECT_EQ(additional(user), std::vector<gid_t>{10});
}

TEST(ResolveUser, ByNameTakesPrimaryGroupHomeAndMemberships) {
  ResolvedUser user;
  ASSERT_EQ(resolve_user(kPasswd, kGroups, "app", nullptr, user), UserLookupResult::ok);
  EXPECT_EQ(user.uid, 1000u);
  EXPECT_EQ(user.gid, 1000u);
  EXPECT_STREQ(user.home, "/home/app");
  EXPECT_EQ(additional(user), (std::vector<gid_t>{10, 29}));
}

TEST(ResolveUser, ByUidFindsTheEntryButNeedsNone) {
  ResolvedUser user;
  ASSERT_EQ(resolve_user(kPasswd, kGroups, "1", nullptr, user), UserLookupResult::ok);
  EXPECT_EQ(user.gid, 1u);
  EXPECT_STREQ(user.home, "/usr/sbin");
  EXPECT_EQ(additional(user), std::vector<gid_t>{29});
  ASSERT_EQ(resolve_user(kPasswd, kGroups, "4321", nullptr, user), UserLookupResult::ok);
  EXPECT_EQ(user.uid, 4321u);
  EXPECT_EQ(user.gid, 0u);
  EXPECT_STREQ(user.home, "/");
  EXPECT_EQ(user.additional_count, 0u);
}

TEST(ResolveUser, ExplicitGroupByNameOrIdReplacesMemberships) {
  ResolvedUser user;
  ASSERT_EQ(resolve_user(kPasswd, kGroups, "app", "staff", user), UserLookupResult::ok);
  EXPECT_EQ(user.gid, 50u);
  EXPECT_EQ(user.additional_count, 0u);
  ASSERT_EQ(resolve_user(kPasswd, kGroups, "app", "777", user), UserLookupResult::ok);
  EXPECT_EQ(user.gid, 777u);
}

TEST(ResolveUser, UnknownNamesAreErrors) {
  ResolvedUser user;
  EXPECT_EQ(resolve_user(kPasswd, kGroups, "bob", nullptr, user), UserLookupResult::user_not_found);
  EXPECT_EQ(resolve_user(kPasswd, kGroups, "app", "nogroup", user), UserLookupResult::group_not_found);
  // A line with too few fields never matches, even by its first word.
  EXPECT_EQ(resolve_user(kPasswd, kGroups, "broken line without fields", nullptr, user),
            UserLookupResult::user_not_found);
}

TEST(ResolveUser, MissingFilesStillAllowNumericIds) {
  ResolvedUser user;
  ASSERT_EQ(resolve_user(nullptr, nullptr, "1000", "1000", user), UserLookupResult::ok);
  EXPECT_EQ(user.uid, 1000u);
  EXPECT_EQ(user.gid, 1000u);
  EXPECT_EQ(resolve_user(nullptr, nullptr, "app", nullptr, user), UserLookupResult::user_not_found);
  // The last entry may lack a home field and a trailing newline.
  ASSERT_EQ(resolve_user(kPasswd, kGroups, "nohome", nullptr, user), UserLookupResult::ok);
  EXPECT_EQ(user.uid, 1001u);
  EXPECT_STREQ(user.home, "/");
}

}  // namespace
}  // namespace mcore::engine
