#pragma once
// The command line that runs this very mcore again with the same global options (--config,
// --plugin-dir, --log-level), for the commands mcore starts for itself: the supervisor's exit handler,
// a deployment's healthchecks; and where mcore's helper programs are.
#include <filesystem>
#include <string>
#include <vector>

#include "engine/engine.hpp"

namespace mcore::engine {

// This process's executable (/proc/self/exe).
std::filesystem::path mcore_executable();

// One of mcore's small static helpers (mcore-supervisor, mcore-enter): beside the mcore binary (a build
// tree) or in ../libexec/mcore/ (installed). Throws Error when it is missing.
std::filesystem::path helper_executable(const std::string& name);

// {mcore, global options..., verb_args...}.
std::vector<std::string> self_command(const Engine& engine, const std::vector<std::string>& verb_args);

}  // namespace mcore::engine
