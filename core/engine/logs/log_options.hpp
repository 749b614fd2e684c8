#pragma once
// --log-opt for the json-file log, apart from the rest of the spec: the supervisor needs only this.
#include <cstdint>

namespace mcore::engine {

// Rotate when the current file would pass max_size bytes, keeping max_files files in all (the current
// one included).
struct LogOptions {
  std::uint64_t max_size = 0;  // 0: never rotate
  unsigned max_files = 1;
};

}  // namespace mcore::engine
