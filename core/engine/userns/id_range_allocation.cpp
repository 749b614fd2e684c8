#include "engine/userns/id_range_allocation.hpp"

namespace mcore::engine {

std::optional<IdRange> first_free_range(const std::vector<IdRange>& available,
                                        const std::vector<IdRange>& in_use, std::uint32_t size) {
  if (size == 0) return std::nullopt;
  for (const IdRange& range : available) {
    std::uint64_t candidate = range.start;
    // Each pass moves the candidate past one range in use that it overlaps; it only ever grows, so
    // at most in_use.size() + 1 passes are needed.
    for (std::size_t pass = 0; pass <= in_use.size(); ++pass) {
      if (candidate + size > range.end()) break;
      const IdRange wanted{static_cast<std::uint32_t>(candidate), size};
      const IdRange* blocking = nullptr;
      for (const IdRange& used : in_use) {
        if (overlaps(wanted, used)) {
          blocking = &used;
          break;
        }
      }
      if (blocking == nullptr) return wanted;
      candidate = blocking->end();
    }
  }
  return std::nullopt;
}

}  // namespace mcore::engine
