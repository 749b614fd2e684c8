#include "cli/deployment_file_option.hpp"

#include "engine/container/container_liveness.hpp"
#include "engine/deploy/deployment.hpp"
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

std::map<std::string, engine::ContainerRecord> deployment_containers(CliContext& context, const std::string& deployment) {
  const auto& config = context.engine().config();
  std::map<std::string, engine::ContainerRecord> found;
  for (auto& record : engine::ContainerStore(config.data_root).list().records) {
    const auto& labels = record.spec.labels;
    auto in = labels.find(engine::kDeploymentLabel);
    auto service = labels.find(engine::kServiceLabel);
    if (in == labels.end() || in->second != deployment || service == labels.end()) continue;
    const std::string name = service->second;
    found.insert_or_assign(name, engine::observe_container(config, std::move(record)));
  }
  return found;
}

}  // namespace mcore::cli
