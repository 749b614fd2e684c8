// mcore run from a root filesystem: isolation, copy-on-write, volumes, hardening, limits, exit codes,
// signals and the terminal, all against the real kernel through the mcore binary.
#include <fcntl.h>
#include <poll.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "test_support.hpp"

namespace mcore::test {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kDockerDefaultCapEff = "00000000a80425fb";

std::string status_field(const std::string& status, const std::string& field) {
  std::istringstream lines(status);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with(field + ":")) {
      auto value = line.substr(field.size() + 1);
      return value.substr(value.find_first_not_of(" \t"));
    }
  }
  return "";
}

// A busybox rootfs of the test's own, with mcore-probe in /bin, for tests that change the rootfs.
class OwnRootfs {
 public:
  OwnRootfs() {
    make_busybox_rootfs(dir_.path() / "root");
    fs::copy_file(MCORE_PROBE_BINARY, path() / "bin/mcore-probe");
  }
  fs::path path() const { return dir_.path() / "root"; }

 private:
  TempDir dir_{"mcore-rootfs"};
};

class RunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    sandbox_ = std::make_unique<McoreSandbox>();
  }

  void TearDown() override {
    if (!sandbox_) return;
    // Nothing may outlive a container: no storage, no records but exited ones, no mounts.
    EXPECT_EQ(mounts_mentioning(sandbox_->data_root().string()), "") << "mounts left behind";
    sandbox_.reset();
  }

  static std::string mounts_mentioning(const std::string& text) {
    std::string found;
    std::istringstream lines(read_text("/proc/self/mountinfo"));
    std::string line;
    while (std::getline(lines, line)) {
      if (line.find(text) != std::string::npos) found += line + "\n";
    }
    return found;
  }

  const fs::path& rootfs() {
    static OwnRootfs shared;
    static fs::path path = shared.path();
    return path;
  }

  CommandResult run(std::vector<std::string> flags, const std::vector<std::string>& command,
                    const std::string& input = "") {
    std::vector<std::string> args{"run", "--rootfs", rootfs().string()};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), command.begin(), command.end());
    return sandbox_->mcore(args, input);
  }

  CommandResult sh(const std::string& script, std::vector<std::string> flags = {"--rm"}) {
    return run(std::move(flags), {"sh", "-c", script});
  }

  // Container directories left in the data root (records, storage).
  std::vector<std::string> leftover_state() const {
    std::vector<std::string> left;
    for (const auto* sub : {"containers", "storage/overlay/containers"}) {
      fs::path dir = sandbox_->data_root() / sub;
      std::error_code error;
      for (const auto& entry : fs::directory_iterator(dir, error)) {
        if (entry.path().filename() == ".creating") continue;  // the store's creation lock
        const bool index = entry.path().filename() == "names";
        if (!index || !fs::is_empty(entry.path())) left.push_back(entry.path());
      }
    }
    return left;
  }

  // Container cgroups left below the sandbox's parent, in any hierarchy.
  std::vector<std::string> leftover_cgroups() const {
    std::vector<std::string> left;
    std::error_code error;
    for (auto it = fs::recursive_directory_iterator("/sys/fs/cgroup", error);
         it != fs::recursive_directory_iterator(); it.increment(error)) {
      if (error) break;
      if (it.depth() > 6) {
        it.disable_recursion_pending();
        continue;
      }
      if (!it->is_directory(error)) continue;
      if (it->path().parent_path().filename() == sandbox_->cgroup_parent()) left.push_back(it->path());
    }
    return left;
  }

  void expect_nothing_left() {
    EXPECT_EQ(leftover_state(), std::vector<std::string>{});
    EXPECT_EQ(leftover_cgroups(), std::vector<std::string>{});
  }

  std::unique_ptr<McoreSandbox> sandbox_;
};

// --- Isolation ----------------------------------------------------------------------------------------

