// mcore-oci on real bundles: runc's verbs, the exec FIFO model (the init waits for start and belongs to
// the caller, not to mcore), config.json's fields in the container, and bad input that leaves nothing
// behind (no process, group, state directory or pid file).
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "oci_bundle_fixture.hpp"

namespace mcore::test {
namespace {

class OciRuntimeTest : public OciBundleTest {};

TEST_F(OciRuntimeTest, CreateLeavesTheInitWaitingWithTheCallerAsItsParentAndStartRunsTheCommand) {
  const fs::path marker = work_.path() / "shared";
  fs::create_directories(marker);
  config_["mounts"].push_back({{"destination", "/shared"}, {"type", "bind"}, {"source", marker.string()},
                               {"options", {"rbind", "rw"}}});
  config_["process"]["args"] = {"sh", "-c", "echo started > /shared/ran; exec sleep 30"};
  config_["annotations"] = {{"org.example.key", "value"}};
  write_config();
  const fs::path pid_file = work_.path() / "init.pid";

  const auto created = oci_to_files({"create", "--bundle", bundle_.string(), "--pid-file", pid_file.string(), "c1"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string pid_text = read_text(pid_file);
  ASSERT_FALSE(pid_text.empty());
  EXPECT_EQ(pid_text.find_first_not_of("0123456789"), std::string::npos) << "digits only: \"" << pid_text << "\"";
  const pid_t pid = std::stoi(pid_text);
  // mcore-oci is gone: the init is ours, as it would be the shim's.
  EXPECT_EQ(parent_pid(pid), ::getpid());

  json created_state = state("c1");
  EXPECT_EQ(created_state["status"], "created");
  EXPECT_EQ(created_state["pid"], pid);
  EXPECT_EQ(created_state["id"], "c1");
  EXPECT_EQ(created_state["bundle"], bundle_.string());
  EXPECT_EQ(created_state["annotations"]["org.example.key"], "value");
  EXPECT_TRUE(created_state.contains("ociVersion"));
  EXPECT_FALSE(fs::exists(marker / "ran")) << "the command ran before start";
  // The init is already in its group.
  bool in_group = false;
  for (const auto& dir : cgroup_parent_dirs(cgroups_path("c1"))) {
    in_group = in_group || read_text(dir / "cgroup.procs").find(std::to_string(pid)) != std::string::npos;
  }
  EXPECT_TRUE(in_group);

  const auto started = oci({"start", "c1"});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  // The shell creates the file before it writes into it: wait for the whole line.
  for (int i = 0; i < 300 && read_text(marker / "ran") != "started\n"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(read_text(marker / "ran"), "started\n");
  EXPECT_EQ(state("c1")["status"], "running");

  const auto again = oci({"start", "c1"});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("running"), std::string::npos) << again.err;

  const auto refused = oci({"delete", "c1"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("not stopped"), std::string::npos) << refused.err;

  ASSERT_EQ(oci({"kill", "c1", "KILL"}).exit_code, 0);
  wait_until_gone(pid);
  EXPECT_EQ(state("c1")["status"], "stopped");
  const auto killed_again = oci({"kill", "c1"});
  EXPECT_NE(killed_again.err.find("container not running"), std::string::npos) << killed_again.err;
  ASSERT_EQ(oci({"delete", "c1"}).exit_code, 0);
  expect_nothing_left("c1");
  const auto gone = oci({"state", "c1"});
  EXPECT_NE(gone.exit_code, 0);
  EXPECT_NE(gone.err.find("does not exist"), std::string::npos) << gone.err;
}

TEST_F(OciRuntimeTest, RunHonoursTheProcessFieldsAndReturnsTheExitCode) {
  config_["hostname"] = "oci-host";
  config_["domainname"] = "example.org";
  config_["process"]["args"] = {"sh", "-c",
                                "id -u; id -g; id -G; umask; hostname; cat /proc/sys/kernel/domainname; pwd; ulimit -n; exit 7"};
  config_["process"]["user"] = {{"uid", 1000}, {"gid", 1001}, {"additionalGids", {20, 30}}, {"umask", 63}};
  config_["process"]["cwd"] = "/work/dir";
  config_["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", 200}, {"hard", 300}}};
  write_config();
  const auto result = oci_to_files({"run", "--bundle", bundle_.string(), "c1"});
  EXPECT_EQ(result.exit_code, 7) << result.err;
  EXPECT_EQ(result.out, "1000\n1001\n1001 20 30\n0077\noci-host\nexample.org\n/work/dir\n200\n");
  expect_nothing_left("c1");
}

TEST_F(OciRuntimeTest, MountsMasksAndAReadOnlyRootApply) {
  const fs::path data = work_.path() / "data";
  fs::create_directories(data);
  std::ofstream(data / "file") << "host data\n";
  config_["mounts"].push_back({{"destination", "/data"}, {"type", "bind"}, {"source", data.string()},
                               {"options", {"bind", "ro", "nosuid", "nodev"}}});
  config_["mounts"].push_back({{"destination", "/scratch"}, {"type", "tmpfs"}, {"source", "tmpfs"},
                               {"options", {"nosuid", "noexec", "size=1m", "mode=700"}}});
  config_["process"]["args"] = {
      "sh", "-c",
      "cat /data/file; touch /data/x 2>/dev/null && echo data-writable; touch /x 2>/dev/null && echo root-writable;"
      "touch /scratch/y && echo scratch-writable; stat -c %a /scratch; wc -c < /proc/timer_list;"
      "echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo proc-sys-writable; grep -E ' /(data|scratch) ' /proc/mounts | cut -d' ' -f2,4"};
  write_config();
  const auto result = oci_to_files({"run", "--bundle", bundle_.string(), "c1"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("host data\n"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("data-writable"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("root-writable"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("scratch-writable\n700\n0\n"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("proc-sys-writable"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("/data ro,nosuid,nodev"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("/scratch rw,nosuid,noexec"), std::string::npos) << result.out;
  EXPECT_FALSE(fs::exists(data / "x"));
}

// A bundle whose rootfs its caller has given to the mapped ids, as Podman and containerd do for a user
// namespace. The bundle's directory is 0700: the container's root (uid 100000 on the host) could not
// walk it, so the root and the bind below must come from mcore-oci.
TEST_F(OciRuntimeTest, AUserNamespaceMapsTheContainersIds) {
  const fs::path rootfs = work_.path() / "rootfs";
  ASSERT_EQ(run_command({"/bin/chown", "-R", "100000:100000", rootfs.string()}).exit_code, 0);
  fs::permissions(work_.path(), fs::perms::owner_all);
  const fs::path data = work_.path() / "data";
  fs::create_directories(data);
  std::ofstream(data / "file") << "host data\n";
  config_["root"]["readonly"] = false;
  config_["linux"]["namespaces"].push_back({{"type", "user"}});
  config_["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  config_["linux"]["gidMappings"] = config_["linux"]["uidMappings"];
  config_["mounts"].push_back(
      {{"destination", "/data"}, {"type", "bind"}, {"source", data.string()}, {"options", {"rbind", "rw"}}});
  config_["mounts"].push_back({{"destination", "/mapped"},
                               {"type", "bind"},
                               {"source", data.string()},
                               {"options", {"rbind", "rw", "idmap"}}});
  config_["process"]["args"] = {
      "sh", "-c",
      "id -u; cat /proc/self/uid_map; stat -c %u /bin/busybox /data/file; cat /data/file; "
      "touch /data/x 2>/dev/null || echo data-refused; head -c 1 /dev/zero | wc -c; "
      "stat -c %u /mapped/file; touch /mapped/by-root && echo mapped-wrote; touch /made; "
      "exec sleep 30"};
  write_config();
  ASSERT_EQ(oci_to_files({"create", "--bundle", bundle_.string(), "c1"}).exit_code, 0)
      << read_text(work_.path() / "err");
  ASSERT_EQ(oci({"start", "c1"}).exit_code, 0);
  std::string out;
  for (int i = 0; i < 300 && !fs::exists(rootfs / "made"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  out = read_text(work_.path() / "out");
  EXPECT_TRUE(out.starts_with("0\n")) << out;
  EXPECT_NE(out.find("100000"), std::string::npos) << "the map as the kernel shows it: " << out;
  EXPECT_NE(out.find("\n0\n65534\nhost data\n"), std::string::npos)
      << "the rootfs is the container root's; a host root file is nobody's: " << out;
  EXPECT_NE(out.find("data-refused\n1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\n0\nmapped-wrote"), std::string::npos)
      << "through the idmapped bind, host root's file is its root's: " << out;
  struct stat by_root {};
  ASSERT_EQ(::stat((data / "by-root").c_str(), &by_root), 0);
  EXPECT_EQ(by_root.st_uid, 0u) << "and what its root writes there is host root's";
  struct stat made {};
  ASSERT_EQ(::stat((rootfs / "made").c_str(), &made), 0);
  EXPECT_EQ(made.st_uid, 100000u);
  EXPECT_FALSE(fs::exists(data / "x"));

  const auto exec = oci({"exec", "c1", "sh", "-c", "id -u; cat /proc/self/uid_map"});
  EXPECT_EQ(exec.exit_code, 0) << exec.err;
  EXPECT_TRUE(exec.out.starts_with("0\n")) << exec.out;
  EXPECT_NE(exec.out.find("100000"), std::string::npos) << "exec joins the user namespace: " << exec.out;
  ASSERT_EQ(oci({"delete", "--force", "c1"}).exit_code, 0);
  expect_nothing_left("c1");
}

// A failure after the clone (a bind source that is gone) kills the half-made container: no process,
// group or state is left, and the error names the source.
TEST_F(OciRuntimeTest, AUserNamespaceContainerThatCannotBeMadeLeavesNothing) {
  config_["linux"]["namespaces"].push_back({{"type", "user"}});
  config_["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  config_["linux"]["gidMappings"] = config_["linux"]["uidMappings"];
  const fs::path gone = work_.path() / "gone";
  config_["mounts"].push_back(
      {{"destination", "/data"}, {"type", "bind"}, {"source", gone.string()}, {"options", {"rbind"}}});
  write_config();
  const auto created = oci_to_files({"create", "--bundle", bundle_.string(), "c1"});
  EXPECT_NE(created.exit_code, 0);
  EXPECT_NE(created.err.find(gone.string()), std::string::npos) << created.err;
  expect_nothing_left("c1");
}

TEST_F(OciRuntimeTest, ANetworkNamespaceGivenByPathIsJoinedAndOneOfAnotherTypeIsRefused) {
  // A network namespace held by a process of ours, as containerd's CRI holds a pod's.
  const pid_t holder = ::fork();
  ASSERT_GE(holder, 0);
  if (holder == 0) {
    if (::unshare(CLONE_NEWNET) != 0) ::_exit(1);
    ::pause();
    ::_exit(0);
  }
  const std::string netns = "/proc/" + std::to_string(holder) + "/ns/net";
  for (int i = 0; i < 200 && fs::read_symlink(netns) == fs::read_symlink("/proc/self/ns/net"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const std::string expected = fs::read_symlink(netns).string();
  for (auto& entry : config_["linux"]["namespaces"]) {
    if (entry["type"] == "network") entry["path"] = netns;
  }
  config_["process"]["args"] = {"readlink", "/proc/self/ns/net"};
  write_config();
  const auto joined = oci_to_files({"run", "--bundle", bundle_.string(), "c1"});
  EXPECT_EQ(joined.exit_code, 0) << joined.err;
  EXPECT_EQ(joined.out, expected + "\n");

  for (auto& entry : config_["linux"]["namespaces"]) {
    if (entry["type"] == "network") entry["path"] = "/proc/" + std::to_string(holder) + "/ns/ipc";
  }
  write_config();
  const auto refused = oci({"create", "--bundle", bundle_.string(), "c1"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("is a ipc namespace, not a network namespace"), std::string::npos) << refused.err;
  expect_nothing_left("c1");
  ::kill(holder, SIGKILL);
  ::waitpid(holder, nullptr, 0);
}

TEST_F(OciRuntimeTest, ResourcesAreEnforcedThroughTheResourceDriver) {
  config_["linux"]["resources"]["memory"] = {{"limit", 64 * 1024 * 1024}};
  config_["linux"]["resources"]["pids"] = {{"limit", 5}};
  config_["process"]["args"] = {"sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 1 & done; wait"};
  write_config();
  const auto created = oci_to_files({"create", "--bundle", bundle_.string(), "c1"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  std::string memory_limit;
  std::string pids_max;
  for (const auto& dir : cgroup_parent_dirs(cgroups_path("c1"))) {
    if (fs::exists(dir / "memory.limit_in_bytes")) memory_limit = read_text(dir / "memory.limit_in_bytes");
    if (fs::exists(dir / "memory.max")) memory_limit = read_text(dir / "memory.max");
    if (fs::exists(dir / "pids.max")) pids_max = read_text(dir / "pids.max");
  }
  EXPECT_EQ(memory_limit, "67108864\n");
  EXPECT_EQ(pids_max, "5\n");
  ASSERT_EQ(oci({"start", "c1"}).exit_code, 0);
  const pid_t pid = state("c1")["pid"].get<pid_t>();
  wait_until_gone(pid);
  EXPECT_NE(read_text(work_.path() / "err").find("can't fork"), std::string::npos) << read_text(work_.path() / "err");
  ASSERT_EQ(oci({"delete", "c1"}).exit_code, 0);
  expect_nothing_left("c1");
}

TEST_F(OciRuntimeTest, ASeccompProfileInTheOciFormApplies) {
  config_["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"architectures", {"SCMP_ARCH_X86_64"}},
      {"syscalls", {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 1}}}}};
  config_["root"]["readonly"] = false;
  config_["mounts"].push_back({{"destination", "/tmp"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  config_["process"]["args"] = {"sh", "-c", "mkdir /tmp/d || echo refused"};
  write_config();
  const auto result = oci_to_files({"run", "--bundle", bundle_.string(), "c1"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "refused\n");
  EXPECT_NE(result.err.find("Operation not permitted"), std::string::npos) << result.err;
}

// Huge page limits go through the Resource driver: cgroup-v2 writes them (this test also runs in the
// cgroup v2 VM), cgroup-v1 has no huge page control and refuses them, and a refused create leaves
// nothing behind.
TEST_F(OciRuntimeTest, HugepageLimitsGoThroughTheResourceDriver) {
  const bool cgroup_v2 = read_text("/sys/fs/cgroup/cgroup.controllers").find("memory") != std::string::npos;
  if (cgroup_v2 && !fs::exists("/sys/kernel/mm/hugepages/hugepages-2048kB"))
    GTEST_SKIP() << "no 2 MB huge pages";
  config_["linux"]["resources"]["hugepageLimits"] = {{{"pageSize", "2MB"}, {"limit", 8 * 1024 * 1024}}};
  config_["process"]["args"] = {"true"};
  write_config();
  const auto created = oci_to_files({"create", "--bundle", bundle_.string(), "c1"});
  if (!cgroup_v2) {
    EXPECT_NE(created.exit_code, 0);
    EXPECT_NE(
        created.err.find("linux.resources.hugepageLimits: this resource driver cannot limit huge pages"),
        std::string::npos)
        << created.err;
    expect_nothing_left("c1");
    return;
  }
  ASSERT_EQ(created.exit_code, 0) << created.err;
  std::string limit;
  for (const auto& dir : cgroup_parent_dirs(cgroups_path("c1"))) {
    if (fs::exists(dir / "hugetlb.2MB.max")) limit = read_text(dir / "hugetlb.2MB.max");
  }
  EXPECT_EQ(limit, "8388608\n");
  EXPECT_EQ(oci({"delete", "--force", "c1"}).exit_code, 0);
  expect_nothing_left("c1");
}

// The kernel's log from now on, read from /dev/kmsg (audit records reach it where no auditd runs).
class KernelLog {
 public:
  KernelLog() : fd_(::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC)) {
    if (fd_ >= 0) ::lseek(fd_, 0, SEEK_END);
  }
  ~KernelLog() {
    if (fd_ >= 0) ::close(fd_);
  }
  KernelLog(const KernelLog&) = delete;
  KernelLog& operator=(const KernelLog&) = delete;
  bool open() const { return fd_ >= 0; }

  // The records since construction or the last call: one per read; EPIPE means some were overwritten.
  std::vector<std::string> records() {
    std::vector<std::string> out;
    char buffer[8192];
    for (;;) {
      const ssize_t n = ::read(fd_, buffer, sizeof buffer);
      if (n < 0 && errno == EPIPE) continue;
      if (n <= 0) break;
      out.emplace_back(buffer, static_cast<std::size_t>(n));
    }
    return out;
  }

 private:
  int fd_;
};

// SECCOMP_FILTER_FLAG_LOG: every action but allow is audited, here the refused getppid of the
// container's shell (busybox sh reads its parent's pid at start). Without the flag, an errno action
// leaves no record.
TEST_F(OciRuntimeTest, SeccompFilterFlagsReachTheKernel) {
  KernelLog log;
  if (!log.open()) GTEST_SKIP() << "/dev/kmsg cannot be read here";
  config_["process"]["args"] = {"sh", "-c", "exit 0"};
  const auto audited_getppid = [&](bool log_flag) {
    config_["linux"]["seccomp"] = {
        {"defaultAction", "SCMP_ACT_ALLOW"},
        {"syscalls", {{{"names", {"getppid"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 1}}}}};
    if (log_flag) config_["linux"]["seccomp"]["flags"] = {"SECCOMP_FILTER_FLAG_LOG"};
    write_config();
    log.records();
    const auto created = oci_to_files({"create", "--bundle", bundle_.string(), "c1"});
    EXPECT_EQ(created.exit_code, 0) << created.err;
    const pid_t pid = state("c1").value("pid", 0);
    EXPECT_EQ(oci({"start", "c1"}).exit_code, 0);
    wait_until_gone(pid);
    EXPECT_EQ(oci({"delete", "c1"}).exit_code, 0);
    const std::string of_pid = " pid=" + std::to_string(pid) + " ";
    const std::string of_call = " syscall=" + std::to_string(SYS_getppid) + " ";
    for (const std::string& record : log.records()) {
      if (record.find("type=1326") != std::string::npos && record.find(of_pid) != std::string::npos &&
          record.find(of_call) != std::string::npos) {
        return true;
      }
    }
    return false;
  };
  EXPECT_TRUE(audited_getppid(true)) << "no audit record of the refused getppid";
  EXPECT_FALSE(audited_getppid(false)) << "an errno action was audited without the flag";
}

TEST_F(OciRuntimeTest, NamespacedSysctlsAreSetInTheContainerOnly) {
  const std::string host = read_text("/proc/sys/net/ipv4/ping_group_range");
  config_["linux"]["sysctl"] = {{"net.ipv4.ping_group_range", "0 0"}, {"kernel.shmmni", "1000"}};
  config_["process"]["args"] = {"sh", "-c", "cat /proc/sys/net/ipv4/ping_group_range /proc/sys/kernel/shmmni"};
  write_config();
  const auto result = oci_to_files({"run", "--bundle", bundle_.string(), "c1"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "0\t0\n1000\n");
  EXPECT_EQ(read_text("/proc/sys/net/ipv4/ping_group_range"), host) << "the host's own changed";

  config_["linux"]["sysctl"] = {{"vm.swappiness", "10"}};
  write_config();
  const auto refused = oci({"create", "--bundle", bundle_.string(), "c1"});
  EXPECT_NE(refused.err.find("linux.sysctl.vm.swappiness: is not a namespaced sysctl"), std::string::npos) << refused.err;
  expect_nothing_left("c1");
}

TEST_F(OciRuntimeTest, PreservedDescriptorsReachTheCommand) {
  config_["process"]["args"] = {"sh", "-c", "echo through-fd-3 >&3; ls /proc/$$/fd; true"};
  write_config();
  const fs::path passed = work_.path() / "passed";
  // Descriptor 3 of mcore-oci is a file of ours, and nothing above it reaches the command.
  const auto result = oci_to_files({"run", "--preserve-fds", "1", "--bundle", bundle_.string(), "c1", "3>" + passed.string()});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(read_text(passed), "through-fd-3\n");
  EXPECT_EQ(result.out, "0\n1\n2\n3\n") << "the shell holds only stdio and the preserved descriptor";
}

TEST_F(OciRuntimeTest, ExecPassesPreservedDescriptorsInTheirOrder) {
  config_["process"]["args"] = {"sleep", "30"};
  write_config();
  ASSERT_EQ(oci_to_files({"create", "--bundle", bundle_.string(), "c1"}).exit_code, 0);
  ASSERT_EQ(oci({"start", "c1"}).exit_code, 0);
  // Six descriptors: mcore-enter's own layout (3-6) lies under them on the way in.
  std::vector<std::string> args{"exec", "--preserve-fds", "6", "c1", "sh", "-c",
                                "for fd in 3 4 5 6 7 8; do echo \"to $fd\" >&$fd; done; ls /proc/$$/fd; true"};
  std::string command;
  for (const auto& arg : oci_argv(args)) command += "'" + arg + "' ";
  for (int fd = 3; fd <= 8; ++fd) command += std::to_string(fd) + ">'" + (work_.path() / ("fd" + std::to_string(fd))).string() + "' ";
  const auto result = run_command({"/bin/sh", "-c", command});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  for (int fd = 3; fd <= 8; ++fd) {
    EXPECT_EQ(read_text(work_.path() / ("fd" + std::to_string(fd))), "to " + std::to_string(fd) + "\n") << fd;
  }
  EXPECT_EQ(result.out, "0\n1\n2\n3\n4\n5\n6\n7\n8\n") << "stdio and the six, nothing of mcore-enter";
  // Far more than are open here (the test runner may have passed a few on to us).
  const auto closed = run_command(oci_argv({"exec", "--preserve-fds", "900", "c1", "true"}));
  EXPECT_NE(closed.exit_code, 0);
  EXPECT_NE(closed.err.find("is not open"), std::string::npos) << closed.err;
  EXPECT_EQ(oci({"delete", "--force", "c1"}).exit_code, 0);
}

TEST_F(OciRuntimeTest, KillTakesSignalNamesAndNumbersAndAllReachesEveryProcess) {
  config_["process"]["args"] = {"sh", "-c", "trap 'echo usr1' USR1; sleep 30 & wait; sleep 30 & wait"};
  write_config();
  ASSERT_EQ(oci_to_files({"create", "--bundle", bundle_.string(), "c1"}).exit_code, 0);
  ASSERT_EQ(oci({"start", "c1"}).exit_code, 0);
  const pid_t pid = state("c1")["pid"].get<pid_t>();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(oci({"kill", "c1", "SIGUSR1"}).exit_code, 0);
  EXPECT_EQ(oci({"kill", "c1", "USR1"}).exit_code, 0);
  const auto unknown = oci({"kill", "c1", "SIGNOPE"});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_EQ(oci({"kill", "--all", "c1", "9"}).exit_code, 0);
  wait_until_gone(pid);
  EXPECT_EQ(state("c1")["status"], "stopped");
}

TEST_F(OciRuntimeTest, GlobalOptionsTakeRuncsFormsAndJsonLogsHoldOnlyErrors) {
  const fs::path log = work_.path() / "log.json";
  config_["process"]["args"] = {"true"};
  write_config();
  // containerd's shim writes single-dash long options.
  const auto ok = run_command({MCORE_OCI_BINARY, "-root", root().string(), "--log-format=json", "--log", log.string(),
                               "-config", sandbox_->config_file().string(), "run", "-bundle", bundle_.string(), "c1"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(read_text(log), "") << "Podman parses the whole log as one object: nothing on success";

  const auto failed = run_command({MCORE_OCI_BINARY, "--root", root().string(), "--log-format", "json", "--log",
                                   log.string(), "state", "nope"});
  EXPECT_EQ(failed.exit_code, 1);
  const json line = json::parse(read_text(log));
  EXPECT_EQ(line["level"], "error");
  EXPECT_NE(line["msg"].get<std::string>().find("container nope does not exist"), std::string::npos);
  EXPECT_TRUE(line.contains("time"));

  const auto version = run_command({MCORE_OCI_BINARY, "--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.out.find("spec: 1.0.2"), std::string::npos) << version.out;
  EXPECT_NE(version.out.find("commit: "), std::string::npos) << version.out;

  const auto features = json::parse(oci({"features"}).out);
  EXPECT_EQ(features["ociVersionMin"], "1.0.0");
}

TEST_F(OciRuntimeTest, ListShowsEveryContainerWithItsStatus) {
  config_["process"]["args"] = {"sleep", "30"};
  write_config();
  ASSERT_EQ(oci_to_files({"create", "--bundle", bundle_.string(), "c1"}).exit_code, 0);
  config_["linux"]["cgroupsPath"] = cgroups_path("c2");
  write_config();
  ASSERT_EQ(oci_to_files({"create", "--bundle", bundle_.string(), "c2"}).exit_code, 0);
  ASSERT_EQ(oci({"start", "c2"}).exit_code, 0);
  const json listed = json::parse(oci({"list", "--format", "json"}).out);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0]["id"], "c1");
  EXPECT_EQ(listed[0]["status"], "created");
  EXPECT_EQ(listed[1]["id"], "c2");
  EXPECT_EQ(listed[1]["status"], "running");
  EXPECT_EQ(oci({"list", "-q"}).out, "c1\nc2\n");
  // A created container may be deleted without --force: its init is killed.
  const pid_t pid = listed[0]["pid"].get<pid_t>();
  ASSERT_EQ(oci({"delete", "c1"}).exit_code, 0);
  wait_until_gone(pid);
  EXPECT_NE(::kill(pid, 0), 0);
  expect_nothing_left("c1");
}

TEST_F(OciRuntimeTest, BadInputIsRefusedInOneLineAndLeavesNothingBehind) {
  const fs::path pid_file = work_.path() / "pid";
  auto expect_refused = [&](const std::vector<std::string>& args, const std::string& words) {
    const auto result = oci(args);
    EXPECT_NE(result.exit_code, 0) << words;
    EXPECT_NE(result.err.find(words), std::string::npos) << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
    expect_nothing_left("c1");
    EXPECT_FALSE(fs::exists(pid_file));
  };
  const std::vector<std::string> create{"create", "--bundle", bundle_.string(), "--pid-file", pid_file.string(), "c1"};

  config_["process"]["args"] = {"sh", 5};
  write_config();
  expect_refused(create, "config.json: process.args[1]: expected a string");

  config_["process"]["args"] = {"no-such-command"};
  write_config();
  expect_refused(create, "exec: \"no-such-command\": executable file not found in $PATH");

  config_["process"]["args"] = {"true"};
  config_["linux"]["namespaces"].push_back({{"type", "time"}});
  write_config();
  expect_refused(create, "unknown namespace type \"time\"");
  config_["linux"]["namespaces"].erase(config_["linux"]["namespaces"].size() - 1);

  config_["mounts"].push_back({{"destination", "/x"}, {"type", "bind"}, {"source", "/no/such/dir"}});
  write_config();
  expect_refused(create, "stat volume source /no/such/dir");
  config_["mounts"].erase(config_["mounts"].size() - 1);
  write_config();

  expect_refused({"create", "--bundle", (work_.path() / "nowhere").string(), "c1"}, "config.json");
  std::ofstream(work_.path() / "broken.json") << "{";
  expect_refused({"create", "--bundle", bundle_.string(), "../c1"}, "invalid container id \"../c1\"");
  expect_refused({"create", "--bundle", bundle_.string(), "a/b"}, "invalid container id");
  expect_refused({"start", "c1"}, "container c1 does not exist");

  ASSERT_EQ(oci_to_files({"create", "--bundle", bundle_.string(), "c1"}).exit_code, 0);
  const auto twice = oci({"create", "--bundle", bundle_.string(), "c1"});
  EXPECT_NE(twice.exit_code, 0);
  EXPECT_NE(twice.err.find("container with id c1 already exists"), std::string::npos) << twice.err;
  EXPECT_EQ(state("c1")["status"], "created") << "the first container must survive the refused second";
}

}  // namespace
}  // namespace mcore::test
