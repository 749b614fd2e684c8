#pragma once
// An exclusive flock on a lock file (created when missing), held for one read-modify-write of the
// driver's state files: leases, the network list.
#include <filesystem>

#include "mcore/unique_fd.hpp"

namespace mcore::bridge {

class ExclusiveLock {
 public:
  // Blocks until the lock is held. Throws Error naming the file.
  explicit ExclusiveLock(const std::filesystem::path& file);

 private:
  UniqueFd fd_;
};

}  // namespace mcore::bridge
