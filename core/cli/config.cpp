// mcore config validate [-f FILE]: every problem of a deployment file, each with its path in the file.
#include <iostream>

#include "cli/deployment_file_option.hpp"
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/api/deployments.hpp"

namespace mcore::cli {
namespace po = boost::program_options;

int config_main(CliContext& context, const std::vector<std::string>& args) {
  (void)context;
  if (args.empty() || args[0] != "validate") {
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
      std::cout << "Usage: mcore config validate [-f FILE]\n\nCheck a deployment file and report every problem\n";
      return 0;
    }
    throw Error("mcore config needs a command", 0, "use: mcore config validate -f FILE");
  }
  po::options_description options("Options");
  add_file_option(options);
  auto parsed = parse_verb("config validate", "[OPTIONS]", "Check a deployment file and report every problem",
                           options, std::vector<std::string>(args.begin() + 1, args.end()));
  if (!parsed) return 0;
  expect_no_arguments("config validate", *parsed);
  const auto file = deployment_file(parsed->options);
  const auto read = engine::read_deployment(file);
  if (read.problems.empty()) {
    std::cout << file.string() << ": valid, deployment " << read.deployment.name << " with "
              << read.deployment.services.size() << " service(s)\n";
    return 0;
  }
  std::cerr << file.string() << ": " << read.problems.size() << " problem(s)\n";
  for (const auto& problem : read.problems) std::cerr << "  " << problem.path << ": " << problem.message << '\n';
  return kExitRefused;
}

}  // namespace mcore::cli
