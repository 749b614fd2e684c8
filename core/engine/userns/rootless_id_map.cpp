#include "engine/userns/rootless_id_map.hpp"

#include <sstream>
#include <string>

#include "mcore/error.hpp"

namespace mcore::engine {

IdMap rootless_id_map(std::uint32_t own_id, const std::vector<IdRange>& subordinate) {
  constexpr std::uint64_t kLastId = 4294967294;
  IdMap map = {{0, own_id, 1}};
  std::uint64_t next = 1;
  for (const IdRange& range : subordinate) {
    if (map.size() == kMaxIdMapEntries) break;
    if (range.size == 0 || next + range.size - 1 > kLastId) continue;
    map.push_back({static_cast<std::uint32_t>(next), range.start, range.size});
    next += range.size;
  }
  return map;
}

IdMap parse_proc_id_map(std::string_view text) {
  IdMap map;
  std::istringstream lines{std::string(text)};
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string inside, outside, size, extra;
    if (!(fields >> inside)) continue;  // a blank line
    const auto container_id = parse_id_number(inside);
    std::optional<std::uint32_t> host_id, count;
    if (fields >> outside >> size) {
      host_id = parse_id_number(outside);
      count = parse_id_number(size);
    }
    if (!container_id || !host_id || !count || (fields >> extra)) {
      throw Error("an id map line is not three numbers: \"" + line + "\"");
    }
    map.push_back({*container_id, *host_id, *count});
  }
  return map;
}

IdMap identity_of(const IdMap& outer) {
  IdMap identity;
  for (const IdMapEntry& entry : outer)
    identity.push_back({entry.container_id, entry.container_id, entry.size});
  return identity;
}

}  // namespace mcore::engine
