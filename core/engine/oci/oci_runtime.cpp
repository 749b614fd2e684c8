#include "engine/oci/oci_runtime.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <iostream>

#include "engine/container/container_processes.hpp"
#include "engine/context/host_facts.hpp"
#include "engine/exec/container_entry.hpp"
#include "engine/exec/enter_request.hpp"
#include "engine/init/init_protocol.hpp"
#include "engine/io/fd_passing.hpp"
#include "engine/oci/oci_hooks.hpp"
#include "engine/oci/oci_plan.hpp"
#include "engine/oci/oci_state.hpp"
#include "engine/oci/runtime_spec.hpp"
#include "engine/start/container_process.hpp"
#include "engine/start/container_user_namespace.hpp"
#include "engine/util/rfc3339.hpp"
#include "engine/util/scope_exit.hpp"
#include "mcore/atomic_file.hpp"
#include "mcore/error.hpp"
#include "mcore/fd_io.hpp"

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

UniqueFd connect_console(const fs::path& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.string().size() >= sizeof address.sun_path) throw Error("--console-socket: the path is too long");
  std::memcpy(address.sun_path, path.c_str(), path.string().size());
  UniqueFd socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!socket) throw Error::from_errno("open a socket for --console-socket");
  if (::connect(socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    throw Error::from_errno("--console-socket: connect to " + path.string(), "give the path of a listening Unix socket");
  }
  return socket;
}

// The master goes to the caller's console socket with the terminal's name as payload, as runc sends it;
// consoleSize is set first so the command starts with the right size.
void hand_over_terminal(int console, int master, const OciProcess& process) {
  if (process.console_height != 0 || process.console_width != 0) {
    const winsize size{process.console_height, process.console_width, 0, 0};
    if (::ioctl(master, TIOCSWINSZ, &size) != 0) throw Error::from_errno("set the terminal's size (consoleSize)");
  }
  static constexpr char kName[] = "/dev/ptmx";
  if (!send_message(console, kName, sizeof kName - 1, master)) {
    throw Error::from_errno("send the terminal to --console-socket");
  }
}

int namespaces_apart(pid_t pid);

