#include "engine/start/start_failure.hpp"

#include <cerrno>

#include "engine/init/init_protocol.hpp"

namespace mcore::engine {

constexpr int kExitMcoreFailure = 125;
constexpr int kExitNotExecutable = 126;
constexpr int kExitNotFound = 127;

StartFailure describe_start_failure(const std::string& command, const InitFailure& failure, const std::string& doing) {
  if (failure.step == kExecStep) {
    const std::string quoted = "\"" + command + "\"";
    if (failure.error_number == ENOENT) {
      return {kExitNotFound, Error("exec " + quoted + ": executable file not found in $PATH", 0,
                                   "check the command's name and the PATH inside the container")};
    }
    if (failure.error_number == EACCES || failure.error_number == ENOEXEC || failure.error_number == EISDIR) {
      return {kExitNotExecutable, Error("exec " + quoted, failure.error_number,
                                        "the command must be an executable file inside the container")};
    }
  }
  return {kExitMcoreFailure, Error(doing + ": " + failure.step, failure.error_number)};
}

}  // namespace mcore::engine
