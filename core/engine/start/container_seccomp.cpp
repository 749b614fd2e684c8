#include "engine/start/container_seccomp.hpp"

#include "engine/security/seccomp_cache.hpp"

namespace mcore::engine {

SeccompProgram container_seccomp(const ContainerSpec& spec, const std::filesystem::path& state_root) {
  if (spec.privileged || spec.seccomp == SeccompMode::unconfined) return {};
  if (spec.seccomp == SeccompMode::file) return compile_seccomp_file(spec.seccomp_file, spec.capabilities);
  return cached_default_seccomp(state_root, spec.capabilities);
}

}  // namespace mcore::engine
