// mcore up [-f FILE] [-d]: a deployment's networks, volumes and services, dependencies first. Idempotent:
// a service whose container still matches it (same run arguments, by hash) is left running, or started
// when stopped; a changed one is recreated; containers of services no longer in the file are removed.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "cli/deployment_file_option.hpp"
#include "cli/deployment_run_args.hpp"
#include "cli/verb_options.hpp"
#include "cli/verbs.hpp"
#include "engine/container/container_control.hpp"
#include "engine/deploy/deployment_file.hpp"
#include "engine/context/self_command.hpp"
#include "engine/volume/volume_store.hpp"

namespace mcore::cli {
namespace po = boost::program_options;

namespace {

using Clock = std::chrono::steady_clock;

void say(const std::string& what, const std::string& name) { std::cout << what << " " << name << std::endl; }

void ensure_networks(engine::Engine& engine, const engine::Deployment& deployment) {
  const auto existing = network_names(engine);
  for (const auto& network : deployment.networks) {
    const std::string name = deployment_object_name(deployment, network.name);
    if (existing.count(name)) continue;
    engine.network()->create_network({name, network.subnet, network.gateway, {}});
    say("Network", name + " created");
  }
}

void ensure_volumes(engine::Engine& engine, const engine::Deployment& deployment) {
  engine::VolumeStore volumes(engine.config().data_root);
  engine::FileLock held = volumes.lock(engine::FileLock::Mode::shared);
  for (const auto& volume : deployment.volumes) {
    const std::string name = deployment_object_name(deployment, volume.name);
    if (volumes.find(name)) continue;
    volumes.create(name);
    say("Volume", name + " created");
  }
}

// Runs `argv` with no input and its output discarded; returns its exit status.
int run_quietly(const std::vector<std::string>& argv) {
  const pid_t pid = ::fork();
  if (pid < 0) throw Error::from_errno("fork for a healthcheck");
  if (pid == 0) {
    const int null = ::open("/dev/null", O_RDWR);
    for (int fd = 0; fd <= 2; ++fd) ::dup2(null, fd);
    std::vector<char*> pointers;
    for (const auto& word : argv) pointers.push_back(const_cast<char*>(word.c_str()));
    pointers.push_back(nullptr);
    ::execv(pointers[0], pointers.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Runs the service's healthcheck in its container (mcore exec) until it passes; Compose's timing.
void wait_until_healthy(CliContext& context, const engine::DeploymentService& service, const std::string& container) {
  const auto& check = *service.healthcheck;
  std::vector<std::string> command{"exec", container};
  if (check.test.front() == "CMD-SHELL") {
    command.insert(command.end(), {"sh", "-c", check.test.size() > 1 ? check.test[1] : "true"});
  } else {
    command.insert(command.end(), check.test.begin() + 1, check.test.end());
  }
  const auto argv = engine::self_command(context.engine(), command);
  std::this_thread::sleep_for(std::chrono::milliseconds(check.start_period_ms));
  int status = -1;
  for (int attempt = 0; attempt <= check.retries; ++attempt) {
    status = run_quietly(argv);
    if (status == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(check.interval_ms));
  }
  throw Error("service " + service.name + " did not become healthy: its healthcheck exited " + std::to_string(status) +
                  " " + std::to_string(check.retries + 1) + " times",
              0, "see mcore logs " + container + ", or fix services." + service.name + ".healthcheck");
}

void wait_for_dependencies(CliContext& context, const engine::Deployment& deployment,
                           const engine::DeploymentService& service) {
  for (const auto& dependency : service.depends_on) {
    const auto& needed = *std::find_if(deployment.services.begin(), deployment.services.end(),
                                       [&](const auto& other) { return other.name == dependency.service; });
    const std::string container = service_container_name(deployment, needed);
    if (dependency.condition == "service_healthy") {
      wait_until_healthy(context, needed, container);
    } else if (dependency.condition == "service_completed_successfully") {
      const int code = engine::wait_container(context.engine(), container);
      if (code != 0) {
        throw Error("service " + needed.name + " exited " + std::to_string(code) + ", and " + service.name +
                        " needs it to complete successfully",
                    0, "see mcore logs " + container);
      }
    }
  }
}

}  // namespace

int up_main(CliContext& context, const std::vector<std::string>& args) {
  po::options_description options("Options");
  add_file_option(options);
  options.add_options()("detach,d", po::bool_switch(), "return once every service is up (what mcore up always does)");
  auto parsed = parse_verb("up", "[OPTIONS]", verb_summary("up"), options, args);
  if (!parsed) return 0;
  expect_no_arguments("up", *parsed);
  const engine::Deployment deployment = engine::load_deployment(deployment_file(parsed->options));
  auto& engine = context.engine();
  ensure_networks(engine, deployment);
  ensure_volumes(engine, deployment);

  auto existing = deployment_containers(context, deployment.name);
  for (const auto& service : deployment.services) {
    wait_for_dependencies(context, deployment, service);
    auto run_args = service_run_arguments(deployment, service);
    const std::string hash = run_arguments_hash(run_args);
    run_args.insert(run_args.begin(), {"--label", std::string(engine::kConfigHashLabel) + "=" + hash});
    const std::string name = service_container_name(deployment, service);
    if (auto found = existing.find(service.name); found != existing.end()) {
      const auto& record = found->second;
      const auto label = record.spec.labels.find(engine::kConfigHashLabel);
      if (label != record.spec.labels.end() && label->second == hash) {
        if (record.state == engine::ContainerState::running || record.state == engine::ContainerState::restarting) {
          say("Container", name + " running");
        } else {
          auto report = engine::start_container(engine, record.id);
          if (report.failure) throw VerbError(*report.failure, report.exit_code);
          say("Container", name + " started");
        }
        existing.erase(found);
        continue;
      }
      engine::remove_container(engine, record.id, true);
      existing.erase(found);
      run_detached(context, run_args);
      say("Container", name + " recreated");
      continue;
    }
    run_detached(context, run_args);
    say("Container", name + " started");
  }
  for (const auto& [service, record] : existing) {
    engine::remove_container(engine, record.id, true);
    say("Container", record.name + " removed (its service is no longer in the file)");
  }
  return 0;
}

}  // namespace mcore::cli
