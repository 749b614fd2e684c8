#include "engine/oci/oci_runtime.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "engine/context/host_facts.hpp"
#include "engine/init/init_protocol.hpp"
#include "engine/oci/oci_plan.hpp"
#include "engine/oci/oci_state.hpp"
#include "engine/oci/runtime_spec.hpp"
#include "engine/start/container_process.hpp"
#include "engine/util/rfc3339.hpp"
#include "engine/util/scope_exit.hpp"
#include "mcore/atomic_file.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct CgroupPlacement {
  std::string parent;  // the resource driver's cgroup_parent; "" keeps the config's
  std::string name;
};

// systemd's "slice:prefix:name", placed as runc's cgroupfs fallback does without systemd:
// "a-b.slice" nests as /a.slice/a-b.slice, and the group is "prefix-name.scope".
CgroupPlacement systemd_placement(const std::string& cgroups_path) {
  const auto first = cgroups_path.find(':');
  const auto second = first == std::string::npos ? first : cgroups_path.find(':', first + 1);
  if (second == std::string::npos || cgroups_path.find(':', second + 1) != std::string::npos) {
    throw Error("config.json: linux.cgroupsPath: \"" + cgroups_path + "\" is not slice:prefix:name", 0,
                "with --systemd-cgroup, give e.g. \"system.slice:mcore:ID\"");
  }
  std::string slice = cgroups_path.substr(0, first);
  const std::string prefix = cgroups_path.substr(first + 1, second - first - 1);
  const std::string name = cgroups_path.substr(second + 1);
  if (slice.empty()) slice = "system.slice";
  if (!slice.ends_with(".slice") || slice.find('/') != std::string::npos || name.empty()) {
    throw Error("config.json: linux.cgroupsPath: \"" + cgroups_path + "\" is not slice:prefix:name");
  }
  std::string parent;
  const std::string stem = slice.substr(0, slice.size() - 6);
  for (std::size_t dash = stem.find('-'); dash != std::string::npos; dash = stem.find('-', dash + 1)) {
    parent += "/" + stem.substr(0, dash) + ".slice";
  }
  parent += "/" + slice;
  return {parent, (prefix.empty() ? "" : prefix + "-") + name + ".scope"};
}

CgroupPlacement place_cgroup(const std::string& cgroups_path, const std::string& id, bool systemd) {
  if (cgroups_path.empty()) return {"", id};
  if (systemd) return systemd_placement(cgroups_path);
  if (cgroups_path.find(':') != std::string::npos && cgroups_path.find('/') == std::string::npos) {
    throw Error("config.json: linux.cgroupsPath: \"" + cgroups_path + "\" is systemd's slice:prefix:name form", 0,
                "run mcore-oci with --systemd-cgroup, or give a path such as /mcore/" + id);
  }
  const fs::path path = fs::path(cgroups_path).lexically_normal();
  for (const auto& part : path) {
    if (part == "..") throw Error("config.json: linux.cgroupsPath: \"" + cgroups_path + "\" may not contain \"..\"");
  }
  std::string parent = path.parent_path().string();
  if (path.filename().empty() || parent.empty() || parent == "/") {
    throw Error("config.json: linux.cgroupsPath: \"" + cgroups_path + "\" names no parent group", 0,
                "give a group inside a parent, such as /mcore/" + id + " (or mcore/" + id +
                    " below mcore-oci's own group)");
  }
  return {parent, path.filename().string()};
}

// An engine whose resource driver places groups under `parent` ("" keeps the config's cgroup_parent).
std::unique_ptr<Engine> engine_for(const OciRuntimeOptions& options, const std::string& parent) {
  Config config = Engine::load_effective_config(options.engine);
  if (!parent.empty()) config.sections[DriverKind::resource]["cgroup_parent"] = parent;
  return std::make_unique<Engine>(options.engine, std::move(config));
}

// runc's words where clients match on them: Podman maps "executable file not found" and "no such file
// or directory" to exit 127, "permission denied" to 126.
Error init_error(const InitFailure& failure, const std::string& command) {
  if (failure.step == kExecStep) {
    if (failure.error_number == ENOENT) {
      return Error("exec: \"" + command + "\": executable file not found in $PATH");
    }
    if (failure.error_number == EACCES) return Error("exec: \"" + command + "\": permission denied");
    return Error("exec: \"" + command + "\"", failure.error_number);
  }
  return Error("container init: " + failure.step, failure.error_number);
}

void write_pid_file(const fs::path& file, pid_t pid) {
  // Digits only, written by rename: a client reading it never sees a partial number.
  write_file_atomic(fs::absolute(file), std::to_string(pid), {.mode = 0644, .sync_file = false});
}

UniqueFd open_pidfd(const OciState& state) {
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, state.pid, 0U)));
  if (!pidfd) return {};
  // Opened first, checked after: a match proves the descriptor holds the init, not a reused PID.
  const auto start_time = process_start_time(state.pid);
  if (!start_time || *start_time != state.pid_start_time) return {};
  return pidfd;
}

