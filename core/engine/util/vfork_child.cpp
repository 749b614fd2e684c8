#include "engine/util/vfork_child.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>

#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

// What a main thread gets by default; only the pages the child touches are ever backed.
constexpr std::size_t kStackSize = std::size_t{8} << 20;
constexpr int kExitBodyReturned = 125;

int enter_child(void* argument) {
  try {
    (*static_cast<const std::function<void()>*>(argument))();
  } catch (...) {
  }
  ::_exit(kExitBodyReturned);
}

}  // namespace

pid_t run_in_vfork_child(const std::function<void()>& body) {
  const auto guard = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  void* region = ::mmap(nullptr, guard + kStackSize, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (region == MAP_FAILED) throw Error::from_errno("map a stack for a child process");
  // The lowest page stays unmapped for access, so an overflow faults instead of writing below.
  if (::mprotect(region, guard, PROT_NONE) != 0) {
    const int saved = errno;
    ::munmap(region, guard + kStackSize);
    throw Error("protect a child process's stack", saved);
  }
  char* top = static_cast<char*>(region) + guard + kStackSize;
  const pid_t pid = ::clone(enter_child, top, CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD,
                            const_cast<std::function<void()>*>(&body));
  const int saved = errno;
  // The child has exec'd or exited by now: nothing runs on this stack any more.
  ::munmap(region, guard + kStackSize);
  if (pid < 0) throw Error("start a child process", saved);
  return pid;
}

void unshare_descriptors() {
  if (::unshare(CLONE_FILES) != 0) throw Error::from_errno("unshare the descriptor table");
}

}  // namespace mcore::engine
