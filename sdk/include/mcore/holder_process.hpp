#pragma once
// A holder is a process that does nothing but stay in a namespace, so that the namespace outlives the
// command that made it (Podman's pause process). It is recorded in a pid file and known by its name
// (/proc/PID/comm), so a pid the kernel reused for another program is never mistaken for it. Rootless
// mcore keeps the user's namespace that way; the pasta driver keeps the network namespace that holds
// its user networks' bridges.
#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "mcore/unique_fd.hpp"

namespace mcore {

// A process a pid file records, pinned.
struct RecordedProcess {
  pid_t pid = 0;
  UniqueFd pidfd;  // pins the process: a pid read from it names the process for as long as it is open
};
using Holder = RecordedProcess;

// The process `pid_file` records if it still runs and `is_named` accepts its name (/proc/PID/comm);
// nullopt otherwise. The name is read while a pidfd pins the pid, so a pid the kernel gave to another
// program since is never taken for the recorded one.
std::optional<RecordedProcess> find_recorded_process(const std::filesystem::path& pid_file,
                                                     const std::function<bool(const std::string&)>& is_named);

// The live holder called `name` that `pid_file` records; nullopt when there is none.
std::optional<Holder> find_holder(const std::filesystem::path& pid_file, const char* name);

// Forks a holder called `name` (at most 15 characters). In it, `enter` runs first (it may only make
// system calls: the caller may have threads) and returns whether the holder is where it should be; the
// holder then drops its terminal, its descriptors and its working directory and waits to be killed.
// Returns its pid once `enter` succeeded and `pid_file` names it, else nullopt with nothing left. A
// holder whose starter dies before the pid file names it exits rather than stay unrecorded. The
// caller serializes starts with a lock of its own.
std::optional<pid_t> start_holder(const std::filesystem::path& pid_file, const char* name,
                                  const std::function<bool()>& enter);

// A namespace of the holder's ("net", "user"), opened; none when it died meanwhile.
UniqueFd open_holder_namespace(const Holder& holder, const char* kind);

// Kills the holder `pid_file` records, if one lives, and removes the file. Idempotent.
void stop_holder(const std::filesystem::path& pid_file, const char* name);

}  // namespace mcore