// Waits until the process behind `pidfd` has exited (it need not be our child).
void wait_for_exit(int pidfd, int timeout_ms) {
  pollfd exited{pidfd, POLLIN, 0};
  while (::poll(&exited, 1, timeout_ms) < 0 && errno == EINTR) {
  }
}

class Creation {
 public:
  Creation(const OciRuntimeOptions& options, const OciCreateOptions& create)
      : options_(options), create_(create), dir_(options.root, create.id) {}

  // Everything up to the init waiting on the FIFO; the state saved. Undone on failure.
  ContainerProcess& run() {
    fs::path bundle = fs::absolute(create_.bundle).lexically_normal();
    if (!bundle.has_filename() && bundle.has_parent_path()) bundle = bundle.parent_path();  // "/b/" -> "/b"
    RuntimeSpec spec = load_runtime_spec(bundle);
    const CgroupPlacement placement = place_cgroup(spec.cgroups_path, create_.id, options_.systemd_cgroup);

    dir_.create_dir();
    undo_dir_ = true;
    if (::mkfifo(dir_.fifo().c_str(), 0600) != 0) throw Error::from_errno("create the exec FIFO");
    UniqueFd fifo(::open(dir_.fifo().c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fifo) throw Error::from_errno("open the exec FIFO");

    OciLaunchPlan plan;
    const bool mounts_cgroups = std::any_of(spec.mounts.begin(), spec.mounts.end(),
                                            [](const OciMount& mount) { return mount.type.starts_with("cgroup"); });
    build_oci_plan(spec, mounts_cgroups ? host_cgroup_hierarchies() : std::vector<CgroupHierarchy>{}, plan);
    plan.init.start_fifo_fd = fifo.get();

    engine_ = engine_for(options_, placement.parent);
    resource_ = engine_->resource();
    group_ = placement.name;
    resource_->create({.container_id = group_, .limits = spec.limits, .unrestricted_devices = spec.devices_unrestricted});
    undo_group_ = true;

    if (plan.pid_namespace && ::setns(plan.pid_namespace.get(), CLONE_NEWPID) != 0) {
      throw Error::from_errno("join the PID namespace of linux.namespaces");
    }
    process_.emplace(ContainerProcess::start(plan.init, plan.clone_flags));
    fifo.reset();  // the init holds the only read end now
    plan.joined.clear();
    resource_->add_process(group_, process_->pid());
    if (spec.process.oom_score_adj) {
      write_file_atomic_free("/proc/" + std::to_string(process_->pid()) + "/oom_score_adj",
                             std::to_string(*spec.process.oom_score_adj));
    }
    const bool released = process_->release();
    if (auto failure = released ? process_->wait_for_ready() : process_->wait_for_exec(false)) {
      throw init_error(*failure, spec.process.args.front());
    }

    OciState state;
    state.id = create_.id;
    state.pid = process_->pid();
    const auto start_time = process_start_time(state.pid);
    if (!start_time) throw Error("the container init exited before start");
    state.pid_start_time = *start_time;
    state.bundle = bundle;
    state.rootfs = spec.root;
    state.created = now_rfc3339();
    state.annotations = spec.annotations;
    state.cgroup_parent = placement.parent;
    state.cgroup_name = group_;
    dir_.save(state);
    if (create_.pid_file) write_pid_file(*create_.pid_file, state.pid);
    return *process_;
  }

  void keep() { undo_dir_ = undo_group_ = false; }

  ~Creation() {
    if (process_ && (undo_dir_ || undo_group_)) {
      process_->send_signal(SIGKILL);
      process_.reset();  // reaps it
    }
    try {
      if (undo_group_) resource_->destroy(group_);
    } catch (const Error&) {
    }
    try {
      if (undo_dir_) dir_.remove();
    } catch (const Error&) {
    }
  }

  Engine& engine() { return *engine_; }
  const std::string& group() const { return group_; }
  const OciStateDir& dir() const { return dir_; }

 private:
  // /proc files take a plain write; there is nothing to rename over.
  static void write_file_atomic_free(const std::string& path, const std::string& text) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      throw Error::from_errno("set process.oomScoreAdj");
    }
  }

  const OciRuntimeOptions& options_;
  const OciCreateOptions& create_;
  OciStateDir dir_;
  std::unique_ptr<Engine> engine_;
  std::shared_ptr<ResourceDriver> resource_;
  std::string group_;
  std::optional<ContainerProcess> process_;
  bool undo_dir_ = false;
  bool undo_group_ = false;
};

// Signals `mcore-oci run` forwards to the container, as runc does.
constexpr std::array kForwarded = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};

}  // namespace

OciRuntime::OciRuntime(OciRuntimeOptions options) : options_(std::move(options)) {}

void OciRuntime::create(const OciCreateOptions& options) {
  Creation creation(options_, options);
  creation.run().disown();
  creation.keep();
}

