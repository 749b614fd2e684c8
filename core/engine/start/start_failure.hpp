#pragma once
// Docker's exit code and message for a command a container process could not start.
#include <string>

#include "engine/start/container_process.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {

struct StartFailure {
  int exit_code;  // 127: not found in PATH; 126: found but not executable; 125: an earlier step failed
  Error error;    // what to tell the user
};

// `command` is argv[0] as the user gave it; `doing` names the start for the 125 message ("start the
// container").
StartFailure describe_start_failure(const std::string& command, const InitFailure& failure, const std::string& doing);

}  // namespace mcore::engine
