#include "engine/start/container_launch.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <functional>

#include <nlohmann/json.hpp>

#include "engine/container/container_liveness.hpp"
#include "engine/container/container_store.hpp"
#include "engine/context/self_command.hpp"
#include "engine/init/init_plan.hpp"
#include "engine/init/init_protocol.hpp"
#include "engine/io/descriptors.hpp"
#include "engine/io/fd_passing.hpp"
#include "engine/start/container_etc.hpp"
#include "engine/start/container_network.hpp"
#include "engine/start/container_process.hpp"
#include "engine/start/container_seccomp.hpp"
#include "engine/start/container_user_namespace.hpp"
#include "engine/start/start_failure.hpp"
#include "engine/util/file_util.hpp"
#include "engine/util/scope_exit.hpp"
#include "engine/util/vfork_child.hpp"
#include "engine/volume/volume_populate.hpp"

namespace mcore::engine {
namespace fs = std::filesystem;

namespace {

constexpr int kExitMcoreFailure = 125;

unsigned long namespace_flags(const ContainerSpec& spec) {
  unsigned long flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID;
  if (has_own_network_namespace(spec)) flags |= CLONE_NEWNET;
  // In the same clone: every other namespace is then owned by the user namespace.
  if (has_own_user_namespace(spec)) flags |= CLONE_NEWUSER;
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


// `mcore-exit-handler [global options] ID`: what the supervisor execs when the command exits (it adds the
// lock and the exit's facts before the id).
std::vector<std::string> exit_command(const Engine& engine, const std::string& id) {
  return engine_command(engine, helper_executable("mcore-exit-handler"), {id});
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

namespace {

// One start of a container, in three steps: prepare() what the init needs before it exists (root
// filesystem, volumes, /etc files, the init plan, pipes); spawn() the init, make its cgroup and join it
// while the init mounts, join its network, save the record as running and wait until the command was
// exec'd; then the supervisor_command() that takes over, and hand_over() of what it names. Whatever
// prepare() and spawn() set up is undone when a later step throws.
class ContainerStart {
 public:
  ContainerStart(Engine& engine, ContainerStore& store, ContainerRecord& record)
      : engine_(engine),
        store_(store),
        record_(record),
        spec_(record.spec),
        id_(record.id),
        paths_(runtime_paths(engine.config(), record.id)),
        resource_(engine.resource()),
        destroy_group_([this] { destroy_group(); }),
        leave_network_([this] {
          if (joined_network_) detach_container_network(engine_, store_, record_);
        }) {}

  void prepare() {
    ::unlink(paths_.exit_file.c_str());
    RootfsRequest request;
    request.container_id = id_;
    request.layers = spec_.image_layers;
    if (!spec_.rootfs.empty()) request.external_lowers = {spec_.rootfs};
    request.external_lowers.push_back(etc_mount_point_layer(store_, id_));
    rootfs_ = engine_.storage()->prepare_rootfs(request);
    const RootfsPlan& rootfs = rootfs_;
    if (has_own_user_namespace(spec_)) give_upper_to_container_root(rootfs, spec_);
    populate_volumes(engine_, spec_, rootfs);
    write_etc_files(store_, spec_);
    const EtcFilePaths etc = etc_file_paths(store_, id_);
    plan_.seccomp = container_seccomp(spec_, engine_.config().state_root);
    CgroupView cgroups;
    cgroups.own_namespace = probe_cgroup_namespace();
    if (cgroups.own_namespace) cgroups.hierarchies = host_cgroup_hierarchies();
    build_init_plan(spec_, rootfs, {etc.hosts, etc.resolv_conf, etc.hostname}, cgroups, plan_);
    if (!spec_.tty) {
      out_ = make_pipe();
      err_ = make_pipe();
      plan_.stdio[1] = out_.write.get();
      plan_.stdio[2] = err_.write.get();
      if (spec_.interactive) {
        in_ = make_pipe();
        plan_.stdio[0] = in_.read.get();
      }
    }
  }

  // Returns the reason the command did not start, or nullopt once it runs.
  std::optional<InitFailure> spawn() {
    process_.emplace(ContainerProcess::start(plan_, namespace_flags(spec_)));
    if (has_own_user_namespace(spec_) &&
        !give_user_namespace(*process_, spec_, rootfs_.mounts.back(), plan_)) {
      std::optional<InitFailure> failure = process_->wait_for_exec(false);
      process_->wait();
      return failure;
    }
    out_.write.reset();
    err_.write.reset();
    in_.read.reset();
    // While the init mounts the container's filesystems on the other CPU. It joins its cgroup before
    // the barrier, so nothing of the container runs outside it; the init's own set-up is charged to
    // ours, as runc's is until it joins.
    join_group();
    listener_ = listen_on(paths_);
    // The network is in place before the barrier lets the command run.
    if (spec_.network == NetworkMode::network) {
      joined_network_ = true;
      AttachedNetwork attached = attach_container_network(engine_, record_, process_->pid());
      record_.endpoint = std::move(attached.endpoint);
      held_sockets_ = std::move(attached.held_sockets);
      write_hosts(engine_, store_, record_);
    }
    std::optional<InitFailure> failure;
    if (spec_.tty) pty_master_ = process_->receive_pty_master(failure);
    // What a start that fails leaves as it was (the caller records the failure over the rest).
    const std::string last_started_at = record_.started_at;
    const std::string last_cgroup = record_.cgroup;
    if (!failure) {
      // Running from the barrier on, as in runc and Docker: saved while the init finishes its set-up,
      // not after it.
      record_.state = ContainerState::running;
      record_.pid = process_->pid();
      record_.started_at = now_rfc3339();
      record_.error.clear();
      record_.exit_code = 0;
      record_.oom_killed = false;
      record_.cgroup = resource_->group_path(id_);
      store_.save(record_);
      failure = process_->wait_for_exec(process_->release());
    }
    if (failure) {
      record_.started_at = last_started_at;
      record_.cgroup = last_cgroup;
      process_->wait();
      return failure;
    }
    destroy_group_.dismiss();
    leave_network_.dismiss();
    if (record_.endpoint) refresh_network_hosts(engine_, store_, *record_.endpoint);
    return std::nullopt;
  }

  int init_pidfd() const { return process_->pidfd(); }

  // mcore-supervisor's command line, with everything it needs: the init's pidfd, the pipes or the
  // terminal, the listening socket, the held port sockets, `liveness_fd` (the lock the exit handler
  // inherits in turn), `client`, and the program to exec at the exit. Throws Error when that cannot be
  // had. The descriptors it names stay owned here until hand_over().
  SupervisorCommand supervisor_command(AttachedClient client, int liveness_fd) {
    SupervisorCommand command;
    command.argv = {helper_executable("mcore-supervisor").string(),
                    "--id", id_,
                    "--log", store_.log_path(id_).string(),
                    "--log-max-size", std::to_string(spec_.log.max_size),
                    "--log-max-files", std::to_string(spec_.log.max_files),
                    "--exit-file", paths_.exit_file.string(),
                    "--socket", paths_.socket.string()};
    auto pass = [&](const char* option, int fd) {
      if (fd < 0) return;
      keep_across_exec(fd);
      command.argv.insert(command.argv.end(), {option, std::to_string(fd)});
      command.descriptors.push_back(fd);
    };
    pass("--pidfd", process_->pidfd());
    pass("--listen", listener_.get());
    pass("--lock-fd", liveness_fd);
    pass("--stdout", out_.read.get());
    pass("--stderr", err_.read.get());
    pass("--pty", pty_master_.get());
    pass("--stdin", in_.write.get());
    pass("--client", client.fd);
    // The client records the exit itself unless a restart policy may need the exit handler.
    if (client.fd >= 0 && client.takes_exit && spec_.restart.kind == RestartPolicy::Kind::no) {
      command.argv.push_back("--client-takes-exit");
    }
    for (const auto& socket : held_sockets_) pass("--hold", socket.get());
    command.argv.push_back("--");
    const std::vector<std::string> at_exit = exit_command(engine_, id_);
    command.argv.insert(command.argv.end(), at_exit.begin(), at_exit.end());
    command.init_pidfd = process_->pidfd();
    return command;
  }

  // The descriptors supervisor_command() named are the supervisor's from now on: nothing here closes
  // them, and the init is neither killed nor reaped when this start ends.
  void hand_over() noexcept {
    process_->hand_over();
    listener_.release();
    out_.read.release();
    err_.read.release();
    pty_master_.release();
    in_.write.release();
    for (auto& socket : held_sockets_) socket.release();
  }

 private:
  void join_group() {
    // A group left by a crash would make create() fail; a first start has none to remove.
    if (record_.state != ContainerState::created) resource_->destroy(id_);
    ResourceRequest resources;
    resources.container_id = id_;
    resources.limits = spec_.limits;
    // Rootless, no device rule can be loaded (a BPF program needs the host's privilege), and none is
    // needed: in a user namespace no node can be made, only those mcore binds in are there.
    resources.unrestricted_devices = spec_.privileged || engine_.rootless();
    resource_->create(resources);
    group_created_ = true;
    resource_->add_process(id_, process_->pid());
  }

  void destroy_group() {
    if (!group_created_) return;
    try {
      resource_->destroy(id_);
    } catch (const Error& failure) {
      engine_.logger()->warn("container {}: {}", id_.substr(0, 12), failure.what());
    }
  }

  Engine& engine_;
  ContainerStore& store_;
  ContainerRecord& record_;
  const ContainerSpec& spec_;
  const std::string id_;
  const ContainerRuntimePaths paths_;
  std::shared_ptr<ResourceDriver> resource_;
  RootfsPlan rootfs_;
  bool group_created_ = false;
  bool joined_network_ = false;
  // The undo steps, placed so that on the way out the network is left first, then the init is
  // killed (process_), and the cgroup goes last.
  ScopeExit<std::function<void()>> destroy_group_;
  InitPlan plan_;
  Pipe out_, err_, in_;
  UniqueFd listener_;
  UniqueFd pty_master_;
  std::optional<ContainerProcess> process_;
  std::vector<UniqueFd> held_sockets_;
  ScopeExit<std::function<void()>> leave_network_;
};

// A launcher that never got to exec has ended: it is reaped. Had a signal killed it half-way, what it
// opened is still open in the table it shared with this process (a sync socket among them, which
// would keep its init waiting, and the report socket's peer with it): closed here.
void reap_launcher(pid_t launcher, const std::vector<int>& open_before) {
  int status = 0;
  while (::waitpid(launcher, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFSIGNALED(status)) return;
  for (int fd : open_descriptors()) {
    if (!std::binary_search(open_before.begin(), open_before.end(), fd)) ::close(fd);
  }
}

}  // namespace

LaunchReport start_container(Engine& engine, const std::string& id, int report_fd, AttachedClient client,
                             int held_lock_fd, SupervisorCommand& command) {
  // Every way out sends a report: the caller otherwise learns only that the launcher vanished.
  auto report = [&](LaunchReport outcome) {
    send_report(report_fd, outcome, -1);
    return outcome;
  };
  ContainerStore store(engine.config().data_root);
  std::unique_ptr<FileLock> lock;  // not std::optional: g++ 12 misreads its state (maybe-uninitialized)
  std::optional<ContainerRecord> found;
  UniqueFd liveness;
  try {
    lock = std::make_unique<FileLock>(store.lock(id));
    found = store.load(id);
    if (!found) return report(failed(Error("no such container: " + id, 0, "see `mcore ps -a`")));
    const ContainerRuntimePaths paths = runtime_paths(engine.config(), id);
    // The supervisor's socket lives here: nobody but root may reach it, whatever the umask.
    ensure_private_directory(paths.dir);
    liveness = held_lock_fd >= 0 ? UniqueFd(held_lock_fd) : take_liveness_lock(paths);
  } catch (const Error& error) {
    // Not started, and another supervisor may run it: the record is not ours to touch.
    return report(failed(error));
  }

  ContainerRecord& record = *found;
  auto record_failure = [&](LaunchReport outcome) {
    record.state = ContainerState::exited;
    record.exit_code = outcome.exit_code;
    record.error = outcome.failure ? outcome.failure->what() : "";
    record.finished_at = now_rfc3339();
    record.pid = 0;
    record.endpoint.reset();
    try {
      store.save(record);
    } catch (const Error& error) {
      engine.logger()->warn("container {}: {}", id.substr(0, 12), error.what());
    }
    return report(std::move(outcome));
  };
  try {
    ContainerStart start(engine, store, record);
    start.prepare();
    if (auto failure = start.spawn()) return record_failure(start_failure(record.spec, *failure));
    command = start.supervisor_command(client, liveness.get());
    send_report(report_fd, LaunchReport{}, start.init_pidfd());
    start.hand_over();
    liveness.release();
    return LaunchReport{};
  } catch (const Error& error) {
    return record_failure(failed(error));
  } catch (const std::exception& error) {
    return record_failure(failed(Error(std::string("unexpected failure: ") + error.what())));
  }
}

void SupervisorCommand::exec() {
  // From here on what this process closes or redirects is its own (a vfork-style launcher shares its
  // caller's table until now); the caller closes its copies of `descriptors`.
  unshare_descriptors();
  unshared = true;
  // The supervisor outlives the caller and keeps none of its terminal or pipes, nor anything else the
  // caller had open without close-on-exec.
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd = 0; fd <= 2; ++fd) ::dup2(null, fd);
  close_descriptors_except(descriptors);
  pointers.clear();
  for (auto& word : argv) pointers.push_back(word.data());
  pointers.push_back(nullptr);
  ::execv(pointers[0], pointers.data());
  const int error = errno;
  // Nobody would supervise the init or take its exit: it must not run on. The record still says
  // running; the next command on the container finds no supervisor and records the exit.
  ::syscall(SYS_pidfd_send_signal, init_pidfd, SIGKILL, nullptr, 0U);
  throw Error("exec " + argv[0], error);
}

LaunchReport start_and_supervise(Engine& engine, const std::string& id, int report_fd, AttachedClient client,
                                 int held_lock_fd) {
  SupervisorCommand command;
  LaunchReport report = start_container(engine, id, report_fd, client, held_lock_fd, command);
  if (report.failure) return report;
  command.exec();
}

LaunchReport launch_container(Engine& engine, const std::string& id, AttachedClient client) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    throw Error::from_errno("create the launch report socket");
  }
  UniqueFd ours(pair[0]);
  UniqueFd theirs(pair[1]);
  // The launcher shares this process's memory and descriptors until it execs mcore-supervisor
  // (util/vfork_child.hpp): the drivers it loads stay loaded here (a foreground run records the exit
  // with them), and it leaves the command line it built here, for this process to free.
  const std::vector<int> open_before = open_descriptors();
  SupervisorCommand command;
  const pid_t launcher = run_in_vfork_child([&] {
    // The supervisor must outlive this command: a session of its own, and no signal blocked.
    ::setsid();
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    bool started = false;
    try {
      started = !start_container(engine, id, theirs.get(), client, -1, command).failure;
    } catch (const std::exception& error) {
      // start_container reports every Error itself; this is what it could not catch.
      send_report(theirs.get(), failed(Error(std::string("the container's launcher failed: ") + error.what())), -1);
    }
    if (started) command.exec();
    ::_exit(kExitMcoreFailure);
  });
  if (command.unshared) {
    // What the supervisor took is the supervisor's alone (the client's end stays the caller's).
    for (int fd : command.descriptors) {
      if (fd != client.fd) ::close(fd);
    }
  } else {
    reap_launcher(launcher, open_before);
  }
  theirs.reset();
  return receive_report(ours.get());
}

}  // namespace mcore::engine
