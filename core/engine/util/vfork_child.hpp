#pragma once
// A child process that borrows this one's memory and descriptor table until it execs, as vfork() does:
// no page table is copied and no page is faulted in a second time. A fork() of a process as large as
// mcore pays both, on both sides: about 180 faults and 6 ms of a 32 ms `run --rm` on a paravirtualised
// host (measured).
//
// The child runs on a stack of its own; everything else but its signal mask and session is this
// process's, and this thread waits until the child execs or exits. Until then the child is like
// another thread of this process: what it opens stays open here, and a library that keeps a
// descriptor from one call to the next keeps a valid one. So `body`:
//  - ends in execve() or _exit(); should it return or throw, the child _exits 125;
//  - calls unshare_descriptors() before it redirects or closes descriptors for the program it execs;
//  - frees what it allocates before it execs, or puts it in objects this process owns and frees.
// Its thread-local state (errno, the allocator's caches) is this thread's, which is sound while this
// thread is stopped. A child killed in the middle of an allocation would leave the allocator locked
// here, a risk fork() does not have; the launcher's few milliseconds are worth it.
#include <sys/types.h>

#include <functional>

namespace mcore::engine {

// Runs `body` in such a child; returns its pid once it exec'd or exited. Throws Error when no child
// could be started.
pid_t run_in_vfork_child(const std::function<void()>& body);

// Gives the calling process a descriptor table of its own, a copy of the shared one: what it closes
// or redirects afterwards no longer touches the parent's. Throws Error.
void unshare_descriptors();

}  // namespace mcore::engine
