#pragma once
// `mcore exec`: one more process in a running container. It joins every namespace of the container's
// init and its cgroup (before it may run anything of its own), and runs under the container's
// capabilities, seccomp filter and no_new_privs; command, environment, working directory, user and
// terminal are the exec's own.
#include <chrono>
#include <optional>

#include "engine/container/container_spec.hpp"
#include "engine/container/container_store.hpp"
#include "engine/context/engine.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {

struct ExecOutcome {
  int exit_code = 0;
  // Set when the command never ran (exit code 125, 126 or 127): what to tell the user.
  std::optional<Error> failure;
  bool timed_out = false;  // a quiet exec killed at its time limit (exit_code is then 137)
};

// A healthcheck's exec: the command's stdio is /dev/null, nothing is relayed, `process.detach` is
// ignored, and the call waits for the exit code, killing the command once it ran for `time_limit`.
struct QuietExec {
  std::chrono::milliseconds time_limit;
};

// Starts `process` in the running container `record`, whose init is `init_pidfd`. `process` is the
// container's spec with the exec's choices in args, env (final), working_dir, user, group,
// capabilities, tty, interactive and detach; seccomp follows the container's own spec. Without detach
// it forwards signals and relays the terminal until the command exits and returns its exit code; with
// detach it returns 0 once the command was exec'd, with /dev/null as its stdio, and leaves it running
// unwaited for. Throws Error when mcore itself fails (the process is then killed).
// With `quiet`, as QuietExec says.
ExecOutcome exec_in_container(Engine& engine, const ContainerRecord& record, const ContainerSpec& process,
                              int init_pidfd, std::optional<QuietExec> quiet = std::nullopt);

}  // namespace mcore::engine