// createContainer hooks run in the container's namespaces but before pivot_root, so that their path
// still resolves in the runtime's view (as runc runs them): a child of mcore-oci joins the waiting
// init's namespaces and runs them from there. Throws the hook's Error.
void run_in_container_namespaces(const ContainerProcess& init, const std::function<void()>& action) {
  const int namespaces = namespaces_apart(init.pid());
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) throw Error::from_errno("create a pipe for the createContainer hooks");
  UniqueFd report(ends[0]);
  UniqueFd report_end(ends[1]);
  const pid_t child = ::fork();
  if (child < 0) throw Error::from_errno("fork to run the createContainer hooks");
  if (child == 0) {
    report.reset();
    try {
      if (::setns(init.pidfd(), namespaces) != 0) throw Error::from_errno("join the container's namespaces");
      action();
      ::_exit(0);
    } catch (const std::exception& error) {
      write_all(report_end.get(), error.what());
      ::_exit(1);
    }
  }
  report_end.reset();
  const std::string said = read_to_end(report.get(), "the report of the createContainer hooks");
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw Error(said.empty() ? "the createContainer hooks' runner died" : said);
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
    // Checked before anything is made, as runc does.
    UniqueFd console;
    if (spec.process.terminal != create_.console_socket.has_value()) {
      throw Error(spec.process.terminal ? "process.terminal is true but no --console-socket was given"
                                        : "--console-socket was given but process.terminal is false",
                  0, "give --console-socket exactly when config.json asks for a terminal");
    }
    if (create_.console_socket) console = connect_console(*create_.console_socket);

    dir_.create_dir();
    undo_dir_ = true;
    // Saved before anything else is made, so that a `create` killed midway leaves a container that
    // `delete` can find and clean up, not a directory nothing owns.
    OciState state;
    state.id = create_.id;
    state.bundle = bundle;
    state.rootfs = spec.root;
    state.created = now_rfc3339();
    state.annotations = spec.annotations;
    state.cgroup_parent = placement.parent;
    state.cgroup_name = placement.name;
    state.creator_pid = ::getpid();
    state.creator_start_time = process_start_time(state.creator_pid).value_or(0);
    dir_.save(state);
    if (::mkfifo(dir_.fifo().c_str(), 0600) != 0) throw Error::from_errno("create the exec FIFO");
    UniqueFd fifo(::open(dir_.fifo().c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fifo) throw Error::from_errno("open the exec FIFO");

    OciLaunchPlan plan;
    const bool mounts_cgroups = std::any_of(spec.mounts.begin(), spec.mounts.end(),
                                            [](const OciMount& mount) { return mount.type.starts_with("cgroup"); });
    build_oci_plan(spec, mounts_cgroups ? host_cgroup_hierarchies() : std::vector<CgroupHierarchy>{}, plan);
    plan.init.start_fifo_fd = fifo.get();
    plan.init.preserve_fds = create_.preserve_fds;
    plan.init.hook_barrier =
        !spec.hooks.prestart.empty() || !spec.hooks.create_runtime.empty() || !spec.hooks.create_container.empty();

    engine_ = engine_for(options_, placement.parent);
    resource_ = engine_->resource();
    group_ = placement.name;
    resource_->create({.container_id = group_,
                       .limits = spec.limits,
                       .unrestricted_devices = spec.devices_unrestricted,
                       .allowed_devices = spec.allowed_devices});
    undo_group_ = true;
    if (!spec.hugepage_limits.empty()) limit_hugepages(spec.hugepage_limits);

    if (plan.pid_namespace && ::setns(plan.pid_namespace.get(), CLONE_NEWPID) != 0) {
      throw Error::from_errno("join the PID namespace of linux.namespaces");
    }
    process_.emplace(ContainerProcess::start(plan.init, plan.clone_flags));
    fifo.reset();  // the init holds the only read end now
    if (!spec.uid_map.empty() &&
        !give_user_namespace(*process_, spec.uid_map, spec.gid_map, spec.root, plan.init)) {
      auto failure = process_->wait_for_exec(false);
      throw failure ? init_error(*failure, spec.process.args.front())
                    : Error("the container init exited early");
    }
    plan.joined.clear();
    resource_->add_process(group_, process_->pid());
    if (spec.process.oom_score_adj) {
      write_file_atomic_free("/proc/" + std::to_string(process_->pid()) + "/oom_score_adj",
                             std::to_string(*spec.process.oom_score_adj));
    }
    state.pid = process_->pid();
    state.pid_start_time = process_start_time(state.pid).value_or(0);
    if (plan.init.hook_barrier) run_create_hooks(spec, state);
    if (console) {
      std::optional<InitFailure> failure;
      UniqueFd master = process_->receive_pty_master(failure);
      if (failure) throw init_error(*failure, spec.process.args.front());
      hand_over_terminal(console.get(), master.get(), spec.process);
    }
    const bool released = process_->release();
    if (auto failure = released ? process_->wait_for_ready() : process_->wait_for_exec(false)) {
      throw init_error(*failure, spec.process.args.front());
    }

    if (!process_start_time(state.pid)) throw Error("the container init exited before start");
    state.start_hooks = !spec.hooks.start_container.empty() || !spec.hooks.poststart.empty();
    state.poststop_hooks = !spec.hooks.poststop.empty();
    // exec adds processes as this config says (seccomp, capabilities), whatever the bundle holds later.
    write_file_atomic(dir_.config(), read_file(bundle / "config.json"), {.mode = 0600, .sync_file = false});
    dir_.save(state);
    if (create_.pid_file) write_pid_file(*create_.pid_file, state.pid);
    return *process_;
  }

  void keep() { undo_dir_ = undo_group_ = false; }

  // ResourceDriver::limit_hugepages came with ABI 3.1: a 3.0 driver would not know it.
  void limit_hugepages(const std::vector<HugepageLimit>& limits) {
    if (engine_->abi_minor(DriverKind::resource) < 1) {
      throw Error("config.json: linux.resources.hugepageLimits: the resource driver was built for ABI 3.0, "
                  "which cannot limit huge pages",
                  0, "rebuild the resource driver against mcore's SDK, or remove the huge page limits");
    }
    try {
      resource_->limit_hugepages(group_, limits);
    } catch (Error& error) {
      error.add_context("config.json: linux.resources.hugepageLimits");
      throw;
    }
  }

  // At the init's hook barrier (namespaces and mounts made, before pivot_root): prestart and
  // createRuntime on the host, createContainer in the container's namespaces; then the init goes on.
  void run_create_hooks(const RuntimeSpec& spec, const OciState& state) {
    if (auto failure = process_->wait_for_hooks()) throw init_error(*failure, spec.process.args.front());
    const json creating = state_to_json(state, OciStatus::creating);
    run_oci_hooks(spec.hooks.prestart, "prestart", creating);
    run_oci_hooks(spec.hooks.create_runtime, "createRuntime", creating);
    if (!spec.hooks.create_container.empty()) {
      run_in_container_namespaces(*process_, [&] { run_oci_hooks(spec.hooks.create_container, "createContainer", creating); });
    }
    if (!process_->release()) {
      if (auto failure = process_->wait_for_exec(false)) throw init_error(*failure, spec.process.args.front());
    }
  }

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

