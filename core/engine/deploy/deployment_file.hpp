#pragma once
// Reading and checking a deployment file (deployment.hpp): the native JSON or the common subset of the
// Compose file format (YAML). Both are converted to JSON and checked by one validator, which collects every
// problem with its path in the file, so `mcore config validate` can report them all at once.
#include <filesystem>
#include <vector>

#include "engine/deploy/deployment.hpp"

namespace mcore::engine {

struct DeploymentFile {
  Deployment deployment;                    // filled as far as the file allows
  std::vector<DeploymentProblem> problems;  // every problem, in file order; empty when valid
};

// Reads `file`: JSON when its first non-space character is '{', else YAML. Relative paths (env files, bind
// mount sources) are resolved against the file's directory; env files are read. Throws Error only when the
// file cannot be read or is not JSON/YAML at all (naming the file, line and column); every other fault is
// a problem.
DeploymentFile read_deployment(const std::filesystem::path& file);

// read_deployment, then throws Error when there are problems: "<file>: N problem(s)" followed by one line
// "  <path>: <message>" per problem.
Deployment load_deployment(const std::filesystem::path& file);

}  // namespace mcore::engine
