#pragma once
// Running a host program to its end, for the engine and drivers alike (`ps` for `mcore top`, Docker's
// credential helpers): one copy of the spawn, the pipes and the wait, so that none can deadlock on a
// full pipe or leak a descriptor into the program.
#include <optional>
#include <string>
#include <vector>

namespace mcore {

struct ChildOptions {
  // The program's stdin; none: /dev/null. Any size: it is handed over in a memory file, not a pipe.
  std::optional<std::string> input;
  // false: the program's stderr goes to /dev/null (a credential helper's chatter stays out of errors).
  bool capture_stderr = true;
};

struct ChildResult {
  int exit_code = 0;  // the program's code, or 128 + the signal that killed it
  std::string out;    // everything it wrote to stdout
  std::string err;    // and to stderr, when captured
};

// Runs `argv` (argv[0] looked up in PATH) with mcore's environment and waits for it. Throws Error with
// errno ENOENT when the program does not exist, so callers can say what to install; any other failure
// to start it throws Error too.
ChildResult run_child(const std::vector<std::string>& argv, const ChildOptions& options = {});

}  // namespace mcore
