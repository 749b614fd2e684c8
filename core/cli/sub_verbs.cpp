#include "cli/sub_verbs.hpp"

#include <iostream>

#include "cli/output.hpp"
#include "cli/word_suggestions.hpp"
#include "mcore/error.hpp"

namespace mcore::cli {

int run_sub_verb(const std::string& group, const std::vector<SubVerb>& sub_verbs, CliContext& context,
                 const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << "Usage: mcore " << group << " COMMAND\n\n" << verb_summary(group) << "\n\nCommands:\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& sub_verb : sub_verbs) rows.push_back({sub_verb.names.front(), sub_verb.summary});
    print_table(std::cout, rows, "  ");
    return 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  std::vector<std::string> names;
  for (const auto& sub_verb : sub_verbs) {
    for (const auto& name : sub_verb.names) {
      if (name == args[0]) return sub_verb.main(context, rest);
      names.push_back(name);
    }
  }
  const std::string unknown = "unknown command \"mcore " + group + " " + args[0] + "\"";
  if (auto meant = closest_word(args[0], names)) {
    throw Error(unknown, 0, "did you mean 'mcore " + group + " " + *meant + "'?");
  }
  throw Error(unknown, 0, "see 'mcore " + group + " --help'");
}

}  // namespace mcore::cli
