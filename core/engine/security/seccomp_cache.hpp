#pragma once
// Compiling Docker's default profile costs libseccomp about 7 ms, a fifth of a container start. The
// program depends only on the profile, the capability set and the libseccomp that compiled it (its
// file's identity), so it is kept under <state_root>/seccomp/ and reused; a miss compiles and stores it.
// A hit does not load libseccomp at all.
#include <filesystem>

#include "engine/security/seccomp_profile.hpp"

namespace mcore::engine {

SeccompProgram cached_default_seccomp(const std::filesystem::path& state_root, CapabilitySet capabilities);

}  // namespace mcore::engine
