#include "cli/deployment_run_args.hpp"

#include <sstream>

#include "engine/image/digest.hpp"
#include "mcore/error.hpp"

namespace mcore::cli {

std::string service_container_name(const engine::Deployment& deployment, const engine::DeploymentService& service) {
  return deployment.name + "-" + service.name + "-1";
}

std::string deployment_object_name(const engine::Deployment& deployment, const std::string& name) {
  return deployment.name + "_" + name;
}

namespace {

// "data:/data[:ro]" with `data` a declared volume -> "<deployment>_data:/data[:ro]"; bind mounts and
// anonymous volumes stay as they are.
std::string volume_argument(const engine::Deployment& deployment, const std::string& value) {
  const auto colon = value.find(':');
  if (colon == std::string::npos || value.front() == '/') return value;
  return deployment_object_name(deployment, value.substr(0, colon)) + value.substr(colon);
}

std::string number_text(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

}  // namespace

std::vector<std::string> service_run_arguments(const engine::Deployment& deployment,
                                               const engine::DeploymentService& service) {
  std::vector<std::string> args{"--name", service_container_name(deployment, service),
                                "--label", std::string(engine::kDeploymentLabel) + "=" + deployment.name,
                                "--label", std::string(engine::kServiceLabel) + "=" + service.name};
  if (!service.depends_on.empty()) {
    std::string needed;
    for (const auto& dependency : service.depends_on) needed += (needed.empty() ? "" : ",") + dependency.service;
    args.insert(args.end(), {"--label", std::string(engine::kDependsOnLabel) + "=" + needed});
  }
  const std::string network = service.networks.empty() ? "default" : service.networks.front();
  if (service.networks.size() > 1) {
    throw Error("service " + service.name + " joins " + std::to_string(service.networks.size()) + " networks", 0,
                "mcore attaches a container to one network; list only one under services." + service.name + ".networks");
  }
  args.insert(args.end(), {"--network", deployment_object_name(deployment, network), "--network-alias", service.name});
  for (const auto& port : service.ports) args.insert(args.end(), {"-p", port});
  for (const auto& volume : service.volumes) args.insert(args.end(), {"-v", volume_argument(deployment, volume)});
  for (const auto& variable : service.environment) args.insert(args.end(), {"-e", variable});
  if (service.restart != "no") args.insert(args.end(), {"--restart", service.restart});
  if (service.memory) args.insert(args.end(), {"--memory", *service.memory});
  if (service.cpus) args.insert(args.end(), {"--cpus", number_text(*service.cpus)});
  if (service.pids_limit) args.insert(args.end(), {"--pids-limit", std::to_string(*service.pids_limit)});
  if (service.user) args.insert(args.end(), {"--user", *service.user});
  if (service.working_dir) args.insert(args.end(), {"--workdir", *service.working_dir});
  if (service.hostname) args.insert(args.end(), {"--hostname", *service.hostname});
  // run's --entrypoint names the program; the rest of a Compose entrypoint leads the command.
  std::vector<std::string> command;
  if (service.entrypoint) {
    args.insert(args.end(), {"--entrypoint", service.entrypoint->empty() ? "" : service.entrypoint->front()});
    if (!service.entrypoint->empty()) command.assign(service.entrypoint->begin() + 1, service.entrypoint->end());
  }
  if (service.command) command.insert(command.end(), service.command->begin(), service.command->end());
  args.push_back(service.image);
  args.insert(args.end(), command.begin(), command.end());
  return args;
}

std::string run_arguments_hash(const std::vector<std::string>& arguments) {
  engine::Sha256 hash;
  for (const auto& argument : arguments) {
    hash.update(std::string_view(argument.c_str(), argument.size() + 1));  // with its NUL: ["ab","c"] != ["a","bc"]
  }
  return hash.finish();
}

}  // namespace mcore::cli
