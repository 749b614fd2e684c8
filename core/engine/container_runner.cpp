#include "engine/container_runner.hpp"

#include <sched.h>
#include <unistd.h>

#include <cerrno>

#include "engine/container_process.hpp"
#include "engine/container_store.hpp"
#include "engine/init_plan.hpp"
#include "engine/init_protocol.hpp"
#include "engine/io_relay.hpp"
#include "engine/scope_exit.hpp"
#include "engine/seccomp_cache.hpp"

namespace mcore::engine {
namespace {

constexpr int kExitMcoreFailure = 125;
constexpr int kExitNotExecutable = 126;
constexpr int kExitNotFound = 127;

SeccompProgram seccomp_for(const ContainerSpec& spec, const std::filesystem::path& state_root) {
  if (spec.privileged || spec.seccomp == SeccompMode::unconfined) return {};
  if (spec.seccomp == SeccompMode::file) return compile_seccomp_file(spec.seccomp_file, spec.capabilities);
  return cached_default_seccomp(state_root, spec.capabilities);
}

unsigned long namespace_flags(const ContainerSpec& spec) {
  unsigned long flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID;
  if (spec.network == NetworkMode::none) flags |= CLONE_NEWNET;
  return flags;
}

// Turns the init's report into Docker's exit code and message.
RunOutcome start_failure(const ContainerSpec& spec, const InitFailure& failure) {
  if (failure.step == kExecStep) {
    const std::string quoted = "\"" + spec.args.front() + "\"";
    if (failure.error_number == ENOENT) {
      return {kExitNotFound, Error("exec " + quoted + ": executable file not found in $PATH", 0,
                                   "check the command's name and the PATH inside the container")};
    }
    if (failure.error_number == EACCES || failure.error_number == ENOEXEC || failure.error_number == EISDIR) {
      return {kExitNotExecutable, Error("exec " + quoted, failure.error_number,
                                        "the command must be an executable file inside the container")};
    }
  }
  return {kExitMcoreFailure, Error("start the container: " + failure.step, failure.error_number)};
}

}  // namespace

RunOutcome run_container(Engine& engine, const ContainerSpec& spec, std::optional<FileLock> image_hold) {
  auto& log = *engine.logger();
  ContainerStore store(engine.config().data_root);
  store.reserve_name(spec.name, spec.id);
  ScopeExit release_name([&] { store.release_name(spec.name, spec.id); });

  ContainerRecord record;
  record.id = spec.id;
  record.name = spec.name;
  record.created = now_rfc3339();
  record.spec = spec;
  store.save(record);
  ScopeExit remove_record([&] { store.remove(spec.id); });
  image_hold.reset();  // the record now keeps the image's layers from collection

  auto storage = engine.storage();
  auto resource = engine.resource();
  RootfsRequest request;
  request.container_id = spec.id;
  request.layers = spec.image_layers;
  if (!spec.rootfs.empty()) request.external_lowers = {spec.rootfs};
  RootfsPlan rootfs = storage->prepare_rootfs(request);
  ScopeExit release_rootfs([&] {
    try {
      storage->release_rootfs(spec.id);
    } catch (const Error& error) {
      log.warn("container {}: {}", spec.id.substr(0, 12), error.what());
    }
  });

  ResourceRequest resources;
  resources.container_id = spec.id;
  resources.limits = spec.limits;
  resources.unrestricted_devices = spec.privileged;
  resource->create(resources);
  ScopeExit destroy_group([&] {
    try {
      resource->destroy(spec.id);
    } catch (const Error& error) {
      log.warn("container {}: {}", spec.id.substr(0, 12), error.what());
    }
  });
  record.cgroup = resource->group_path(spec.id);

  InitPlan plan;
  plan.seccomp = seccomp_for(spec, engine.config().state_root);
  build_init_plan(spec, rootfs, probe_cgroup_namespace(), plan);

  ForwardedSignals signals;
  ContainerProcess process = ContainerProcess::start(plan, namespace_flags(spec));
  resource->add_process(spec.id, process.pid());

  UniqueFd pty_master;
  std::optional<InitFailure> failure;
  if (spec.tty) {
    pty_master = process.receive_pty_master(failure);
    if (pty_master) copy_window_size(pty_master.get());
  }
  if (!failure) failure = process.wait_for_exec(process.release());
  if (failure) {
    process.wait();
    return start_failure(spec, *failure);
  }

  record.state = ContainerState::running;
  record.pid = process.pid();
  record.started_at = now_rfc3339();
  store.save(record);

  int exit_code;
  {
    std::optional<RawTerminal> raw;
    if (spec.tty && spec.interactive) raw.emplace(STDIN_FILENO);
    exit_code = relay_until_exit(process, signals,
                                 {.pty_master = pty_master.get(), .forward_stdin = spec.tty && spec.interactive});
  }

  record.state = ContainerState::exited;
  record.finished_at = now_rfc3339();
  record.exit_code = exit_code;
  record.pid = 0;
  try {
    record.oom_killed = resource->stats(spec.id).oom_kills > 0;
  } catch (const Error& error) {
    log.warn("container {}: read its OOM status: {}", spec.id.substr(0, 12), error.what());
  }
  if (record.oom_killed) log.info("container {} was killed by the OOM killer", spec.id.substr(0, 12));

  if (!spec.remove_on_exit) {
    store.save(record);
    remove_record.dismiss();
    release_name.dismiss();
    release_rootfs.dismiss();
  }
  return {exit_code, std::nullopt};
}

}  // namespace mcore::engine