int OciRuntime::run(const OciCreateOptions& options) {
  sigset_t forwarded;
  ::sigemptyset(&forwarded);
  for (int signal : kForwarded) ::sigaddset(&forwarded, signal);
  // Blocked before the clone: the init unblocks everything before it execs.
  ::sigprocmask(SIG_BLOCK, &forwarded, nullptr);
  UniqueFd signals(::signalfd(-1, &forwarded, SFD_CLOEXEC));
  if (!signals) throw Error::from_errno("open a signalfd to forward signals");

  Creation creation(options_, options);
  ContainerProcess& process = creation.run();
  start(options.id);
  std::array<pollfd, 2> waiting{{{process.pidfd(), POLLIN, 0}, {signals.get(), POLLIN, 0}}};
  for (;;) {
    if (::poll(waiting.data(), waiting.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw Error::from_errno("wait for the container");
    }
    if (waiting[0].revents != 0) break;
    signalfd_siginfo info{};
    if (::read(signals.get(), &info, sizeof info) == sizeof info) process.send_signal(static_cast<int>(info.ssi_signo));
  }
  const int exit_code = process.wait();
  // What the command left in its group goes with it, then the state (Creation undoes both).
  return exit_code;
}

void OciRuntime::start(const std::string& id) {
  const OciStateDir dir(options_.root, id);
  const OciState state = dir.load();
  const OciStatus status = observe_status(dir, state);
  if (status != OciStatus::created) {
    throw Error(std::string("cannot start a container that is ") + to_string(status), 0,
                status == OciStatus::stopped ? "delete it and create it again" : "it was started already");
  }
  // Opening for writing succeeds only while the init holds the read end: it is still waiting.
  UniqueFd fifo(::open(dir.fifo().c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fifo) {
    if (errno == ENXIO) throw Error("cannot start container " + id + ": its init is no longer waiting", 0, "delete it");
    throw Error::from_errno("open the exec FIFO of " + id);
  }
  const char go = 0;
  if (::write(fifo.get(), &go, 1) != 1) throw Error::from_errno("start container " + id);
  ::unlink(dir.fifo().c_str());
}

json OciRuntime::state(const std::string& id) {
  const OciStateDir dir(options_.root, id);
  const OciState state = dir.load();
  return state_to_json(state, observe_status(dir, state));
}

void OciRuntime::kill(const std::string& id, int signal, bool all) {
  const OciStateDir dir(options_.root, id);
  const OciState state = dir.load();
  if (all) {
    engine_for(options_, state.cgroup_parent)->resource()->kill_all(state.cgroup_name, signal);
    return;
  }
  UniqueFd pidfd = open_pidfd(state);
  if (!pidfd) throw Error("container not running");
  if (::syscall(SYS_pidfd_send_signal, pidfd.get(), signal, nullptr, 0U) != 0) {
    if (errno == ESRCH) throw Error("container not running");
    throw Error::from_errno("send the signal to " + id);
  }
}

void OciRuntime::remove(const std::string& id, bool force) {
  const OciStateDir dir(options_.root, id);
  std::optional<OciState> state;
  try {
    state = dir.load();
  } catch (const Error&) {
    std::error_code error;
    if (!force || fs::exists(dir.dir(), error)) throw;
    return;  // --force on a container that is not there: nothing to do, as with runc
  }
  const OciStatus status = observe_status(dir, *state);
  if (status == OciStatus::running && !force) {
    throw Error("cannot delete container " + id + " that is not stopped: running", 0,
                "stop it first (mcore-oci kill), or use delete --force");
  }
  if (UniqueFd pidfd = open_pidfd(*state)) {
    ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0U);
    wait_for_exit(pidfd.get(), 10000);
  }
  engine_for(options_, state->cgroup_parent)->resource()->destroy(state->cgroup_name);
  dir.remove();
}

std::vector<json> OciRuntime::list() {
  std::vector<json> states;
  for (const auto& id : list_oci_ids(options_.root)) {
    try {
      states.push_back(state(id));
    } catch (const Error&) {
      // Deleted meanwhile.
    }
  }
  return states;
}

json oci_features() {
  return {{"ociVersionMin", "1.0.0"},
          {"ociVersionMax", "1.1.0"},
          {"hooks", json::array()},
          {"mountOptions",
           {"async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "mand", "noatime",
            "nodev", "nodiratime", "noexec", "nomand", "norelatime", "nostrictatime", "nosuid", "private",
            "rbind", "relatime", "remount", "ro", "rprivate", "rshared", "rslave", "runbindable", "rw",
            "shared", "slave", "strictatime", "suid", "sync", "unbindable"}},
          {"linux",
           {{"namespaces", {"cgroup", "ipc", "mount", "network", "pid", "uts"}},
            {"capabilities", capability_names(all_capabilities())},
            {"cgroup", {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}}},
            {"seccomp",
             {{"enabled", true},
              {"actions",
               {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
                "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"}},
              {"operators",
               {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ",
                "SCMP_CMP_NE"}},
              {"archs", {"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32"}}}},
            {"apparmor", {{"enabled", false}}},
            {"selinux", {{"enabled", false}}}}}};
}

}  // namespace mcore::engine
