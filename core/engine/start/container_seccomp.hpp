#pragma once
// The seccomp program every process of a container runs under, the init and `mcore exec`'s alike.
#include <filesystem>

#include "engine/container/container_spec.hpp"
#include "engine/security/seccomp_profile.hpp"

namespace mcore::engine {

// None for a privileged or seccomp=unconfined container; the profile file's for seccomp=FILE; else
// Docker's default profile (cached under `state_root`). Compiled for the container's capabilities.
// Throws Error naming a bad profile file.
SeccompProgram container_seccomp(const ContainerSpec& spec, const std::filesystem::path& state_root);

}  // namespace mcore::engine