// Blocks the signals `run` and `exec` forward (before the clone: the init and mcore-enter's child
// unblock everything before they exec) and returns a signalfd for them.
UniqueFd forwarded_signals() {
  sigset_t forwarded;
  ::sigemptyset(&forwarded);
  for (int signal : kForwarded) ::sigaddset(&forwarded, signal);
  ::sigprocmask(SIG_BLOCK, &forwarded, nullptr);
  UniqueFd signals(::signalfd(-1, &forwarded, SFD_CLOEXEC));
  if (!signals) throw Error::from_errno("open a signalfd to forward signals");
  return signals;
}

// Waits for `process` (our child), passing on the signals that arrive meanwhile; returns its exit code.
int wait_forwarding(ContainerProcess& process, int signals) {
  std::array<pollfd, 2> waiting{{{process.pidfd(), POLLIN, 0}, {signals, POLLIN, 0}}};
  for (;;) {
    if (::poll(waiting.data(), waiting.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw Error::from_errno("wait for the container");
    }
    if (waiting[0].revents != 0) break;
    signalfd_siginfo info{};
    if (::read(signals, &info, sizeof info) == sizeof info) process.send_signal(static_cast<int>(info.ssi_signo));
  }
  return process.wait();
}

// The namespaces of `pid` that are not this process's own: the ones an exec'd process must join.
int namespaces_apart(pid_t pid) {
  static constexpr std::pair<const char*, int> kTypes[] = {
      {"mnt", CLONE_NEWNS},  {"uts", CLONE_NEWUTS},       {"ipc", CLONE_NEWIPC},  {"net", CLONE_NEWNET},
      {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP}, {"user", CLONE_NEWUSER}};
  int flags = 0;
  const fs::path theirs = "/proc/" + std::to_string(pid) + "/ns";
  for (const auto& [name, flag] : kTypes) {
    struct stat own {}, other {};
    if (::stat((fs::path("/proc/self/ns") / name).c_str(), &own) != 0 || ::stat((theirs / name).c_str(), &other) != 0) {
      throw Error::from_errno(std::string("read the container's ") + name + " namespace");
    }
    if (own.st_ino != other.st_ino || own.st_dev != other.st_dev) flags |= flag;
  }
  return flags;
}

// "UID[:GID]" as runc's exec --user takes it.
void apply_user(const std::string& text, OciProcess& process) {
  const auto colon = text.find(':');
  try {
    std::size_t used = 0;
    process.uid = static_cast<uid_t>(std::stoul(text.substr(0, colon), &used));
    if (used != text.substr(0, colon).size()) throw std::invalid_argument(text);
    if (colon != std::string::npos) {
      process.gid = static_cast<gid_t>(std::stoul(text.substr(colon + 1), &used));
      if (used != text.size() - colon - 1) throw std::invalid_argument(text);
    }
  } catch (const std::logic_error&) {
    throw Error("--user: \"" + text + "\" is not UID[:GID]", 0, "give numbers, e.g. --user 1000:1000");
  }
}

OciProcess exec_process(const OciExecOptions& options, const OciProcess& container) {
  if (options.process_file) {
    json document;
    try {
      document = json::parse(read_file(*options.process_file));
    } catch (const json::parse_error& error) {
      throw Error(options.process_file->string() + ": not valid JSON: " + error.what());
    }
    return parse_oci_process(document, options.process_file->string());
  }
  if (options.args.empty()) throw Error("exec: no command given", 0, "give the command after the id, or --process FILE");
  OciProcess process = container;
  process.args = options.args;
  process.terminal = options.tty;
  if (options.cwd) process.cwd = *options.cwd;
  process.env.insert(process.env.end(), options.env.begin(), options.env.end());
  if (options.user) apply_user(*options.user, process);
  if (!options.additional_gids.empty()) process.additional_gids = options.additional_gids;
  for (const auto& name : options.caps) {
    const CapabilitySet bit = CapabilitySet{1} << capability_from_name(name);
    process.capabilities |= bit;
    process.bounding |= bit;
  }
  process.no_new_privileges = process.no_new_privileges || options.no_new_privileges;
  return process;
}

void warn(const OciRuntimeOptions& options, const std::string& message) {
  if (options.warn) {
    options.warn(message);
  } else {
    std::cerr << "mcore-oci: warning: " << message << std::endl;
  }
}

RuntimeSpec saved_spec(const OciStateDir& dir, const OciState& state) {
  return parse_runtime_spec(json::parse(read_file(dir.config())), state.bundle);
}

// startContainer hooks run inside the container, as the spec asks (their path is the container's):
// each enters it as `exec` does, with the container process's user, capabilities and seccomp
// profile, the state on stdin. Throws Error naming the first that fails.
void run_start_container_hooks(const OciRuntimeOptions& options, const OciState& state, const RuntimeSpec& spec,
                               int init_pidfd) {
  const std::string input = state_to_json(state, OciStatus::created).dump();
  auto resource = engine_for(options, state.cgroup_parent)->resource();
  const int namespaces = namespaces_apart(state.pid);
  for (std::size_t i = 0; i < spec.hooks.start_container.size(); ++i) {
    const OciHook& hook = spec.hooks.start_container[i];
    const std::string name = "startContainer hook " + std::to_string(i) + " (" + hook.path + ")";
    OciProcess process = spec.process;
    process.args = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
    process.args.front() = hook.path;  // argv[0] is the path: the command is found by it
    process.env = hook.env;
    process.cwd = "/";
    process.terminal = false;
    InitPlan plan;
    build_oci_process_plan(process, spec.seccomp, plan);
    plan.stdin_null = false;
    const UniqueFd in = memory_file("hook-stdin", input);
    const UniqueFd said = memory_file("hook-stderr", "");
    const int stdio[3] = {in.get(), said.get(), said.get()};
    ContainerEntry entry = enter_container(plan, namespaces, init_pidfd, stdio,
                                           [&](pid_t entrant) { resource->add_process(state.cgroup_name, entrant); });
    if (entry.process && !entry.failure) entry.failure = entry.process->wait_for_exec();
    if (entry.failure) throw init_error(*entry.failure, hook.path).add_context(name);
    if (hook.timeout_seconds) {
      pollfd exited{entry.process->pidfd(), POLLIN, 0};
      int ready;
      while ((ready = ::poll(&exited, 1, *hook.timeout_seconds * 1000)) < 0 && errno == EINTR) {
      }
      if (ready == 0) {
        entry.process->send_signal(SIGKILL);
        entry.process->wait();
        throw Error(name + " did not finish within its timeout of " + std::to_string(*hook.timeout_seconds) + " s");
      }
    }
    const int code = entry.process->wait();
    if (code != 0) {
      ::lseek(said.get(), 0, SEEK_SET);
      std::string text = read_to_end(said.get(), "the output of " + name);
      while (!text.empty() && text.back() == '\n') text.pop_back();
      throw Error(name + " exited with " + std::to_string(code) + (text.empty() ? "" : ": " + text.substr(0, 400)));
    }
  }
}

}  // namespace

