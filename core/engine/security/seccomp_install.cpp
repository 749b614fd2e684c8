// The child's side of seccomp: loading a compiled program (seccomp_profile.hpp). Apart from the
// compiler so that mcore-enter, which loads programs but never compiles one, links no libseccomp.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "engine/security/seccomp_profile.hpp"

namespace mcore::engine {

int install_seccomp(const SeccompProgram& program) noexcept {
  if (program.instructions.empty()) return 0;
  // sock_fprog counts in 16 bits: never let a truncated length install half a program.
  if (program.instructions.size() > BPF_MAXINSNS) return EINVAL;
  sock_fprog fprog{};
  fprog.len = static_cast<unsigned short>(program.instructions.size());
  fprog.filter = const_cast<sock_filter*>(program.instructions.data());
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, program.flags, &fprog) != 0) return errno;
  return 0;
}

}  // namespace mcore::engine
