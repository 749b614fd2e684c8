#pragma once
// What commands killed midway (or stopped by a full disk) leave on disk, and its removal: partial
// downloads and temporary blobs of pulls, loads, imports and commits; half-applied or half-removed
// layers; staged volumes; staged records and container directories without a record. Each is taken
// only when no command in progress can still be working on it. `mcore prune`, `image prune` and
// `boot` call this.
#include <cstdint>
#include <string>
#include <vector>

#include "engine/context/engine.hpp"

namespace mcore::engine {

struct ReclaimReport {
  std::vector<std::string> removed;  // one line per thing removed
  std::uint64_t blob_bytes = 0;      // bytes of blobs/tmp freed
};

ReclaimReport reclaim_interrupted_work(Engine& engine);

}  // namespace mcore::engine
