#pragma once
// Closing what a process inherited, for a process that goes on without exec (where close-on-exec
// would have done it).
#include <vector>

namespace mcore::engine {

// Closes every descriptor from 3 up except those in `keep` (negative entries are ignored).
void close_descriptors_except(std::vector<int> keep);

// The descriptors open in this process, ascending (empty when /proc/self/fd cannot be read).
std::vector<int> open_descriptors();

}  // namespace mcore::engine
