#pragma once
// `mcore run` in the foreground, from a root filesystem directory: storage, cgroup, namespaces, the
// barrier, the relay, and teardown. Everything it created is undone when the start fails.
#include <optional>

#include "engine/container_spec.hpp"
#include "engine/engine.hpp"
#include "engine/file_util.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {

struct RunOutcome {
  int exit_code = 0;
  // Set when the container never ran its command (exit code 125, 126 or 127): what to tell the user.
  std::optional<Error> failure;
};

// `image_hold` is the image store held for writing since the image was resolved (see ImageStore); it is
// released as soon as the container's record lists the image's layers.
RunOutcome run_container(Engine& engine, const ContainerSpec& spec, std::optional<FileLock> image_hold = {});

}  // namespace mcore::engine
