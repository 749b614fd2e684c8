#pragma once
// `mcore network|volume|image COMMAND`: one dispatcher for the verbs that group sub-commands. It prints
// the group's help, runs the sub-command (or one of its aliases, "ls"/"list"), and names the closest
// sub-command when the one given does not exist.
#include <string>
#include <vector>

#include "cli/verbs.hpp"

namespace mcore::cli {

struct SubVerb {
  std::vector<std::string> names;  // the first is shown in the help; the others are aliases
  std::string summary;
  VerbMain main;
};

// Runs `mcore <group> args...` against `sub_verbs`. Throws Error for an unknown sub-command.
int run_sub_verb(const std::string& group, const std::vector<SubVerb>& sub_verbs, CliContext& context,
                 const std::vector<std::string>& args);

}  // namespace mcore::cli
