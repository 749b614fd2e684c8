#include "cli/deployment_file_option.hpp"

#include <iostream>

#include "mcore/error.hpp"

namespace mcore::cli {
namespace fs = std::filesystem;
namespace po = boost::program_options;

void add_file_option(po::options_description& options) {
  options.add_options()("file,f", po::value<std::string>(),
                        "the deployment file (default: mcore.json, compose.yaml or docker-compose.yml here)");
}

fs::path deployment_file(const po::variables_map& options) {
  if (options.count("file")) return options["file"].as<std::string>();
  for (const char* name : {"mcore.json", "compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"}) {
    std::error_code error;
    if (fs::exists(name, error)) return name;
  }
  throw Error("no deployment file here", 0, "give one with -f FILE (JSON, or a Compose YAML file)");
}

void print_deployment_progress(const std::string& kind, const std::string& what) {
  std::cout << kind << " " << what << std::endl;
}

}  // namespace mcore::cli
