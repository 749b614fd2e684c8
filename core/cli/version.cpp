#include <iostream>

#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "mcore/plugin.hpp"

namespace mcore::cli {

int version_main(CliContext& /*context*/, const std::vector<std::string>& args) {
  auto parsed = parse_verb("version", "", verb_summary("version"),
                           boost::program_options::options_description("Options"), args);
  if (!parsed) return 0;
  expect_no_arguments("version", *parsed);
  std::cout << "mcore version " MCORE_VERSION "\n"
            << "plugin ABI " << kAbiMajor << "." << kAbiMinor << "\n"
            << "build tag " MCORE_BUILD_TAG "\n";
  return 0;
}

}  // namespace mcore::cli