int OciRuntime::exec(const OciExecOptions& options) {
  const OciStateDir dir(options_.root, options.id);
  const OciState state = dir.load();
  UniqueFd init = open_pidfd(state);
  if (!init) throw Error("cannot exec in a stopped container", 0, "start a new one");
  // Until start, the init is still mcore-oci's own image (/proc/PID/exe is the host binary): nothing
  // may join it before it has exec'd the container's command.
  if (observe_status(dir, state) == OciStatus::created) {
    throw Error("cannot exec in a created container", 0, "start it first (mcore-oci start " + options.id + ")");
  }
  const RuntimeSpec spec = parse_runtime_spec(json::parse(read_file(dir.config())), state.bundle);
  const OciProcess process = exec_process(options, spec.process);
  if (process.terminal != options.console_socket.has_value()) {
    throw Error(process.terminal ? "a terminal needs --console-socket" : "--console-socket needs a terminal (--tty)");
  }
  UniqueFd console;
  if (options.console_socket) console = connect_console(*options.console_socket);
  InitPlan plan;
  build_oci_process_plan(process, spec.seccomp, plan);
  plan.stdin_null = false;
  if (options.preserve_fds > kMaxPreservedFds) throw Error("--preserve-fds: at most " + std::to_string(kMaxPreservedFds));
  plan.preserve_fds = options.preserve_fds;
  auto resource = engine_for(options_, state.cgroup_parent)->resource();

  UniqueFd signals;
  if (!options.detach) signals = forwarded_signals();
  const int stdio[3] = {0, 1, 2};
  ContainerEntry entry = enter_container(plan, namespaces_apart(state.pid), init.get(), stdio,
                                         [&](pid_t entrant) { resource->add_process(state.cgroup_name, entrant); });
  if (entry.pty_master && !entry.failure) hand_over_terminal(console.get(), entry.pty_master.get(), process);
  if (entry.process && !entry.failure) entry.failure = entry.process->wait_for_exec();
  if (entry.failure) throw init_error(*entry.failure, process.args.front());
  if (options.pid_file) write_pid_file(*options.pid_file, entry.process->pid());
  if (options.detach) {
    entry.process->disown();
    return 0;
  }
  return wait_forwarding(*entry.process, signals.get());
}

