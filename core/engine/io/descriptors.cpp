#include "engine/io/descriptors.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

namespace mcore::engine {

void close_descriptors_except(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  unsigned first = 3;
  for (int fd : keep) {
    if (fd < static_cast<int>(first)) continue;
    if (static_cast<unsigned>(fd) > first) ::syscall(SYS_close_range, first, static_cast<unsigned>(fd) - 1, 0U);
    first = static_cast<unsigned>(fd) + 1;
  }
  ::syscall(SYS_close_range, first, ~0U, 0U);
}

}  // namespace mcore::engine
