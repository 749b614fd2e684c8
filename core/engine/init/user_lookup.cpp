#include "engine/init/user_lookup.hpp"

#include <cstring>

namespace mcore::engine {
namespace {

// One colon-separated record of a passwd or group file.
struct Fields {
  const char* start[7] = {};
  std::size_t length[7] = {};
  std::size_t count = 0;
};

// Splits the line at `line` (up to '\n' or NUL) into fields; returns the start of the next line.
const char* next_record(const char* line, Fields& fields) {
  fields = {};
  const char* cursor = line;
  fields.start[0] = cursor;
  fields.count = 1;
  while (*cursor != '\0' && *cursor != '\n') {
    if (*cursor == ':' && fields.count < 7) {
      fields.length[fields.count - 1] = static_cast<std::size_t>(cursor - fields.start[fields.count - 1]);
      fields.start[fields.count++] = cursor + 1;
    }
    ++cursor;
  }
  fields.length[fields.count - 1] = static_cast<std::size_t>(cursor - fields.start[fields.count - 1]);
  return *cursor == '\n' ? cursor + 1 : cursor;
}

bool equals(const char* text, std::size_t length, const char* word) {
  return std::strlen(word) == length && std::memcmp(text, word, length) == 0;
}

// Parses a decimal id; false when `text` is not entirely digits or overflows.
bool parse_id(const char* text, std::size_t length, unsigned& out) {
  if (length == 0 || length > 10) return false;
  unsigned long long value = 0;
  for (std::size_t i = 0; i < length; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + static_cast<unsigned>(text[i] - '0');
  }
  if (value > 0xfffffffeULL) return false;
  out = static_cast<unsigned>(value);
  return true;
}

bool is_number(const char* text, unsigned& out) { return parse_id(text, std::strlen(text), out); }

// True when the comma-separated member list contains `name`.
bool has_member(const char* members, std::size_t length, const char* name, std::size_t name_length) {
  std::size_t start = 0;
  for (std::size_t i = 0; i <= length; ++i) {
    if (i == length || members[i] == ',') {
      if (i - start == name_length && std::memcmp(members + start, name, name_length) == 0) return true;
      start = i + 1;
    }
  }
  return false;
}

}  // namespace

UserLookupResult resolve_user(const char* passwd, const char* groups, const char* user, const char* group,
                              ResolvedUser& out) noexcept {
  out = ResolvedUser{};
  unsigned number = 0;
  const bool numeric_user = user[0] == '\0' || is_number(user, number);
  if (user[0] == '\0') number = 0;

  // Passwd: by name, or by uid for a numeric user (which need not exist).
  const char* name = nullptr;
  std::size_t name_length = 0;
  bool found = false;
  for (const char* line = passwd; line != nullptr && *line != '\0';) {
    Fields fields;
    line = next_record(line, fields);
    unsigned uid = 0, gid = 0;
    if (fields.count < 4 || !parse_id(fields.start[2], fields.length[2], uid) ||
        !parse_id(fields.start[3], fields.length[3], gid)) {
      continue;
    }
    bool match = numeric_user ? uid == number : equals(fields.start[0], fields.length[0], user);
    if (!match) continue;
    out.uid = uid;
    out.gid = gid;
    name = fields.start[0];
    name_length = fields.length[0];
    if (fields.count >= 6 && fields.length[5] > 0 && fields.length[5] < sizeof out.home) {
      std::memcpy(out.home, fields.start[5], fields.length[5]);
      out.home[fields.length[5]] = '\0';
    }
    found = true;
    break;
  }
  if (!found) {
    if (!numeric_user) return UserLookupResult::user_not_found;
    out.uid = number;
  }

  if (group != nullptr) {
    // An explicit group replaces the primary group and, as in runc, brings no additional groups.
    if (is_number(group, number)) {
      out.gid = number;
      return UserLookupResult::ok;
    }
    for (const char* line = groups; line != nullptr && *line != '\0';) {
      Fields fields;
      line = next_record(line, fields);
      unsigned gid = 0;
      if (fields.count >= 3 && equals(fields.start[0], fields.length[0], group) &&
          parse_id(fields.start[2], fields.length[2], gid)) {
        out.gid = gid;
        return UserLookupResult::ok;
      }
    }
    return UserLookupResult::group_not_found;
  }

  if (name == nullptr) return UserLookupResult::ok;
  for (const char* line = groups; line != nullptr && *line != '\0';) {
    Fields fields;
    line = next_record(line, fields);
    unsigned gid = 0;
    if (fields.count < 4 || !parse_id(fields.start[2], fields.length[2], gid)) continue;
    if (!has_member(fields.start[3], fields.length[3], name, name_length)) continue;
    bool seen = false;
    for (std::size_t i = 0; i < out.additional_count; ++i) seen = seen || out.additional_gids[i] == gid;
    if (!seen && out.additional_count < kMaxAdditionalGroups) out.additional_gids[out.additional_count++] = gid;
  }
  return UserLookupResult::ok;
}

}  // namespace mcore::engine