TEST_F(RunTest, CommandRunsAsPidOneWithItsOwnHostnameAndProcesses) {
  auto result = sh("echo pid=$$; hostname; ls /proc | grep -c '^[0-9]'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::istringstream lines(result.out);
  std::string pid, hostname, processes;
  std::getline(lines, pid);
  std::getline(lines, hostname);
  std::getline(lines, processes);
  EXPECT_EQ(pid, "pid=1");
  EXPECT_EQ(hostname.size(), 12u) << "default hostname is the short id, got " << hostname;
  // sh, ls and grep: no host process is visible.
  EXPECT_LE(std::stoi(processes), 3) << result.out;
  expect_nothing_left();
}

TEST_F(RunTest, HostnameFlagSetsHostnameAndEnvironment) {
  auto result = sh("hostname; echo $HOSTNAME", {"--rm", "--hostname", "web-1"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "web-1\nweb-1\n");
}

TEST_F(RunTest, HostMountsAreInvisibleAndStandardMountsPresent) {
  auto result = sh("cat /proc/mounts");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // Only the container's own mounts: the root, the standard file systems, Docker's masks and the three
  // files mcore bind-mounts as Docker does.
  const std::set<std::string> etc_files = {"/etc/hosts", "/etc/resolv.conf", "/etc/hostname"};
  std::istringstream lines(result.out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string source, target;
    fields >> source >> target;
    EXPECT_TRUE(target == "/" || target.starts_with("/proc") || target.starts_with("/dev") ||
                target.starts_with("/sys") || etc_files.count(target))
        << "host mount visible: " << line;
  }
  for (const auto& file : etc_files) {
    EXPECT_NE(result.out.find(" " + file + " "), std::string::npos) << "missing " << file << " in\n" << result.out;
  }
  for (const char* expected : {" /proc proc ", " /dev tmpfs ", " /dev/pts devpts ", " /dev/shm tmpfs ",
                               " /dev/mqueue mqueue ", " /sys sysfs ro,"}) {
    EXPECT_NE(result.out.find(expected), std::string::npos) << "missing " << expected << " in\n" << result.out;
  }
}

TEST_F(RunTest, DevHasTheStandardNodes) {
  auto result = sh("ls -l /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty | cut -c1; "
                   "readlink /dev/ptmx; echo hi > /dev/null && head -c 4 /dev/zero | wc -c");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "c\nc\nc\nc\nc\nc\npts/ptmx\n4\n");
}

TEST_F(RunTest, NetworkNoneHasOnlyLoopbackAndHostSharesTheHostsLinks) {
  auto none = sh("ls /sys/class/net");
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_EQ(none.out, "lo\n");
  auto host = sh("ls /sys/class/net | wc -l", {"--rm", "--network=host"});
  ASSERT_EQ(host.exit_code, 0) << host.err;
  auto host_links = run_command({"/bin/sh", "-c", "ls /sys/class/net | wc -l"});
  EXPECT_EQ(host.out, host_links.out);
}

// --- Copy-on-write and volumes ---------------------------------------------------------------------------

TEST_F(RunTest, WritesGoToTheContainerLayerNeverToTheRootfs) {
  OwnRootfs own;
  std::string before = read_text(own.path() / "etc/passwd");
  auto result = sandbox_->mcore({"run", "--rm", "--rootfs", own.path().string(), "sh", "-c",
                                 "echo changed >> /etc/passwd; rm /etc/group; echo new > /created; cat /created"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "new\n");
  EXPECT_EQ(read_text(own.path() / "etc/passwd"), before);
  EXPECT_TRUE(fs::exists(own.path() / "etc/group"));
  EXPECT_FALSE(fs::exists(own.path() / "created"));
  // A second container starts from the untouched rootfs.
  auto second = sandbox_->mcore({"run", "--rm", "--rootfs", own.path().string(), "sh", "-c",
                                 "test -e /created || echo clean; test -e /etc/group && echo group"});
  EXPECT_EQ(second.out, "clean\ngroup\n");
  expect_nothing_left();
}

TEST_F(RunTest, VolumesBindReadWriteAndReadOnly) {
  TempDir rw("mcore-vol"), ro("mcore-vol");
  std::ofstream(ro.path() / "seed") << "seed\n";
  auto result = sh("echo from-container > /data/out; cat /config/seed; echo x > /config/new || echo ro-refused",
                   {"--rm", "-v", rw.path().string() + ":/data", "-v", ro.path().string() + ":/config:ro"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("seed\n"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("ro-refused"), std::string::npos) << result.out;
  EXPECT_EQ(read_text(rw.path() / "out"), "from-container\n");
  EXPECT_FALSE(fs::exists(ro.path() / "new"));
}

TEST_F(RunTest, VolumeTargetThroughASymlinkStaysInsideTheRoot) {
  // /escape in the rootfs points at a host directory; the bind must land inside the container's root.
  OwnRootfs own;
  TempDir host_target("mcore-target"), source("mcore-vol");
  std::ofstream(source.path() / "marker") << "m";
  fs::create_symlink(host_target.path(), own.path() / "escape");
  auto result = sandbox_->mcore({"run", "--rm", "--rootfs", own.path().string(), "-v",
                                 source.path().string() + ":/escape/inside", "sh", "-c", "cat /escape/inside/marker"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "m");
  EXPECT_TRUE(fs::is_empty(host_target.path())) << "the bind or its mount point landed on the host";
  EXPECT_EQ(mounts_mentioning(host_target.path().string()), "");
}

TEST_F(RunTest, ReadOnlyRootWithTmpfs) {
  auto result = sh("touch /x 2>/dev/null || echo root-ro; touch /scratch/y && echo tmpfs-rw",
                   {"--rm", "--read-only", "--tmpfs", "/scratch:size=1m"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "root-ro\ntmpfs-rw\n");
}

TEST_F(RunTest, EnvironmentWorkdirAndUser) {
  TempDir dir("mcore-env");
  std::ofstream(dir.path() / "env") << "# comment\nFROM_FILE=yes\n\nOVERRIDE=file\n";
  auto result = sh("echo $FROM_FILE $OVERRIDE $FLAG; pwd; id -u; id -g; echo $PATH",
                   {"--rm", "--env-file", (dir.path() / "env").string(), "-e", "OVERRIDE=flag", "-e",
                    "FLAG=1", "-w", "/work/dir", "-u", "1000:1001"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "yes flag 1\n/work/dir\n1000\n1001\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n");
}

TEST_F(RunTest, UserNamesResolveInsideTheContainer) {
  auto nobody = sh("id -u; id -g; echo $HOME", {"--rm", "-u", "nobody"});
  ASSERT_EQ(nobody.exit_code, 0) << nobody.err;
  EXPECT_EQ(nobody.out, "65534\n65534\n/\n");
  auto root = sh("id -u; echo $HOME");
  EXPECT_EQ(root.out, "0\n/root\n");
  // A uid without a passwd entry runs with gid 0, as in Docker.
  auto numeric = sh("id -u; id -g", {"--rm", "-u", "4321"});
  EXPECT_EQ(numeric.out, "4321\n0\n");
  auto with_group = sh("id -g", {"--rm", "-u", "nobody:root"});
  EXPECT_EQ(with_group.out, "0\n");
  auto unknown = sh("true", {"--rm", "-u", "bob"});
  EXPECT_EQ(unknown.exit_code, 125);
  EXPECT_NE(unknown.err.find("unable to find user bob: no matching entries in passwd file"), std::string::npos)
      << unknown.err;
  auto unknown_group = sh("true", {"--rm", "-u", "nobody:wheel"});
  EXPECT_EQ(unknown_group.exit_code, 125);
  EXPECT_NE(unknown_group.err.find("unable to find group wheel"), std::string::npos) << unknown_group.err;
  expect_nothing_left();
}

// --- Hardening ------------------------------------------------------------------------------------------

TEST_F(RunTest, DefaultCapabilitiesSeccompAndMasks) {
  auto result = sh("grep -E '^(CapEff|CapBnd|CapInh|Seccomp|NoNewPrivs):' /proc/self/status; "
                   "mkdir -p /mnt; mount -t tmpfs none /mnt 2>/dev/null || echo mount-refused; "
                   "mcore-probe keyctl; cat /proc/kcore /proc/keys /proc/timer_list 2>/dev/null | wc -c; "
                   "echo 1 > /proc/sys/kernel/domainname 2>/dev/null || echo proc-sys-ro; "
                   "ls /sys/firmware | wc -l");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(status_field(result.out, "CapEff"), kDockerDefaultCapEff);
  EXPECT_EQ(status_field(result.out, "CapBnd"), kDockerDefaultCapEff);
  EXPECT_EQ(status_field(result.out, "CapInh"), "0000000000000000");
  EXPECT_EQ(status_field(result.out, "Seccomp"), "2");
  EXPECT_EQ(status_field(result.out, "NoNewPrivs"), "0");
  for (const char* expected : {"mount-refused\n", "keyctl: Operation not permitted\n", "\n0\n", "proc-sys-ro\n"}) {
    EXPECT_NE(result.out.find(expected), std::string::npos) << "missing " << expected << " in\n" << result.out;
  }
  EXPECT_TRUE(result.out.ends_with("\n0\n")) << "/sys/firmware must be masked:\n" << result.out;
}

TEST_F(RunTest, CapabilityFlagsNoNewPrivilegesAndUnconfined) {
  auto added = sh("grep CapEff /proc/self/status", {"--rm", "--cap-add", "NET_ADMIN", "--cap-drop", "chown"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  // Default minus CHOWN (bit 0) plus NET_ADMIN (bit 12).
  EXPECT_EQ(status_field(added.out, "CapEff"), "00000000a80435fa");

  auto hardened = sh("grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status",
                     {"--rm", "--security-opt", "no-new-privileges", "--security-opt", "seccomp=unconfined"});
  ASSERT_EQ(hardened.exit_code, 0) << hardened.err;
  EXPECT_EQ(status_field(hardened.out, "NoNewPrivs"), "1");
  EXPECT_EQ(status_field(hardened.out, "Seccomp"), "0");

  auto privileged = sh("grep CapEff /proc/self/status; mkdir -p /mnt; mount -t tmpfs none /mnt && echo mounted",
                       {"--rm", "--privileged"});
  ASSERT_EQ(privileged.exit_code, 0) << privileged.err;
  // Everything mcore itself holds (this test runs with the same capabilities).
  EXPECT_EQ(status_field(privileged.out, "CapEff"), status_field(read_text("/proc/self/status"), "CapEff"));
  EXPECT_NE(privileged.out.find("mounted"), std::string::npos);
}

TEST_F(RunTest, DevicesOutsideDockersDefaultsCannotBeOpened) {
  // CAP_MKNOD is in the default set, so only the device rules stop root from opening, say, a host disk.
  // Char 1:100 has no driver: allowed, open fails with ENXIO; denied by the rules, with EPERM first.
  const std::string script = "mknod /tmp/dev c 1 100 && head -c 1 /tmp/dev 2>&1; head -c 1 /dev/zero | wc -c";
  auto confined = sh(script);
  EXPECT_NE(confined.out.find("Operation not permitted"), std::string::npos) << confined.out << confined.err;
  EXPECT_TRUE(confined.out.ends_with("\n1\n")) << "/dev/zero must stay readable: " << confined.out;
  auto privileged = sh(script, {"--rm", "--privileged"});
  EXPECT_NE(privileged.out.find("No such device or address"), std::string::npos) << privileged.out << privileged.err;
  expect_nothing_left();
}

TEST_F(RunTest, SeccompProfileFromAFile) {
  TempDir dir("mcore-seccomp");
  nlohmann::json profile = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"syscalls", {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 13}}}}};
  std::ofstream(dir.path() / "profile.json") << profile.dump();
  auto result = sh("mkdir /tmp/x 2>&1; echo still-runs",
                   {"--rm", "--security-opt", "seccomp=" + (dir.path() / "profile.json").string()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("Permission denied"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("still-runs"), std::string::npos) << result.out;

  std::ofstream(dir.path() / "broken.json") << R"({"defaultAction": "SCMP_ACT_NOPE"})";
  auto broken = sh("true", {"--rm", "--security-opt", "seccomp=" + (dir.path() / "broken.json").string()});
  EXPECT_EQ(broken.exit_code, 125);
  EXPECT_NE(broken.err.find("SCMP_ACT_NOPE"), std::string::npos) << broken.err;
  expect_nothing_left();
}

// --- Exit codes -----------------------------------------------------------------------------------------

TEST_F(RunTest, ExitCodesFollowDocker) {
  EXPECT_EQ(sh("exit 7").exit_code, 7);
  auto missing = run({"--rm"}, {"no-such-command"});
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_NE(missing.err.find("executable file not found"), std::string::npos) << missing.err;
  auto not_executable = run({"--rm"}, {"/etc/passwd"});
  EXPECT_EQ(not_executable.exit_code, 126);
  EXPECT_NE(not_executable.err.find("Permission denied"), std::string::npos) << not_executable.err;
  expect_nothing_left();
}

// The record says running from the barrier on; a command that never ran leaves no start time and no
// cgroup in it (Docker's zero time in inspect), only the failure.
TEST_F(RunTest, ACommandThatNeverRanLeavesNoStartTimeInTheRecord) {
  auto missing = sandbox_->mcore({"run", "--name", "failed", "--rootfs", rootfs().string(), "no-such-command"});
  ASSERT_EQ(missing.exit_code, 127) << missing.err;
  auto state = [&](const std::string& name) {
    auto inspected = nlohmann::json::parse(sandbox_->mcore({"inspect", "--type", "container", name}).out, nullptr, false);
    return inspected.is_array() && !inspected.empty() ? inspected[0]["State"] : nlohmann::json::object();
  };
  EXPECT_EQ(state("failed").value("Status", ""), "exited");
  EXPECT_EQ(state("failed").value("ExitCode", -1), 127);
  EXPECT_EQ(state("failed").value("StartedAt", "?"), "0001-01-01T00:00:00Z");
  EXPECT_NE(state("failed").value("FinishedAt", "0001-01-01T00:00:00Z"), "0001-01-01T00:00:00Z");
  auto record = nlohmann::json::parse(
      read_text(sandbox_->data_root() / "containers" / fs::read_symlink(sandbox_->data_root() / "containers/names/failed") /
                "container.json"));
  EXPECT_EQ(record.value("cgroup", "?"), "") << record.dump();
  EXPECT_EQ(sandbox_->mcore({"rm", "failed"}).exit_code, 0);
}

TEST_F(RunTest, RecordKeepsExitCodeWithoutRm) {
  auto result = sandbox_->mcore({"run", "--name", "kept", "--rootfs", rootfs().string(), "sh", "-c", "exit 3"});
  ASSERT_EQ(result.exit_code, 3) << result.err;
  fs::path link = sandbox_->data_root() / "containers/names/kept";
  ASSERT_TRUE(fs::is_symlink(link));
  auto record = nlohmann::json::parse(read_text(sandbox_->data_root() / "containers" / fs::read_symlink(link) / "container.json"));
  EXPECT_EQ(record["name"], "kept");
  EXPECT_EQ(record["state"], "exited");
  EXPECT_EQ(record["exit_code"], 3);
  // The name stays taken while the record exists.
  auto again = sandbox_->mcore({"run", "--name", "kept", "--rootfs", rootfs().string(), "true"});
  EXPECT_EQ(again.exit_code, 125);
  EXPECT_NE(again.err.find("already in use"), std::string::npos) << again.err;
  EXPECT_EQ(leftover_cgroups(), std::vector<std::string>{});
}

// Starts mcore with stdout on a pipe; returns the pid and the read end.
struct Started {
  pid_t pid;
  int out;
};

Started start_mcore(const std::vector<std::string>& argv) {
  int pipe_fds[2];
  EXPECT_EQ(::pipe(pipe_fds), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipe_fds[1], 1);
    ::close(pipe_fds[0]);
    std::vector<char*> c_argv;
    for (const auto& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
    c_argv.push_back(nullptr);
    ::setpgid(0, 0);
    ::execv(c_argv[0], c_argv.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  return {pid, pipe_fds[0]};
}

std::string read_until(int fd, const std::string& marker, std::chrono::seconds timeout = 20s) {
  std::string seen;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (seen.find(marker) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd wait{fd, POLLIN, 0};
    if (::poll(&wait, 1, 200) <= 0) continue;
    char buffer[4096];
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    seen.append(buffer, static_cast<std::size_t>(n));
  }
  return seen;
}

int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST_F(RunTest, SignalsAreForwardedToTheContainer) {
  auto started = start_mcore(sandbox_->mcore_argv(
      {"run", "--rm", "--rootfs", rootfs().string(), "sh", "-c",
       "trap 'echo got-term; exit 3' TERM; echo ready; while :; do sleep 0.1; done"}));
  std::string out = read_until(started.out, "ready\n");
  ASSERT_NE(out.find("ready"), std::string::npos) << out;
  ::kill(started.pid, SIGTERM);
  out += read_until(started.out, "got-term");
  EXPECT_EQ(wait_exit(started.pid), 3);
  EXPECT_NE(out.find("got-term"), std::string::npos) << out;
  ::close(started.out);
  expect_nothing_left();
}

TEST_F(RunTest, KilledBySignalExitsWith128PlusSignal) {
  auto started = start_mcore(sandbox_->mcore_argv(
      {"run", "--name", "victim", "--rootfs", rootfs().string(), "sh", "-c", "echo ready; sleep 60"}));
  ASSERT_NE(read_until(started.out, "ready\n").find("ready"), std::string::npos);
  fs::path link = sandbox_->data_root() / "containers/names/victim";
  fs::path file = sandbox_->data_root() / "containers" / fs::read_symlink(link) / "container.json";
  // The command may print before mcore has recorded it as running.
  nlohmann::json record;
  for (int attempt = 0; attempt < 100; ++attempt, std::this_thread::sleep_for(20ms)) {
    record = nlohmann::json::parse(read_text(file));
    if (record["state"] == "running") break;
  }
  ASSERT_EQ(record["state"], "running");
  pid_t container_pid = record["pid"];
  ASSERT_GT(container_pid, 0);
  ::kill(container_pid, SIGKILL);
  EXPECT_EQ(wait_exit(started.pid), 137);
  ::close(started.out);
}

// --- Resource limits ------------------------------------------------------------------------------------

TEST_F(RunTest, AllocationPastMemoryLimitIsOomKilled) {
  auto result = sandbox_->mcore({"run", "--name", "hog", "--memory", "32m", "--memory-swap", "32m", "--rootfs",
                                 rootfs().string(), "mcore-probe", "alloc", "256"});
  EXPECT_EQ(result.exit_code, 137) << result.out << result.err;
  fs::path link = sandbox_->data_root() / "containers/names/hog";
  auto record = nlohmann::json::parse(read_text(sandbox_->data_root() / "containers" / fs::read_symlink(link) / "container.json"));
  EXPECT_EQ(record["oom_killed"], true);
  EXPECT_EQ(leftover_cgroups(), std::vector<std::string>{});
}

TEST_F(RunTest, ForkLoopStopsAtPidsLimit) {
  auto result = run({"--rm", "--pids-limit", "8"}, {"mcore-probe", "forks", "50"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // The probe itself is one of the 8.
  EXPECT_EQ(result.out, "forked 7\n");
}

// Polls a knob of the running container's cgroup from the host while the container sleeps, until it
// reads `expected` or 20 s pass; returns what it read last. Polling because the group exists a moment
// before mcore writes its limits. Looks only below the sandbox's parent: walking all of /sys/fs/cgroup
// is slow in the emulated v2 VM.
std::string container_knob(const McoreSandbox& sandbox, const std::string& knob, const std::string& expected) {
  std::error_code error;
  std::string seen = "not found";
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    for (const auto& parent : cgroup_parent_dirs(sandbox.cgroup_parent())) {
      for (const auto& group : fs::directory_iterator(parent, error)) {
        if (fs::exists(group.path() / knob, error)) seen = read_text(group.path() / knob);
        if (seen == expected) return seen;
      }
    }
    std::this_thread::sleep_for(20ms);
  }
  return seen;
}

TEST_F(RunTest, CpuLimitsAreWrittenToTheCgroup) {
  bool v2 = !fs::exists("/sys/fs/cgroup/cpu");
  std::thread container([&] {
    run({"--rm", "--cpus", "0.5", "--cpuset-cpus", "0", "--cpu-shares", "512"}, {"sleep", "5"});
  });
  if (v2) {
    EXPECT_EQ(container_knob(*sandbox_, "cpu.max", "50000 100000\n"), "50000 100000\n");
    EXPECT_EQ(container_knob(*sandbox_, "cpuset.cpus", "0\n"), "0\n");
    EXPECT_EQ(container_knob(*sandbox_, "cpu.weight", "20\n"), "20\n");
  } else {
    EXPECT_EQ(container_knob(*sandbox_, "cpu.cfs_quota_us", "50000\n"), "50000\n");
    EXPECT_EQ(container_knob(*sandbox_, "cpuset.cpus", "0\n"), "0\n");
    EXPECT_EQ(container_knob(*sandbox_, "cpu.shares", "512\n"), "512\n");
  }
  container.join();
  expect_nothing_left();
}

// --- Namespaces as Docker sets them up (issue 14, item 10) -------------------------------------------------

TEST_F(RunTest, NetworkNoneHasAWorkingLoopback) {
  auto result = sh("ip -o link show lo; ping -c 1 -W 2 127.0.0.1 >/dev/null && echo answered", {"--rm", "--network", "none"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find(",UP"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("answered"), std::string::npos) << result.out << result.err;
}

TEST_F(RunTest, NetworkHostHasTheHostsName) {
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof host - 1), 0);
  EXPECT_EQ(sh("hostname", {"--rm", "--network", "host"}).out, std::string(host) + "\n");
  EXPECT_EQ(sh("hostname", {"--rm", "--network", "host", "--hostname", "mine"}).out, "mine\n");
}

TEST_F(RunTest, PrivilegedSeesTheHostsDevices) {
  // A device of the host's that no plain container gets.
  std::string device;
  for (const auto& entry : fs::directory_iterator("/dev")) {
    if (entry.is_block_file()) {
      device = entry.path().filename();
      break;
    }
  }
  if (device.empty()) GTEST_SKIP() << "the host has no block device in /dev";
  EXPECT_EQ(sh("test -b /dev/" + device + " && echo present", {"--rm", "--privileged"}).out, "present\n");
  EXPECT_EQ(sh("test -e /dev/" + device + " || echo absent").out, "absent\n");
}

TEST_F(RunTest, SysFsCgroupShowsTheContainersOwnLimitsReadOnly) {
  const bool v2 = !fs::exists("/sys/fs/cgroup/memory");
  const std::string knob = v2 ? "/sys/fs/cgroup/memory.max" : "/sys/fs/cgroup/memory/memory.limit_in_bytes";
  auto result = sh("cat " + knob + "; echo 1 > " + knob + " || echo refused; touch /sys/fs/cgroup/x || echo read-only",
                   {"--rm", "--memory", "64m"});
  EXPECT_EQ(result.out, "67108864\nrefused\nread-only\n") << result.err;
  // A privileged container may arrange its own groups below (systemd inside does). Its own limits stay
  // out of reach on cgroup v2 all the same: the kernel refuses writes at a namespace's root (nsdelegate).
  const std::string group = v2 ? "/sys/fs/cgroup/inner" : "/sys/fs/cgroup/memory/inner";
  auto privileged = sh("mkdir " + group + " && test -e " + group + "/cgroup.procs && rmdir " + group + " && echo made",
                       {"--rm", "--memory", "64m", "--privileged"});
  EXPECT_EQ(privileged.out, "made\n") << privileged.err;
}

// --- The start path's cost ------------------------------------------------------------------------------

// libseccomp (once the program is cached), zlib, libzstd and libcrypto are opened on first use: a
// container start maps none of them.
TEST_F(RunTest, ARunLoadsNoLibraryItDoesNotUse) {
  ASSERT_EQ(sh("true").exit_code, 0);  // compiles and caches the seccomp program
  const auto traced = run_command(sandbox_->mcore_argv({"run", "--rm", "--rootfs", rootfs().string(), "true"}), "",
                                  {{"LD_DEBUG", "files"}});
  EXPECT_EQ(traced.exit_code, 0) << traced.err;
  ASSERT_NE(traced.err.find("file=libstdc++"), std::string::npos) << "no loader trace: " << traced.err;
  for (const char* library : {"libseccomp", "libz.so", "libzstd", "libcrypto"}) {
    EXPECT_EQ(traced.err.find(library), std::string::npos) << library << " was loaded:\n" << traced.err;
  }
}

// --- Terminal -------------------------------------------------------------------------------------------

TEST_F(RunTest, TerminalIsARealPtyWithWindowSizeAndResize) {
  int master = -1;
  winsize size{};
  size.ws_row = 40;
  size.ws_col = 100;
  auto argv = sandbox_->mcore_argv({"run", "--rm", "-it", "--rootfs", rootfs().string(), "sh"});
  pid_t pid = spawn_on_terminal(argv, master, &size);
  ASSERT_GE(pid, 0);
  auto say = [&](const std::string& line) { ASSERT_EQ(::write(master, line.data(), line.size()), static_cast<ssize_t>(line.size())); };
  say("tty; stty size; echo $((6*7))\r");
  std::string out = read_until(master, "42");
  EXPECT_NE(out.find("/dev/pts/0"), std::string::npos) << out;
  EXPECT_NE(out.find("40 100"), std::string::npos) << out;
  size.ws_row = 50;
  size.ws_col = 120;
  ::ioctl(master, TIOCSWINSZ, &size);
  std::this_thread::sleep_for(300ms);
  say("stty size; exit 5\r");
  out = read_until(master, "50 120");
  EXPECT_NE(out.find("50 120"), std::string::npos) << out;
  EXPECT_EQ(wait_exit(pid), 5);
  ::close(master);
}

// --- Bad input ------------------------------------------------------------------------------------------

TEST_F(RunTest, BadInputIsRefusedWithOneClearLineAndLeavesNothing) {
  struct Case {
    std::vector<std::string> args;
    std::string expected;
  };
  TempDir empty("mcore-empty");
  std::vector<Case> cases = {
      {{"run", "--rm", "--rootfs", "/nonexistent/rootfs", "true"}, "rootfs /nonexistent/rootfs"},
      {{"run", "--rm", "--memory", "12xb", "--rootfs", rootfs().string(), "true"}, "invalid size \"12xb\""},
      {{"run", "--rm", "-v", "/nonexistent/src:/data", "--rootfs", rootfs().string(), "true"},
       "volume source /nonexistent/src does not exist"},
      {{"run", "--rm", "--cpuset-cpus", "99", "--rootfs", rootfs().string(), "true"}, "99"},
      {{"run", "--rm", "--cap-add", "NOT_A_CAP", "--rootfs", rootfs().string(), "true"}, "NOT_A_CAP"},
  };
  for (const auto& c : cases) {
    auto result = sandbox_->mcore(c.args);
    EXPECT_EQ(result.exit_code, 125) << c.expected << ": " << result.err;
    EXPECT_NE(result.err.find(c.expected), std::string::npos) << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  }
  expect_nothing_left();
}

TEST_F(RunTest, BadConfigurationIsRefused) {
  sandbox_->write_config({{"no_such_key", 1}});
  auto unknown = sandbox_->mcore({"run", "--rm", "--rootfs", rootfs().string(), "true"});
  EXPECT_EQ(unknown.exit_code, 125);
  EXPECT_NE(unknown.err.find("no_such_key"), std::string::npos) << unknown.err;

  sandbox_->write_config({{"no_such_key", nullptr}, {"drivers", {{"storage", "missing"}}}});
  auto missing = sandbox_->mcore({"run", "--rm", "--rootfs", rootfs().string(), "true"});
  EXPECT_EQ(missing.exit_code, 125);
  EXPECT_NE(missing.err.find("mcore-storage-missing.so"), std::string::npos) << missing.err;

  sandbox_->write_config({{"drivers", nullptr}, {"plugin_paths", {{"storage", "/etc/passwd"}}}});
  auto incompatible = sandbox_->mcore({"run", "--rm", "--rootfs", rootfs().string(), "true"});
  EXPECT_EQ(incompatible.exit_code, 125);
  EXPECT_NE(incompatible.err.find("/etc/passwd"), std::string::npos) << incompatible.err;
  expect_nothing_left();
}

}  // namespace
}  // namespace mcore::test
