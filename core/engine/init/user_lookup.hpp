#pragma once
// Resolves `-u user[:group]` against the container's own /etc/passwd and /etc/group, the way runc and
// Docker do. It runs in the container init after pivot_root, so it is allocation-free and works on
// buffers the caller read.
#include <sys/types.h>

#include <cstddef>

namespace mcore::engine {

inline constexpr std::size_t kMaxAdditionalGroups = 64;

struct ResolvedUser {
  uid_t uid = 0;
  gid_t gid = 0;
  gid_t additional_gids[kMaxAdditionalGroups] = {};
  std::size_t additional_count = 0;
  char home[256] = "/";
};

enum class UserLookupResult { ok, user_not_found, group_not_found };

// `user` is a name or a numeric uid ("" means root); `group` a name, a numeric gid, or null. `passwd`
// and `groups` are the files' NUL-terminated contents (null when a file is missing). Rules: a name must
// exist; a number need not (then gid 0 and home "/" unless given); without an explicit group the
// primary group comes from passwd and the additional groups are every group listing the user as member.
UserLookupResult resolve_user(const char* passwd, const char* groups, const char* user, const char* group,
                              ResolvedUser& out) noexcept;

}  // namespace mcore::engine