OciRuntime::OciRuntime(OciRuntimeOptions options) : options_(std::move(options)) {}

void OciRuntime::create(const OciCreateOptions& options) {
  Creation creation(options_, options);
  creation.run().disown();
  creation.keep();
}

int OciRuntime::run(const OciCreateOptions& options) {
  UniqueFd signals = forwarded_signals();

  Creation creation(options_, options);
  ContainerProcess& process = creation.run();
  start(options.id);
  const int code = wait_forwarding(process, signals.get());
  // Then as `delete` does: what the command left in its group goes with it, the poststop hooks run.
  creation.keep();
  remove(options.id, true);
  return code;
}

void OciRuntime::start(const std::string& id) {
  const OciStateDir dir(options_.root, id);
  const OciState state = dir.load();
  const OciStatus status = observe_status(dir, state);
  if (status != OciStatus::created) {
    throw Error(std::string("cannot start a container that is ") + to_string(status), 0,
                status == OciStatus::stopped ? "delete it and create it again" : "it was started already");
  }
  std::optional<RuntimeSpec> spec;
  if (state.start_hooks) spec = saved_spec(dir, state);
  if (spec && !spec->hooks.start_container.empty()) {
    UniqueFd init = open_pidfd(state);
    if (!init) throw Error("cannot start container " + id + ": its init is gone", 0, "delete it");
    try {
      run_start_container_hooks(options_, state, *spec, init.get());
    } catch (const Error&) {
      // The spec's rule: a failed startContainer hook stops the container.
      ::syscall(SYS_pidfd_send_signal, init.get(), SIGKILL, nullptr, 0U);
      throw;
    }
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
  if (spec) {
    try {
      run_oci_hooks(spec->hooks.poststart, "poststart", state_to_json(state, OciStatus::running));
    } catch (const Error& error) {
      warn(options_, error.what());  // the spec's rule: a failed poststart hook is only a warning
    }
  }
}

void OciRuntime::update(const std::string& id, const json& resources) {
  const OciStateDir dir(options_.root, id);
  const OciState state = dir.load();
  const OciStatus status = observe_status(dir, state);
  if (status == OciStatus::stopped) throw Error("container not running: it is stopped", 0, "update a created or running container");
  const ResourceLimits limits = parse_oci_resources(resources, "--resources");
  engine_for(options_, state.cgroup_parent)->resource()->update(state.cgroup_name, limits);
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
    if (fs::exists(dir.dir(), error) && !fs::exists(dir.dir() / "state.json", error)) {
      // A `create` killed before its first save: nothing was made but the directory.
      dir.remove();
      return;
    }
    if (!force) throw;
    return;  // --force on a container that is not there: nothing to do, as with runc
  }
  const OciStatus status = observe_status(dir, *state);
  if (status != OciStatus::created && status != OciStatus::stopped && !force) {
    throw Error("cannot delete container " + id + " that is not stopped: " + to_string(status), 0,
                "stop it first (mcore-oci kill), or use delete --force");
  }
  auto resource = engine_for(options_, state->cgroup_parent)->resource();
  if (UniqueFd pidfd = open_pidfd(*state)) {
    ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0U);
    // A frozen process dies of SIGKILL only once thawed (cgroup v1's freezer).
    if (status == OciStatus::paused) resource->thaw(state->cgroup_name);
    wait_for_exit(pidfd.get(), 10000);
  }
  resource->destroy(state->cgroup_name);
  if (state->poststop_hooks) {
    try {
      run_oci_hooks(saved_spec(dir, *state).hooks.poststop, "poststop", state_to_json(*state, OciStatus::stopped));
    } catch (const Error& error) {
      warn(options_, error.what());  // the spec's rule: a failed poststop hook is only a warning
    }
  }
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

