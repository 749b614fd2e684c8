#pragma once
// Running a host program to its end, for the engine and drivers alike (`ps` for `mcore top`, Docker's
// credential helpers): one copy of the spawn, the pipes and the wait, so that none can deadlock on a
// full pipe or leak a descriptor into the program.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace mcore {

struct ChildOptions {
  // The program's stdin; none: /dev/null. Any size: it is handed over in a memory file, not a pipe.
  std::optional<std::string> input;
  // false: the program's stderr goes to /dev/null (a credential helper's chatter stays out of errors).
  bool capture_stderr = true;
  // The file to execute, when it is not argv[0] looked up in PATH (an OCI hook names its path, and
  // gives its own argv[0]).
  std::optional<std::string> executable{};
  // The program's whole environment, instead of mcore's.
  std::optional<std::vector<std::string>> environment{};
  // Killed (SIGKILL) once it has run this long; the result says so.
  std::optional<std::chrono::milliseconds> timeout{};
};

struct ChildResult {
  int exit_code = 0;  // the program's code, or 128 + the signal that killed it
  std::string out;    // everything it wrote to stdout
  std::string err;    // and to stderr, when captured
  bool timed_out = false;  // killed for outliving options.timeout
};

// Runs `argv` (argv[0] looked up in PATH) with mcore's environment and waits for it. Throws Error with
// errno ENOENT when the program does not exist, so callers can say what to install; any other failure
// to start it throws Error too.
ChildResult run_child(const std::vector<std::string>& argv, const ChildOptions& options = {});

}  // namespace mcore
