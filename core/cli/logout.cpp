// mcore logout: forget the credentials `mcore login` (or `docker login`) saved for a registry.
#include <iostream>

#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "mcore/error.hpp"

namespace mcore::cli {
namespace po = boost::program_options;

int logout_main(CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  auto parsed = parse_verb("logout", "[SERVER]", verb_summary("logout"), options, args);
  if (!parsed) return 0;
  if (parsed->positionals.size() > 1) {
    throw Error("mcore logout takes at most one server", 0, "see 'mcore logout --help'");
  }
  const std::string server = parsed->positionals.empty() ? "docker.io" : parsed->positionals[0];
  // Like Docker, having nothing to forget is not a failure.
  if (context.engine().registry()->logout(server)) {
    std::cout << "Removing login credentials for " << server << '\n';
  } else {
    std::cout << "Not logged in to " << server << '\n';
  }
  return 0;
}

}  // namespace mcore::cli