std::vector<pid_t> OciRuntime::processes(const std::string& id) {
  const OciStateDir dir(options_.root, id);
  const OciState state = dir.load();
  return processes_in_group(engine_for(options_, state.cgroup_parent)->resource()->group_path(state.cgroup_name));
}

void OciRuntime::pause(const std::string& id) {
  const OciStateDir dir(options_.root, id);
  const OciState state = dir.load();
  const OciStatus status = observe_status(dir, state);
  if (status != OciStatus::running) throw Error(std::string("container not running: it is ") + to_string(status));
  engine_for(options_, state.cgroup_parent)->resource()->freeze(state.cgroup_name);
  write_file_atomic(dir.paused_marker(), "", {.mode = 0600, .sync_file = false});
}

void OciRuntime::resume(const std::string& id) {
  const OciStateDir dir(options_.root, id);
  const OciState state = dir.load();
  const OciStatus status = observe_status(dir, state);
  if (status != OciStatus::paused) throw Error(std::string("container not paused: it is ") + to_string(status));
  engine_for(options_, state.cgroup_parent)->resource()->thaw(state.cgroup_name);
  std::error_code error;
  fs::remove(dir.paused_marker(), error);
}

json oci_features() {
  return {
      {"ociVersionMin", "1.0.0"},
      {"ociVersionMax", "1.1.0"},
      {"hooks", {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}},
      {"mountOptions", {"async",      "atime",         "bind",        "defaults", "dev",
                        "diratime",   "dirsync",       "exec",        "idmap",    "mand",
                        "noatime",    "nodev",         "nodiratime",  "noexec",   "nomand",
                        "norelatime", "nostrictatime", "nosuid",      "private",  "rbind",
                        "relatime",   "remount",       "ridmap",      "ro",       "rprivate",
                        "rshared",    "rslave",        "runbindable", "rw",       "shared",
                        "slave",      "strictatime",   "suid",        "sync",     "tmpcopyup",
                        "unbindable"}},
      {"linux",
       {{"namespaces", {"cgroup", "ipc", "mount", "network", "pid", "user", "uts"}},
        {"capabilities", capability_names(all_capabilities())},
        {"cgroup", {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}}},
        {"seccomp",
         {{"enabled", true},
          {"actions",
           {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
            "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"}},
          {"operators",
           {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ",
            "SCMP_CMP_NE"}},
          {"archs", {"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32"}},
          {"knownFlags",
           {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
            "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"}},
          {"supportedFlags",
           {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"}}}},
        {"apparmor", {{"enabled", false}}},
        {"selinux", {{"enabled", false}}}}}};
}

}  // namespace mcore::engine
