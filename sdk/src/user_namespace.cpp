#include "mcore/user_namespace.hpp"

#include <fstream>

namespace mcore {

bool in_initial_user_namespace() {
  std::ifstream map("/proc/self/uid_map");
  unsigned long inside = 0, outside = 0, size = 0;
  if (!(map >> inside >> outside >> size)) return true;
  return inside == 0 && outside == 0 && size == 4294967295UL;
}

}  // namespace mcore
