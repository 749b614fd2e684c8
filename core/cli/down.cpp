// mcore down [-f FILE] [-v]: removes a deployment's containers and networks, and with -v its volumes.
#include <iostream>

#include "cli/deployment_file_option.hpp"
#include "cli/deployment_run_args.hpp"
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/container/container_control.hpp"
#include "engine/deploy/deployment_file.hpp"
#include "engine/volume/volume_control.hpp"

namespace mcore::cli {
namespace po = boost::program_options;

int down_main(CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  add_file_option(options);
  options.add_options()("volumes,v", po::bool_switch(), "also remove the deployment's named volumes");
  auto parsed = parse_verb("down", "[OPTIONS]", verb_summary("down"), options, args);
  if (!parsed) return 0;
  expect_no_arguments("down", *parsed);
  const engine::Deployment deployment = engine::load_deployment(deployment_file(parsed->options));
  auto& engine = context.engine();
  const bool volumes = parsed->options["volumes"].as<bool>();
  for (const auto& [service, record] : deployment_containers(context, deployment.name)) {
    engine::remove_container(engine, record.id, true, volumes);
    std::cout << "Container " << record.name << " removed" << std::endl;
  }
  const auto existing = network_names(engine);
  for (const auto& network : deployment.networks) {
    const std::string name = deployment_object_name(deployment, network.name);
    if (!existing.count(name)) continue;
    engine.network()->remove_network(name);
    std::cout << "Network " << name << " removed" << std::endl;
  }
  if (volumes) {
    engine::VolumeStore store(engine.config().data_root);
    for (const auto& volume : deployment.volumes) {
      const std::string name = deployment_object_name(deployment, volume.name);
      if (!store.find(name)) continue;
      engine::remove_volume(engine, name);
      std::cout << "Volume " << name << " removed" << std::endl;
    }
  }
  return 0;
}

}  // namespace mcore::cli
