#pragma once
// The network namespace where the pasta driver's user networks keep their bridges. A holder process
// ("mcore-netns", see mcore/holder_process.hpp) keeps it, in the user namespace of the command that
// made it: rootless mcore's commands all join that one (the core's namespace holder), so each of them
// may add a container's veth pair to a bridge there. A holder in another user namespace (the user's
// namespace was made again, its holder killed) is of no use: a new one replaces it in the pid file and
// the bridges come back at the next attach, while the old one serves the containers on its bridges.
#include <filesystem>

#include "mcore/unique_fd.hpp"

namespace mcore::pasta {

class BridgeNamespace {
 public:
  explicit BridgeNamespace(std::filesystem::path state_dir);

  // The namespace, opened; made with its holder when none serves this user namespace. Throws Error.
  UniqueFd open_or_create() const;
  // The namespace, opened; none when no holder serves this user namespace.
  UniqueFd open_existing() const;
  // Kills the holder: the bridges go with the namespace. Idempotent.
  void stop() const;

 private:
  std::filesystem::path pid_file() const;

  std::filesystem::path state_dir_;
};

}  // namespace mcore::pasta
