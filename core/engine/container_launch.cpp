#include "engine/container_launch.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "engine/container_etc.hpp"
#include "engine/container_liveness.hpp"
#include "engine/container_network.hpp"
#include "engine/container_process.hpp"
#include "engine/container_store.hpp"
#include "engine/file_util.hpp"
#include "engine/fd_passing.hpp"
#include "engine/init_plan.hpp"
#include "engine/init_protocol.hpp"
#include "engine/scope_exit.hpp"
#include "engine/self_command.hpp"
#include "engine/volume_populate.hpp"
#include "engine/container_seccomp.hpp"
#include "engine/start_failure.hpp"

namespace mcore::engine {
namespace fs = std::filesystem;

namespace {

constexpr int kExitMcoreFailure = 125;

unsigned long namespace_flags(const ContainerSpec& spec) {
  unsigned long flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID;
  if (has_own_network_namespace(spec)) flags |= CLONE_NEWNET;
  return flags;
}

LaunchReport start_failure(const ContainerSpec& spec, const InitFailure& failure) {
  StartFailure described = describe_start_failure(spec.args.front(), failure, "start the container");
  LaunchReport report;
  report.exit_code = described.exit_code;
  report.failure = std::move(described.error);
  return report;
}

LaunchReport failed(Error error) {
  LaunchReport report;
  report.exit_code = kExitMcoreFailure;
  report.failure = std::move(error);
  return report;
}

void send_report(int fd, const LaunchReport& report, int pidfd) {
  if (fd < 0) return;
  nlohmann::json json = {{"exit_code", report.exit_code}};
  if (report.failure) json["message"] = report.failure->what(), json["hint"] = report.failure->hint();
  const std::string text = json.dump();
  send_message(fd, text.data(), text.size(), pidfd);
}

LaunchReport receive_report(int fd) {
  std::string buffer(8192, '\0');
  UniqueFd pidfd;
  ssize_t n = receive_message(fd, buffer.data(), buffer.size(), &pidfd);
  if (n <= 0) return failed(Error("the container's launcher exited without a report", 0, "see `mcore logs` and retry"));
  auto json = nlohmann::json::parse(buffer.substr(0, static_cast<std::size_t>(n)), nullptr, false);
  if (json.is_discarded()) return failed(Error("the container's launcher sent a damaged report"));
  LaunchReport report;
  report.exit_code = json.value("exit_code", kExitMcoreFailure);
  if (json.contains("message")) report.failure = Error(json.value("message", ""), 0, json.value("hint", ""));
  report.init_pidfd = std::move(pidfd);
  return report;
}


// `mcore [global options] __exited --lock-fd N ID`: what the supervisor execs when the command exits.
std::vector<std::string> exit_command(const Engine& engine, const std::string& id, int lock_fd) {
  return self_command(engine, {"__exited", "--lock-fd", std::to_string(lock_fd), id});
}

// AF_UNIX paths are limited to 108 bytes, the state root is not: bind and connect go through a short
// /proc/self/fd path to the container's runtime directory.
std::string short_socket_path(int dir_fd) { return "/proc/self/fd/" + std::to_string(dir_fd) + "/supervisor.sock"; }

UniqueFd listen_on(const ContainerRuntimePaths& paths) {
  UniqueFd dir(::open(paths.dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) throw Error::from_errno("open " + paths.dir.string());
  UniqueFd socket(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!socket) throw Error::from_errno("create the supervisor socket");
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string path = short_socket_path(dir.get());
  path.copy(address.sun_path, sizeof address.sun_path - 1);
  ::unlink(paths.socket.c_str());
  if (::bind(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(socket.get(), 64) != 0) {
    throw Error::from_errno("listen on " + paths.socket.string());
  }
  // bind(2) follows the umask; the mode must not. The supervisor checks each peer's credentials too.
  if (::fchmodat(dir.get(), "supervisor.sock", 0600, 0) != 0) throw Error::from_errno("chmod " + paths.socket.string());
  return socket;
}

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Pipe make_pipe() {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) throw Error::from_errno("create a pipe for the container's output");
  return {UniqueFd(ends[0]), UniqueFd(ends[1])};
}

// Takes the supervisor's liveness lock on a fresh descriptor (inherited by the supervisor, so no
// close-on-exec). Fails when another supervisor holds it.
UniqueFd take_liveness_lock(const ContainerRuntimePaths& paths) {
  UniqueFd fd(::open(paths.supervisor_lock.c_str(), O_RDWR | O_CREAT, 0600));
  if (!fd) throw Error::from_errno("open " + paths.supervisor_lock.string());
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  if (::fcntl(fd.get(), F_OFD_SETLK, &lock) != 0) {
    throw Error("the container is already running", 0, "stop it first, or use `mcore restart`");
  }
  return fd;
}

void keep_across_exec(int fd) {
  if (fd >= 0) ::fcntl(fd, F_SETFD, 0);
}

}  // namespace

LaunchReport start_and_supervise(Engine& engine, const std::string& id, int report_fd, int attach_fd,
                                 int held_lock_fd) {
  auto& log = *engine.logger();
  ContainerStore store(engine.config().data_root);
  FileLock lock = store.lock(id);
  auto found = store.load(id);
  if (!found) return failed(Error("no such container: " + id));
  ContainerRecord& record = *found;
  const ContainerSpec& spec = record.spec;
  const ContainerRuntimePaths paths = runtime_paths(engine.config(), id);

  auto record_failure = [&](LaunchReport report) {
    record.state = ContainerState::exited;
    record.exit_code = report.exit_code;
    record.error = report.failure ? report.failure->what() : "";
    record.finished_at = now_rfc3339();
    record.pid = 0;
    record.endpoint.reset();
    try {
      store.save(record);
    } catch (const Error& error) {
      log.warn("container {}: {}", id.substr(0, 12), error.what());
    }
    send_report(report_fd, report, -1);
    return report;
  };

  UniqueFd liveness;
  try {
    // The supervisor's socket lives here: nobody but root may reach it, whatever the umask.
    ensure_private_directory(paths.dir);
    liveness = held_lock_fd >= 0 ? UniqueFd(held_lock_fd) : take_liveness_lock(paths);
  } catch (const Error& error) {
    // Another supervisor runs it: its record is not ours to touch.
    LaunchReport report = failed(error);
    send_report(report_fd, report, -1);
    return report;
  }

  try {
    ::unlink(paths.exit_file.c_str());

    auto storage = engine.storage();
    auto resource = engine.resource();
    RootfsRequest request;
    request.container_id = id;
    request.layers = spec.image_layers;
    if (!spec.rootfs.empty()) request.external_lowers = {spec.rootfs};
    request.external_lowers.push_back(etc_mount_point_layer(store, id));
    RootfsPlan rootfs = storage->prepare_rootfs(request);
    populate_volumes(engine, spec, rootfs);

    // A group left by a crash would make create() fail; a first start has none to remove.
    if (record.state != ContainerState::created) resource->destroy(id);
    ResourceRequest resources;
    resources.container_id = id;
    resources.limits = spec.limits;
    resources.unrestricted_devices = spec.privileged;
    resource->create(resources);
    ScopeExit destroy_group([&] {
      try {
        resource->destroy(id);
      } catch (const Error& failure) {
        log.warn("container {}: {}", id.substr(0, 12), failure.what());
      }
    });

    write_etc_files(store, spec);
    const EtcFilePaths etc = etc_file_paths(store, id);
    InitPlan plan;
    plan.seccomp = container_seccomp(spec, engine.config().state_root);
    CgroupView cgroups;
    cgroups.own_namespace = probe_cgroup_namespace();
    if (cgroups.own_namespace) cgroups.hierarchies = host_cgroup_hierarchies();
    build_init_plan(spec, rootfs, {etc.hosts, etc.resolv_conf, etc.hostname}, cgroups, plan);
    Pipe out, err, in;
    if (!spec.tty) {
      out = make_pipe();
      err = make_pipe();
      plan.stdio[1] = out.write.get();
      plan.stdio[2] = err.write.get();
      if (spec.interactive) {
        in = make_pipe();
        plan.stdio[0] = in.read.get();
      }
    }
    UniqueFd listener = listen_on(paths);

    ContainerProcess process = ContainerProcess::start(plan, namespace_flags(spec));
    out.write.reset();
    err.write.reset();
    in.read.reset();
    resource->add_process(id, process.pid());
    // The network is in place before the barrier lets the command run.
    std::vector<UniqueFd> held_sockets;
    ScopeExit leave_network([&] { detach_container_network(engine, store, record); });
    if (spec.network == NetworkMode::network) {
      AttachedNetwork attached = attach_container_network(engine, record, process.pid());
      record.endpoint = std::move(attached.endpoint);
      held_sockets = std::move(attached.held_sockets);
      write_hosts(engine, store, record);
    }
    UniqueFd pty_master;
    std::optional<InitFailure> failure;
    if (spec.tty) pty_master = process.receive_pty_master(failure);
    if (!failure) failure = process.wait_for_exec(process.release());
    if (failure) {
      process.wait();
      return record_failure(start_failure(spec, *failure));
    }

    record.state = ContainerState::running;
    record.pid = process.pid();
    record.started_at = now_rfc3339();
    record.error.clear();
    record.exit_code = 0;
    record.oom_killed = false;
    record.cgroup = resource->group_path(id);
    store.save(record);
    destroy_group.dismiss();
    leave_network.dismiss();
    if (record.endpoint) refresh_network_hosts(engine, store, record.endpoint->network);
    send_report(report_fd, LaunchReport{}, process.pidfd());
    lock.release();

    std::vector<std::string> argv = {helper_executable("mcore-supervisor").string(),
                                     "--id", id,
                                     "--log", store.log_path(id).string(),
                                     "--log-max-size", std::to_string(spec.log.max_size),
                                     "--log-max-files", std::to_string(spec.log.max_files),
                                     "--exit-file", paths.exit_file.string(),
                                     "--socket", paths.socket.string(),
                                     "--pidfd", std::to_string(process.pidfd()),
                                     "--listen", std::to_string(listener.get())};
    auto pass = [&](const char* option, int fd) {
      if (fd < 0) return;
      keep_across_exec(fd);
      argv.insert(argv.end(), {option, std::to_string(fd)});
    };
    keep_across_exec(process.pidfd());
    keep_across_exec(listener.get());
    pass("--stdout", out.read.get());
    pass("--stderr", err.read.get());
    pass("--pty", pty_master.get());
    pass("--stdin", in.write.get());
    pass("--client", attach_fd);
    for (const auto& socket : held_sockets) pass("--hold", socket.get());
    argv.push_back("--");
    for (auto& word : exit_command(engine, id, liveness.get())) argv.push_back(std::move(word));
    std::vector<char*> pointers;
    for (auto& word : argv) pointers.push_back(word.data());
    pointers.push_back(nullptr);
    ::execv(pointers[0], pointers.data());
    throw Error::from_errno("exec " + argv[0]);
  } catch (const Error& error) {
    return record_failure(failed(error));
  }
}

LaunchReport launch_container(Engine& engine, const std::string& id, int attach_fd) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    throw Error::from_errno("create the launch report socket");
  }
  UniqueFd ours(pair[0]);
  UniqueFd theirs(pair[1]);
  pid_t pid = ::fork();
  if (pid < 0) throw Error::from_errno("fork the container's launcher");
  if (pid == 0) {
    ours.reset();
    // The supervisor must outlive this command and keep none of its terminal or pipes.
    ::setsid();
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    int null = ::open("/dev/null", O_RDWR);
    for (int fd = 0; fd <= 2; ++fd) ::dup2(null, fd);
    if (null > 2) ::close(null);
    try {
      start_and_supervise(engine, id, theirs.get(), attach_fd, -1);
    } catch (...) {
    }
    ::_exit(kExitMcoreFailure);
  }
  theirs.reset();
  return receive_report(ours.get());
}

}  // namespace mcore::engine
