#pragma once
// Compiling Docker's default profile costs libseccomp about 7 ms, a fifth of a container start. The
// program depends only on the profile, the capability set and the libseccomp version, so it is kept
// under <state_root>/seccomp/ and reused; a miss compiles and stores it.
#include <filesystem>

#include "engine/security/seccomp_profile.hpp"

namespace mcore::engine {

SeccompProgram cached_default_seccomp(const std::filesystem::path& state_root, CapabilitySet capabilities);

}  // namespace mcore::engine
