#pragma once
// The command lines of the programs mcore starts for itself with the same global options (--config,
// --plugin-dir, --log-level): mcore again (a deployment's healthchecks), the exit handler the
// supervisor execs; and where mcore's helper programs are.
#include <filesystem>
#include <string>
#include <vector>

#include "engine/context/engine.hpp"

namespace mcore::engine {

// This process's executable (/proc/self/exe).
std::filesystem::path mcore_executable();

// One of mcore's helper programs (mcore-supervisor, mcore-enter, mcore-exit-handler): beside the mcore
// binary (a build tree) or in ../libexec/mcore/ (installed). Throws Error when it is missing.
std::filesystem::path helper_executable(const std::string& name);

// {mcore, global options..., verb_args...}.
std::vector<std::string> self_command(const Engine& engine, const std::vector<std::string>& verb_args);

// {program, global options..., args...}: a program that builds its Engine from the same global options.
std::vector<std::string> engine_command(const Engine& engine, const std::filesystem::path& program,
                                        const std::vector<std::string>& args);

}  // namespace mcore::engine
