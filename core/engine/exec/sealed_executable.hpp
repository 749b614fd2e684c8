#pragma once
// What a container may see of mcore's own programs. The process `mcore exec` puts into a container
// (mcore-enter) is visible there until it execs the command, and /proc/PID/exe of it leads to its
// binary. Were that the host's file, a process in the container could open it there and, once nothing
// ran it any more, reopen it for writing and replace what root runs next (CVE-2019-5736). So mcore
// execs such a program only through a read-only view of it: a detached, read-only bind mount of the
// binary, made with open_tree(2) and mount_setattr(2) — no byte is copied, and nothing shows in any
// mount table; writes through it, or through any /proc link to it, fail with EROFS.
#include <filesystem>

#include "mcore/unique_fd.hpp"

namespace mcore::engine {

// A read-only view of `program`, to run with execveat(view, "", argv, envp, AT_EMPTY_PATH).
// Close-on-exec. Throws Error when the kernel or mcore's privileges do not allow it.
UniqueFd sealed_executable(const std::filesystem::path& program);

}  // namespace mcore::engine
