#include "engine/deploy/deployment_up.hpp"

#include <unistd.h>

#include <algorithm>
#include <set>
#include <chrono>
#include <sstream>
#include <thread>

#include "engine/container/container_control.hpp"
#include "engine/container/container_liveness.hpp"
#include "engine/container/container_lookup.hpp"
#include "engine/container/container_spec_json.hpp"
#include "engine/context/network_names.hpp"
#include "engine/exec/container_exec.hpp"
#include "engine/image/digest.hpp"
#include "engine/util/exit_code_error.hpp"
#include "engine/io/supervisor_client.hpp"
#include "engine/volume/volume_control.hpp"
#include "engine/volume/volume_store.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {

std::string service_container_name(const Deployment& deployment, const DeploymentService& service) {
  return deployment.name + "-" + service.name + "-1";
}

std::string deployment_object_name(const Deployment& deployment, const std::string& name) {
  return deployment.name + "_" + name;
}

namespace {

// "data:/data[:ro]" with `data` a declared volume -> "<deployment>_data:/data[:ro]"; bind mounts and
// anonymous volumes stay as they are.
std::string volume_value(const Deployment& deployment, const std::string& value) {
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

ContainerRequest service_request(const Deployment& deployment, const DeploymentService& service) {
  ContainerRequest request;
  request.image = service.image;
  request.detach = true;
  request.name = service_container_name(deployment, service);
  request.labels[kDeploymentLabel] = deployment.name;
  request.labels[kServiceLabel] = service.name;
  if (!service.depends_on.empty()) {
    std::string needed;
    for (const auto& dependency : service.depends_on) needed += (needed.empty() ? "" : ",") + dependency.service;
    request.labels[kDependsOnLabel] = needed;
  }
  if (service.networks.size() > 1) {
    throw Error("service " + service.name + " joins " + std::to_string(service.networks.size()) + " networks", 0,
                "mcore attaches a container to one network; list only one under services." + service.name + ".networks");
  }
  request.network = deployment_object_name(deployment, service.networks.empty() ? "default" : service.networks.front());
  request.network_aliases = {service.name};
  for (const auto& port : service.ports) request.ports.push_back(parse_publish(port));
  for (const auto& volume : service.volumes) request.volumes.push_back(parse_volume(volume_value(deployment, volume)));
  request.env = parse_env(service.environment);
  request.restart = parse_restart_policy(service.restart);
  if (service.memory) request.limits.memory_bytes = parse_size("mem_limit", *service.memory);
  if (service.cpus) {
    request.limits.nano_cpus =
        parse_cpus(number_text(*service.cpus), static_cast<unsigned>(::sysconf(_SC_NPROCESSORS_ONLN)));
  }
  request.limits.pids_limit = service.pids_limit;
  if (service.user) request.user = parse_user(*service.user);
  request.working_dir = service.working_dir;
  request.hostname = service.hostname;
  // The entrypoint's first word is the program; the rest of a Compose entrypoint leads the command.
  if (service.entrypoint) {
    request.entrypoint = service.entrypoint->empty() ? "" : service.entrypoint->front();
    if (!service.entrypoint->empty()) request.command.assign(service.entrypoint->begin() + 1, service.entrypoint->end());
  }
  if (service.command) request.command.insert(request.command.end(), service.command->begin(), service.command->end());
  return request;
}

std::string request_hash(const ContainerRequest& request) {
  Sha256 hash;
  hash.update(request_to_json(request).dump());
  return hash.finish();
}

std::map<std::string, ContainerRecord> deployment_containers(Engine& engine, const std::string& deployment) {
  const auto& config = engine.config();
  std::map<std::string, ContainerRecord> found;
  for (auto& record : ContainerStore(config.data_root).list().records) {
    const auto& labels = record.spec.labels;
    auto in = labels.find(kDeploymentLabel);
    auto service = labels.find(kServiceLabel);
    if (in == labels.end() || in->second != deployment || service == labels.end()) continue;
    const std::string name = service->second;
    found.insert_or_assign(name, observe_container(config, std::move(record)));
  }
  return found;
}

namespace {

void ensure_networks(Engine& engine, const Deployment& deployment, const DeploymentProgress& progress) {
  const auto existing = network_names(engine);
  for (const auto& network : deployment.networks) {
    const std::string name = deployment_object_name(deployment, network.name);
    if (existing.count(name)) continue;
    engine.network()->create_network({name, network.subnet, network.gateway, {}});
    progress("Network", name + " created");
  }
}

void ensure_volumes(Engine& engine, const Deployment& deployment, const DeploymentProgress& progress) {
  VolumeStore volumes(engine.config().data_root);
  FileLock held = volumes.lock(FileLock::Mode::shared);
  for (const auto& volume : deployment.volumes) {
    const std::string name = deployment_object_name(deployment, volume.name);
    if (volumes.find(name)) continue;
    volumes.create(name);
    progress("Volume", name + " created");
  }
}

constexpr int kNotRunning = -1;
constexpr int kTimedOut = -2;

// One run of a healthcheck: the command's exit code, kNotRunning, or kTimedOut when it ran past the
// check's timeout (and was killed, as Docker does).
int healthcheck_status(Engine& engine, const std::string& container, const std::vector<std::string>& command,
                       std::chrono::milliseconds timeout) {
  const auto& config = engine.config();
  ContainerStore store(config.data_root);
  auto record = store.load(resolve_container_id(store, container));
  if (!record) return kNotRunning;
  *record = observe_container(config, std::move(*record));
  if (record->state != ContainerState::running) return kNotRunning;
  UniqueFd init_pidfd;
  try {
    init_pidfd = open_init_pidfd(config, *record);
  } catch (const Error&) {
    return kNotRunning;  // it exited since we looked
  }
  ContainerSpec process = record->spec;
  process.args = command;
  process.tty = process.interactive = process.detach = false;
  const ExecOutcome outcome = exec_in_container(engine, *record, process, init_pidfd.get(), QuietExec{timeout});
  return outcome.timed_out ? kTimedOut : outcome.exit_code;
}

std::string describe_status(int status, const ServiceHealthcheck& check) {
  if (status == kNotRunning) return "its container is not running";
  if (status == kTimedOut) return "its healthcheck ran longer than its timeout (" + std::to_string(check.timeout_ms) + " ms)";
  return "its healthcheck exited " + std::to_string(status);
}

void wait_until_healthy(Engine& engine, const DeploymentService& service, const std::string& container) {
  const auto& check = *service.healthcheck;
  std::vector<std::string> command;
  if (check.test.front() == "CMD-SHELL") {
    command = {"sh", "-c", check.test.size() > 1 ? check.test[1] : "true"};
  } else {
    command.assign(check.test.begin() + 1, check.test.end());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(check.start_period_ms));
  int status = kNotRunning;
  for (int attempt = 0; attempt <= check.retries; ++attempt) {
    status = healthcheck_status(engine, container, command, std::chrono::milliseconds(check.timeout_ms));
    if (status == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(check.interval_ms));
  }
  throw Error("service " + service.name + " did not become healthy after " + std::to_string(check.retries + 1) +
                  " checks: " + describe_status(status, check),
              0, "see mcore logs " + container + ", or fix services." + service.name + ".healthcheck");
}

void wait_for_dependencies(Engine& engine, const Deployment& deployment, const DeploymentService& service) {
  for (const auto& dependency : service.depends_on) {
    const auto& needed = *std::find_if(deployment.services.begin(), deployment.services.end(),
                                       [&](const auto& other) { return other.name == dependency.service; });
    const std::string container = service_container_name(deployment, needed);
    if (dependency.condition == "service_healthy") {
      wait_until_healthy(engine, needed, container);
    } else if (dependency.condition == "service_completed_successfully") {
      const int code = wait_container(engine, container);
      if (code != 0) {
        throw Error("service " + needed.name + " exited " + std::to_string(code) + ", and " + service.name +
                        " needs it to complete successfully",
                    0, "see mcore logs " + container);
      }
    }
  }
}

void throw_if_failed(LaunchReport& report) {
  if (report.failure) throw ExitCodeError(std::move(*report.failure), report.exit_code);
}

// Creates and starts the container of `request`; a failed start leaves no container behind when the
// request asked for --rm, as `run -d` does.
void create_and_start(Engine& engine, const ContainerRequest& request, PullSink* pulls) {
  const ContainerSpec spec = create_container(engine, request, pulls);
  LaunchReport report = launch_container(engine, spec.id);
  if (report.failure && spec.remove_on_exit) remove_container(engine, spec.id, true, true);
  throw_if_failed(report);
}

}  // namespace

void deployment_up(Engine& engine, const Deployment& deployment, PullSink* pulls, const DeploymentProgress& progress) {
  ensure_networks(engine, deployment, progress);
  ensure_volumes(engine, deployment, progress);
  auto existing = deployment_containers(engine, deployment.name);
  for (const auto& service : deployment.services) {
    wait_for_dependencies(engine, deployment, service);
    ContainerRequest request = service_request(deployment, service);
    const std::string hash = request_hash(request);
    request.labels[kConfigHashLabel] = hash;
    const std::string name = *request.name;
    const auto found = existing.find(service.name);
    if (found == existing.end()) {
      create_and_start(engine, request, pulls);
      progress("Container", name + " started");
      continue;
    }
    const ContainerRecord record = std::move(found->second);
    existing.erase(found);
    const auto label = record.spec.labels.find(kConfigHashLabel);
    if (label == record.spec.labels.end() || label->second != hash) {
      remove_container(engine, record.id, true);
      create_and_start(engine, request, pulls);
      progress("Container", name + " recreated");
    } else if (record.state == ContainerState::running || record.state == ContainerState::restarting) {
      progress("Container", name + " running");
    } else {
      LaunchReport report = start_container(engine, record.id);
      throw_if_failed(report);
      progress("Container", name + " started");
    }
  }
  for (const auto& [service, record] : existing) {
    remove_container(engine, record.id, true);
    progress("Container", record.name + " removed (its service is no longer in the file)");
  }
}

void deployment_down(Engine& engine, const Deployment& deployment, bool volumes, const DeploymentProgress& progress) {
  for (const auto& [service, record] : deployment_containers(engine, deployment.name)) {
    remove_container(engine, record.id, true, volumes);
    progress("Container", record.name + " removed");
  }
  const auto existing = network_names(engine);
  for (const auto& network : deployment.networks) {
    const std::string name = deployment_object_name(deployment, network.name);
    if (!existing.count(name)) continue;
    engine.network()->remove_network(name);
    progress("Network", name + " removed");
  }
  if (!volumes) return;
  VolumeStore store(engine.config().data_root);
  for (const auto& volume : deployment.volumes) {
    const std::string name = deployment_object_name(deployment, volume.name);
    if (!store.find(name)) continue;
    remove_volume(engine, name);
    progress("Volume", name + " removed");
  }
}

}  // namespace mcore::engine
