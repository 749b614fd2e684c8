#pragma once
#include <cstdint>
#include <string>

namespace mcore::engine {

// What the supervisor saw of the command's end, handed to whoever records the exit (on the exit
// handler's command line, or in an exit_handover frame) so that nothing depends on a file it may not
// have been able to write (a full state root).
struct ExitFacts {
  int exit_code = 0;
  std::string finished_at;
  std::uint64_t log_failures = 0;  // log entries the supervisor could not write
  bool stop_requested = false;     // a client said the exit was asked for (stop, kill, rm -f)
};

}  // namespace mcore::engine
