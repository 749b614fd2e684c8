#include "engine/userns/subordinate_ids.hpp"

#include <string>

namespace mcore::engine {

std::vector<IdRange> subordinate_ranges(std::string_view text, std::string_view user_name,
                                        std::uint32_t uid) {
  std::vector<IdRange> ranges;
  const std::string uid_text = std::to_string(uid);
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);

    const std::size_t first = line.find(':');
    const std::size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos || line.find(':', second + 1) != std::string_view::npos) continue;
    const std::string_view owner = line.substr(0, first);
    if (owner.empty() || (owner != user_name && owner != uid_text)) continue;
    const auto start = parse_id_number(line.substr(first + 1, second - first - 1));
    const auto count = parse_id_number(line.substr(second + 1));
    if (!start || !count || *count == 0) continue;
    const IdRange range{*start, *count};
    if (range.end() > 4294967295ULL) continue;
    ranges.push_back(range);
  }
  return ranges;
}

}  // namespace mcore::engine
