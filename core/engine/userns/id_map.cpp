#include "engine/userns/id_map.hpp"

#include <algorithm>
#include <charconv>

#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

constexpr std::uint64_t kIdLimit = 4294967295ULL;  // (uid_t)-1: the first id no range may reach

Error bad_entry(std::string_view text, std::string_view flag, std::string_view why) {
  return Error(std::string(flag) + " " + std::string(text) + ": " + std::string(why), 0,
               "give CONTAINER:HOST:SIZE in decimal, for example " + std::string(flag) + " 0:100000:65536");
}

bool fits(const IdRange& range) { return range.end() <= kIdLimit; }

}  // namespace

std::optional<std::uint32_t> parse_id_number(std::string_view field) {
  std::uint32_t value = 0;
  const char* end = field.data() + field.size();
  const auto [at, error] = std::from_chars(field.data(), end, value);
  if (field.empty() || error != std::errc() || at != end) return std::nullopt;
  return value;
}

bool overlaps(const IdRange& a, const IdRange& b) {
  return a.size != 0 && b.size != 0 && a.start < b.end() && b.start < a.end();
}

IdMapEntry parse_id_map_entry(std::string_view text, std::string_view flag) {
  std::string_view fields[3];
  std::string_view rest = text;
  for (int i = 0; i < 3; ++i) {
    const std::size_t colon = rest.find(':');
    if ((i < 2) != (colon != std::string_view::npos)) throw bad_entry(text, flag, "expected three fields");
    fields[i] = rest.substr(0, colon);
    if (colon != std::string_view::npos) rest.remove_prefix(colon + 1);
  }
  const char* names[3] = {"CONTAINER", "HOST", "SIZE"};
  std::uint32_t values[3] = {};
  for (int i = 0; i < 3; ++i) {
    const auto value = parse_id_number(fields[i]);
    if (!value) throw bad_entry(text, flag, std::string(names[i]) + " is not a number from 0 to 4294967294");
    values[i] = *value;
  }
  const IdMapEntry entry{values[0], values[1], values[2]};
  if (entry.size == 0) throw bad_entry(text, flag, "SIZE is 0");
  if (!fits(entry.container_range()) || !fits(entry.host_range())) {
    throw bad_entry(text, flag, "the range runs past id 4294967294");
  }
  return entry;
}

void check_id_map(const IdMap& map, std::string_view flag) {
  if (map.empty()) throw Error(std::string(flag) + ": the map is empty");
  if (map.size() > kMaxIdMapEntries) {
    throw Error(std::string(flag) + ": " + std::to_string(map.size()) +
                " entries, the kernel takes at most " + std::to_string(kMaxIdMapEntries));
  }
  for (std::size_t i = 0; i < map.size(); ++i) {
    for (std::size_t j = i + 1; j < map.size(); ++j) {
      const char* side = overlaps(map[i].container_range(), map[j].container_range()) ? "container"
                         : overlaps(map[i].host_range(), map[j].host_range())         ? "host"
                                                                                      : nullptr;
      if (side != nullptr) {
        throw Error(std::string(flag) + " " + to_string(map[i]) + " and " + to_string(map[j]) +
                        " overlap on the " + side + " side",
                    0, "give each id of the container and of the host to one entry only");
      }
    }
  }
}

std::string proc_id_map_text(const IdMap& map) {
  std::string text;
  for (const IdMapEntry& entry : map) {
    text += std::to_string(entry.container_id) + ' ' + std::to_string(entry.host_id) + ' ' +
            std::to_string(entry.size) + '\n';
  }
  return text;
}

bool is_identity(const IdMap& map) {
  return std::all_of(map.begin(), map.end(),
                     [](const IdMapEntry& entry) { return entry.container_id == entry.host_id; });
}

std::optional<std::uint32_t> host_id_of(const IdMap& map, std::uint32_t container_id) {
  for (const IdMapEntry& entry : map) {
    if (container_id >= entry.container_id && container_id - entry.container_id < entry.size) {
      return entry.host_id + (container_id - entry.container_id);
    }
  }
  return std::nullopt;
}

std::optional<std::uint32_t> container_id_of(const IdMap& map, std::uint32_t host_id) {
  for (const IdMapEntry& entry : map) {
    if (host_id >= entry.host_id && host_id - entry.host_id < entry.size) {
      return entry.container_id + (host_id - entry.host_id);
    }
  }
  return std::nullopt;
}

bool host_ids_within(const IdMap& map, const std::vector<IdRange>& allowed) {
  return std::all_of(map.begin(), map.end(), [&](const IdMapEntry& entry) {
    // Ranges from /etc/subuid may adjoin: walk along them until the entry's end is covered.
    std::uint64_t covered_to = entry.host_id;
    bool moved = true;
    while (covered_to < entry.host_range().end() && moved) {
      moved = false;
      for (const IdRange& range : allowed) {
        if (range.start <= covered_to && covered_to < range.end()) {
          covered_to = range.end();
          moved = true;
        }
      }
    }
    return covered_to >= entry.host_range().end();
  });
}

std::string to_string(const IdMapEntry& entry) {
  return std::to_string(entry.container_id) + ':' + std::to_string(entry.host_id) + ':' +
         std::to_string(entry.size);
}

IdMap parse_id_map_lines(const std::vector<std::string>& lines, std::string_view flag) {
  IdMap map;
  for (const auto& line : lines) map.push_back(parse_id_map_entry(line, flag));
  return map;
}

std::vector<std::string> id_map_lines(const IdMap& map) {
  std::vector<std::string> lines;
  for (const auto& entry : map) lines.push_back(to_string(entry));
  return lines;
}

}  // namespace mcore::engine
