#include "test_support.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>

#include "mcore/error.hpp"

extern char** environ;

namespace mcore::test {
namespace fs = std::filesystem;

bool running_as_root() { return ::geteuid() == 0; }

namespace {

std::string random_suffix() {
  std::random_device device;
  std::uniform_int_distribution<unsigned> digit(0, 35);
  std::string out;
  for (int i = 0; i < 8; ++i) out += "0123456789abcdefghijklmnopqrstuvwxyz"[digit(device)];
  return out;
}

// Detaches every mount at or below `root` (deepest first) so removal never crosses into a mount.
void detach_mounts_below(const fs::path& root) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::vector<std::string> targets;
  std::string line;
  const std::string prefix = root.string();
  while (std::getline(mountinfo, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, source_root, target;
    fields >> id >> parent >> devno >> source_root >> target;
    if (target == prefix || target.starts_with(prefix + "/")) targets.push_back(target);
  }
  for (auto it = targets.rbegin(); it != targets.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

TempDir::TempDir(const std::string& prefix) {
  std::string pattern = "/var/tmp/" + prefix + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp " + pattern + " failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  detach_mounts_below(path_);
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  try {
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  } catch (const std::exception&) {
    return {};  // a /proc file whose process exited while it was read (ESRCH): gone, so empty
  }
}

pid_t parent_pid(pid_t pid) {
  const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty()) return 0;
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  char state;
  pid_t parent = 0;
  fields >> state >> parent;
  return parent;
}

pid_t spawn_on_terminal(const std::vector<std::string>& argv, int& master, const winsize* size) {
  const pid_t pid = ::forkpty(&master, nullptr, nullptr, size);
  if (pid == 0) {
    std::vector<char*> c_argv;
    for (const auto& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
    c_argv.push_back(nullptr);
    ::execv(c_argv[0], c_argv.data());
    ::_exit(127);
  }
  return pid;
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected an mcore::Error";
  return "";
}

std::string incompressible_bytes(std::size_t size) {
  std::string bytes(size, '\0');
  std::uint32_t state = 2463534242u;  // xorshift32
  for (auto& c : bytes) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    c = static_cast<char>(state);
  }
  return bytes;
}

CommandResult run_command(const std::vector<std::string>& argv, const std::string& input,
                          const std::map<std::string, std::string>& extra_env) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0 ||
      ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    if (!extra_env.contains(entry.substr(0, entry.find('=')))) env_strings.push_back(entry);
  }
  for (const auto& [key, value] : extra_env) env_strings.push_back(key + "=" + value);
  std::vector<char*> c_argv, c_env;
  for (const auto& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  for (auto& e : env_strings) c_env.push_back(e.data());
  c_env.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in_pipe[0], 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    ::execve(c_argv[0], c_argv.data(), c_env.data());
    ::_exit(127);
  }
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  // Feed stdin and drain both outputs together so neither side blocks on a full pipe.
  CommandResult result;
  std::size_t written = 0;
  int in_fd = in_pipe[1];
  if (input.empty()) {
    ::close(in_fd);
    in_fd = -1;
  } else {
    ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
  }
  int out_fd = out_pipe[0], err_fd = err_pipe[0];
  while (out_fd >= 0 || err_fd >= 0) {
    std::array<pollfd, 3> fds{pollfd{out_fd, POLLIN, 0}, pollfd{err_fd, POLLIN, 0}, pollfd{in_fd, POLLOUT, 0}};
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    char buffer[4096];
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        (i == 0 ? result.out : result.err).append(buffer, static_cast<std::size_t>(n));
      } else {
        ::close(fds[i].fd);
        (i == 0 ? out_fd : err_fd) = -1;
      }
    }
    if (in_fd >= 0 && fds[2].revents != 0) {
      ssize_t n = ::write(in_fd, input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<std::size_t>(n);
      if (n < 0 || written == input.size()) {
        ::close(in_fd);
        in_fd = -1;
      }
    }
  }
  if (in_fd >= 0) ::close(in_fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

SubordinateIds::SubordinateIds(const std::string& line)
    : uid_text_(read_text("/etc/subuid")), gid_text_(read_text("/etc/subgid")) {
  std::ofstream("/etc/subuid", std::ios::app) << line << "\n";
  std::ofstream("/etc/subgid", std::ios::app) << line << "\n";
}

SubordinateIds::~SubordinateIds() {
  std::ofstream("/etc/subuid", std::ios::trunc) << uid_text_;
  std::ofstream("/etc/subgid", std::ios::trunc) << gid_text_;
}

void make_busybox_rootfs(const fs::path& dir) {
  const fs::path busybox = "/bin/busybox";
  if (!fs::exists(busybox)) throw std::runtime_error("/bin/busybox missing: apt-get install busybox-static");
  for (const char* sub : {"bin", "etc", "proc", "sys", "dev", "tmp", "root"}) fs::create_directories(dir / sub);
  fs::permissions(dir / "tmp", fs::perms::all | fs::perms::sticky_bit);
  fs::copy_file(busybox, dir / "bin/busybox", fs::copy_options::overwrite_existing);
  auto applets = run_command({busybox.string(), "--list"});
  std::istringstream names(applets.out);
  std::string name;
  while (std::getline(names, name)) {
    if (name.empty() || name == "busybox") continue;
    std::error_code ignored;
    fs::create_symlink("busybox", dir / "bin" / name, ignored);
  }
  write_text(dir / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n");
  write_text(dir / "etc/group", "root:x:0:\nnogroup:x:65534:\n");
}

const fs::path& shared_busybox_rootfs() {
  static TempDir dir("mcore-rootfs");
  static std::once_flag built;
  std::call_once(built, [] { make_busybox_rootfs(dir.path()); });
  return dir.path();
}

const fs::path& shared_probe_rootfs() {
  static TempDir dir("mcore-probe-rootfs");
  static std::once_flag built;
  std::call_once(built, [] {
    make_busybox_rootfs(dir.path());
    fs::copy_file(MCORE_PROBE_BINARY, dir.path() / "bin/mcore-probe");
  });
  return dir.path();
}

McoreSandbox::McoreSandbox(nlohmann::json extra_config)
    : dir_("mcore-sandbox"),
      suffix_(random_suffix()),
      cgroup_parent_("mcore-test-" + suffix_),
      bridge_("mct" + suffix_),
      table_("mcore_test_" + suffix_),
      config_file_(dir_.path() / "config.json") {
  fs::create_directories(data_root());
  fs::create_directories(state_root());
  write_config(extra_config);
}

McoreSandbox::~McoreSandbox() {
  // Detached containers outlive the commands that started them: end them (and their supervisors)
  // before the roots they live in go away.
  if (fs::exists(data_root() / "containers")) mcore({"rm", "--all", "--force"});
  for (const auto& bridge : network_bridges()) {
    if (fs::exists("/sys/class/net/" + bridge)) run_command({"/usr/sbin/ip", "link", "delete", bridge});
  }
  if (run_command({"/usr/sbin/nft", "list", "table", "ip", table_}).exit_code == 0) {
    run_command({"/usr/sbin/nft", "delete", "table", "ip", table_});
  }
  remove_cgroup_tree(cgroup_parent_);
}

std::vector<pid_t> McoreSandbox::processes_named(const std::string& program) const {
  std::vector<pid_t> found;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator("/proc", error)) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string cmdline = read_text(entry.path() / "cmdline");
    const std::string argv0 = cmdline.substr(0, cmdline.find('\0'));
    if (fs::path(argv0).filename() == program && cmdline.find(config_file_.string()) != std::string::npos) {
      found.push_back(std::stoi(name));
    }
  }
  return found;
}

std::vector<pid_t> McoreSandbox::supervisor_processes() const {
  std::vector<pid_t> found = processes_named("mcore-supervisor");
  for (pid_t pid : processes_named("mcore-exit-handler")) found.push_back(pid);
  return found;
}

std::vector<std::string> McoreSandbox::network_bridges() const {
  std::vector<std::string> bridges;
  auto networks = nlohmann::json::parse(read_text(data_root() / "network" / "bridge" / "networks.json"), nullptr, false);
  if (!networks.is_array()) return bridges;
  for (const auto& network : networks) bridges.push_back(network.value("bridge", ""));
  return bridges;
}

fs::path McoreSandbox::data_root() const { return dir_.path() / "data"; }
fs::path McoreSandbox::state_root() const { return dir_.path() / "state"; }

void McoreSandbox::write_config(const nlohmann::json& extra) {
  nlohmann::json config = {
      {"data_root", data_root().string()},
      {"state_root", state_root().string()},
      {"plugin_dirs", {MCORE_PLUGIN_BUILD_DIR}},
      {"resource", {{"cgroup_parent", cgroup_parent_}}},
      {"default_network", "none"},
      {"network", {{"bridge", bridge_}, {"table", table_}, {"ip_forward", false}}},
  };
  config.merge_patch(extra);
  write_text(config_file_, config.dump(2));
}

std::vector<std::string> McoreSandbox::mcore_argv(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{MCORE_BINARY, "--config", config_file_.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

CommandResult McoreSandbox::mcore(const std::vector<std::string>& args, const std::string& input) const {
  return run_command(mcore_argv(args), input);
}

namespace {

// Removes a cgroup directory and everything below it, children first; processes still inside are killed.
void remove_cgroup_dir(const fs::path& dir) {
  std::error_code error;
  if (!fs::is_directory(dir, error)) return;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    if (entry.is_directory(error)) remove_cgroup_dir(entry.path());
  }
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
    if (errno != EBUSY) return;
    std::ifstream procs(dir / "cgroup.procs");
    pid_t pid;
    while (procs >> pid) ::kill(pid, SIGKILL);
    ::usleep(10000);
  }
}

}  // namespace

std::vector<std::filesystem::path> cgroup_parent_dirs(const std::string& relative_parent) {
  std::vector<fs::path> dirs;
  std::ifstream self("/proc/self/cgroup");
  std::string line;
  while (std::getline(self, line)) {
    // hierarchy-id:controllers:path
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string own = line.substr(second + 1);
    std::vector<fs::path> mounts;
    if (controllers.empty()) {
      mounts = {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"};
    } else {
      std::string name = controllers.starts_with("name=") ? controllers.substr(5) : controllers;
      mounts = {fs::path("/sys/fs/cgroup") / name};
      // Co-mounted controllers ("cpu,cpuacct") also appear under each single name as a symlink.
      std::istringstream parts(controllers);
      std::string part;
      while (std::getline(parts, part, ',')) mounts.push_back(fs::path("/sys/fs/cgroup") / part);
    }
    for (const auto& mount : mounts) dirs.push_back(mount / fs::path(own).relative_path() / relative_parent);
  }
  return dirs;
}

void remove_cgroup_tree(const std::string& relative_parent) {
  for (const auto& dir : cgroup_parent_dirs(relative_parent)) remove_cgroup_dir(dir);
}

}  // namespace mcore::test
