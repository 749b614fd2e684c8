// mcore-oci driven by the real clients that drive runc: containerd 1.6 (through `ctr` and its runc
// shim, the path Kubernetes takes through containerd) and Podman 4.3 (through conmon). Each client gets
// roots, sockets and a cgroup parent of the test's own and everything is removed after; a client that
// is not installed skips its tests with a message.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "oci_image_builder.hpp"
#include "test_support.hpp"

namespace mcore::test {
namespace {

namespace fs = std::filesystem;

bool installed(const char* path) { return ::access(path, X_OK) == 0; }

// Writes an executable wrapper that runs mcore-oci with the sandbox's config (drivers, cgroup parent)
// and `extra` global options: what a deployment puts in place with /etc/mcore/config.json.
fs::path write_wrapper(const fs::path& dir, const McoreSandbox& sandbox, const std::string& extra = "") {
  const fs::path wrapper = dir / "mcore-oci";
  std::ofstream(wrapper) << "#!/bin/sh\nexec '" << MCORE_OCI_BINARY << "' --config '" << sandbox.config_file().string()
                         << "' " << extra << " \"$@\"\n";
  fs::permissions(wrapper, fs::perms::owner_all);
  return wrapper;
}

// Runs argv on a new terminal and returns all it printed and its exit code.
CommandResult run_on_terminal(const std::vector<std::string>& argv) {
  int master = -1;
  const winsize size{24, 80, 0, 0};
  const pid_t pid = spawn_on_terminal(argv, master, &size);
  CommandResult result;
  if (pid < 0) return result;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(master, buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) result.out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(master);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

// ---------------------------------------------------------------------------------------------------
// containerd

class ContainerdClient : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    if (!installed("/usr/bin/containerd") || !installed("/usr/bin/ctr")) {
      GTEST_SKIP() << "containerd is not installed (apt-get install containerd; scripts/install-deps does)";
    }
    // containerd's runc shim keeps its sockets in /run/containerd/s whatever the config says.
    run_containerd_existed_ = fs::exists("/run/containerd");
    sandbox_ = std::make_unique<McoreSandbox>();
    wrapper_ = write_wrapper(dir_.path(), *sandbox_);
    const fs::path config = dir_.path() / "config.toml";
    const std::string base = dir_.path().string();
    std::ofstream(config) << "version = 2\nroot = \"" << base << "/root\"\nstate = \"" << base << "/state\"\n"
                          << "disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"
                          << "[grpc]\n  address = \"" << socket() << "\"\n"
                          << "[ttrpc]\n  address = \"" << socket() << ".ttrpc\"\n"
                          << "[debug]\n  address = \"" << base << "/debug.sock\"\n"
                          << "[metrics]\n  address = \"\"\n"
                          << "[plugins.\"io.containerd.internal.v1.opt\"]\n  path = \"" << base << "/opt\"\n";
    daemon_ = ::fork();
    ASSERT_GE(daemon_, 0);
    if (daemon_ == 0) {
      const std::string log = base + "/containerd.log";
      std::freopen(log.c_str(), "w", stdout);
      std::freopen(log.c_str(), "a", stderr);
      ::execl("/usr/bin/containerd", "containerd", "--config", config.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 200 && ctr({"version"}).exit_code != 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(ctr({"version"}).exit_code, 0) << read_text(dir_.path() / "containerd.log");
  }

  void TearDown() override {
    if (daemon_ > 0) {
      for (const auto& id : {"c1", "c2"}) {
        ctr({"task", "kill", "-s", "SIGKILL", id});
        ctr({"task", "delete", "--force", id});
        ctr({"container", "delete", id});
      }
      ::kill(daemon_, SIGTERM);
      ::waitpid(daemon_, nullptr, 0);
    }
    if (!run_containerd_existed_) fs::remove_all("/run/containerd");
  }

  std::string socket() const { return (dir_.path() / "containerd.sock").string(); }

  CommandResult ctr(std::vector<std::string> args) const {
    args.insert(args.begin(), {"/usr/bin/ctr", "--address", socket()});
    return run_command(args);
  }

  // `ctr run` of the busybox rootfs with mcore-oci as the runtime binary; "" cgroup lets mcore-oci
  // place the container below the sandbox's parent (ctr's default, /default/ID, is at the root).
  std::vector<std::string> run_args(std::vector<std::string> options, const std::string& id,
                                    std::vector<std::string> command) const {
    std::vector<std::string> args{"/usr/bin/ctr", "--address", socket(), "run", "--runc-binary", wrapper_.string(),
                                  "--runc-root", (dir_.path() / "runc").string(), "--rootfs"};
    args.insert(args.begin() + 4, options.begin(), options.end());
    args.push_back(shared_busybox_rootfs().string());
    args.push_back(id);
    args.insert(args.end(), command.begin(), command.end());
    return args;
  }

  std::vector<std::string> cgroup_option(const std::string& id) const {
    return {"--cgroup", sandbox_->cgroup_parent() + "/" + id};
  }

  TempDir dir_{"mcore-ctr-test"};
  std::unique_ptr<McoreSandbox> sandbox_;
  fs::path wrapper_;
  pid_t daemon_ = -1;
  bool run_containerd_existed_ = true;
};

TEST_F(ContainerdClient, CtrRunRemovesTheContainerAndReturnsItsOutputAndExitCode) {
  const auto ran = run_command(run_args({"--rm", "--cgroup", ""}, "c1", {"sh", "-c", "echo hello from ctr; exit 3"}));
  EXPECT_EQ(ran.exit_code, 3) << ran.err;
  EXPECT_EQ(ran.out, "hello from ctr\n");
  EXPECT_EQ(ctr({"container", "ls", "-q"}).out, "");
  EXPECT_TRUE(fs::is_empty(dir_.path() / "runc" / "default")) << "mcore-oci's state was not deleted";
}

TEST_F(ContainerdClient, CtrRunWithATerminal) {
  const auto ran = run_on_terminal(run_args({"--rm", "-t", "--cgroup", ""}, "c1", {"sh", "-c", "tty; stty size"}));
  EXPECT_EQ(ran.exit_code, 0) << ran.out;
  EXPECT_NE(ran.out.find("/dev/pts/0"), std::string::npos) << ran.out;
}

TEST_F(ContainerdClient, ADetachedTaskTakesExecPsPauseResumeMetricsAndKill) {
  const auto started = run_command(run_args({"-d", "--cgroup", sandbox_->cgroup_parent() + "/c2"}, "c2", {"sleep", "60"}));
  ASSERT_EQ(started.exit_code, 0) << started.err;

  const auto exec = ctr({"task", "exec", "--exec-id", "e1", "c2", "sh", "-c", "echo exec in ctr; exit 4"});
  EXPECT_EQ(exec.exit_code, 4) << exec.err;
  EXPECT_EQ(exec.out, "exec in ctr\n");
  const auto tty = run_on_terminal({"/usr/bin/ctr", "--address", socket(), "task", "exec", "-t", "--exec-id", "e2", "c2", "tty"});
  EXPECT_NE(tty.out.find("/dev/pts/"), std::string::npos) << tty.out;

  // `task ps` lists the init, whose PID `task ls` shows beside the task's name.
  const auto ps = ctr({"task", "ps", "c2"});
  EXPECT_EQ(ps.exit_code, 0) << ps.err;
  std::istringstream tasks(ctr({"task", "ls"}).out);
  std::string word, init_pid;
  while (tasks >> word) {
    if (word == "c2") tasks >> init_pid;
  }
  ASSERT_FALSE(init_pid.empty());
  EXPECT_NE(ps.out.find(init_pid), std::string::npos) << ps.out;

  ASSERT_EQ(ctr({"task", "pause", "c2"}).exit_code, 0);
  EXPECT_NE(ctr({"task", "ls"}).out.find("PAUSED"), std::string::npos);
  ASSERT_EQ(ctr({"task", "resume", "c2"}).exit_code, 0);
  EXPECT_NE(ctr({"task", "ls"}).out.find("RUNNING"), std::string::npos);

  const auto metrics = ctr({"task", "metrics", "c2"});
  EXPECT_EQ(metrics.exit_code, 0) << metrics.err;
  EXPECT_NE(metrics.out.find("memory.usage_in_bytes"), std::string::npos) << metrics.out;

  ASSERT_EQ(ctr({"task", "kill", "-s", "SIGKILL", "c2"}).exit_code, 0);
  for (int i = 0; i < 100 && ctr({"task", "ls"}).out.find("STOPPED") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(ctr({"task", "ls"}).out.find("STOPPED"), std::string::npos);
  EXPECT_EQ(ctr({"task", "delete", "c2"}).exit_code, 0);
  EXPECT_EQ(ctr({"container", "delete", "c2"}).exit_code, 0);
  for (const auto& dir : cgroup_parent_dirs(sandbox_->cgroup_parent() + "/c2")) EXPECT_FALSE(fs::exists(dir)) << dir;
}

TEST_F(ContainerdClient, AnImportedImageRunsByName) {
  // An OCI archive of a busybox image, as `ctr image import` takes one (docker save's form works too).
  const fs::path layout = dir_.path() / "layout";
  OciImageBuilder builder(layout);
  const Layer layer = {LayerEntry::directory("bin"), LayerEntry::file("bin/busybox", read_text("/bin/busybox"), 0755),
                       LayerEntry::symlink("bin/sh", "busybox"), LayerEntry::symlink("bin/cat", "busybox")};
  const auto image = builder.add_image({layer}, "amd64", "", {{"Env", {"PATH=/bin"}}, {"Cmd", {"sh", "-c", "echo from the image"}}});
  builder.tag(image, "docker.io/library/mcore-import:1");
  const fs::path archive = dir_.path() / "image.tar";
  ASSERT_EQ(run_command({"/bin/tar", "-C", layout.string(), "-cf", archive.string(), "."}).exit_code, 0);
  const auto imported = ctr({"image", "import", archive.string()});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  ASSERT_NE(ctr({"image", "ls", "-q"}).out.find("docker.io/library/mcore-import:1"), std::string::npos)
      << ctr({"image", "ls"}).out;

  std::vector<std::string> args{"/usr/bin/ctr", "--address", socket(), "run", "--rm", "--runc-binary", wrapper_.string(),
                                "--runc-root", (dir_.path() / "runc").string()};
  for (const auto& option : cgroup_option("c1")) args.push_back(option);
  args.insert(args.end(), {"docker.io/library/mcore-import:1", "c1"});
  const auto by_default = run_command(args);
  EXPECT_EQ(by_default.exit_code, 0) << by_default.err;
  EXPECT_EQ(by_default.out, "from the image\n") << "the image's own command";
  args.insert(args.end(), {"sh", "-c", "cat /proc/self/cgroup >/dev/null; echo $PATH; exit 6"});
  const auto ran = run_command(args);
  EXPECT_EQ(ran.exit_code, 6) << ran.err;
  EXPECT_EQ(ran.out, "/bin\n");
  EXPECT_EQ(ctr({"container", "ls", "-q"}).out, "");
  EXPECT_EQ(ctr({"image", "rm", "docker.io/library/mcore-import:1"}).exit_code, 0);
}

// The README's CRI runtime handler (what a Kubernetes RuntimeClass selects) is the same shim with the
// same BinaryName option that `ctr run --runc-binary` sends above. Debian has no CRI client (crictl) to
// drive it through the CRI plugin, so this checks that containerd reads the snippet as that runtime.
TEST_F(ContainerdClient, TheReadmeRuntimeHandlerIsTheRuncShimWithMcoreOci) {
  const std::string readme = read_text(fs::path(MCORE_SOURCE_DIR) / "README.md");
  const auto start = readme.find("[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.mcore]");
  ASSERT_NE(start, std::string::npos) << "the README lost its runtime handler snippet";
  const std::string snippet = readme.substr(start, readme.find("```", start) - start);
  const fs::path config = dir_.path() / "cri.toml";
  std::ofstream(config) << "version = 2\n" << snippet;
  const auto dump = run_command({"/usr/bin/containerd", "--config", config.string(), "config", "dump"});
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  const auto handler = dump.out.find("[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.mcore]");
  ASSERT_NE(handler, std::string::npos) << dump.out;
  const std::string section = dump.out.substr(handler, 1500);
  EXPECT_NE(section.find("runtime_type = \"io.containerd.runc.v2\""), std::string::npos) << section;
  EXPECT_NE(section.find("BinaryName = \"/usr/local/bin/mcore-oci\""), std::string::npos) << section;
}

// ---------------------------------------------------------------------------------------------------
// Podman

class PodmanClient : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    if (!installed("/usr/bin/podman")) GTEST_SKIP() << "podman is not installed (apt-get install podman)";
    sandbox_ = std::make_unique<McoreSandbox>();
    const fs::path base = dir_.path();
    for (const char* sub : {"root", "run", "tmp", "networks", "config", "data", "oci"}) fs::create_directories(base / sub);
    wrapper_ = write_wrapper(base, *sandbox_, "--root '" + (base / "oci").string() + "'");
    std::ofstream(base / "containers.conf")
        << "[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=1000:1000\"]\n"
        << "[network]\nnetwork_backend = \"cni\"\nnetwork_config_dir = \"" << (base / "networks").string() << "\"\n"
        << "[engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\nlock_type = \"file\"\n"
        << "image_copy_tmp_dir = \"" << (base / "tmp").string() << "\"\n";
    // Podman writes mount points into a --rootfs directory: it gets its own copy.
    make_busybox_rootfs(base / "rootfs");
  }

  void TearDown() override {
    if (sandbox_) podman({"rm", "--force", "--all", "--time", "0"});
  }

  CommandResult podman(const std::vector<std::string>& args) const { return run_command(podman_argv(args), "", env()); }

  std::vector<std::string> podman_argv(const std::vector<std::string>& args) const {
    const fs::path base = dir_.path();
    std::vector<std::string> argv{"/usr/bin/podman", "--root", (base / "root").string(), "--runroot", (base / "run").string(),
                                  "--tmpdir", (base / "tmp").string(), "--storage-driver=overlay", "--runtime", wrapper_.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  std::map<std::string, std::string> env() const {
    const fs::path base = dir_.path();
    return {{"CONTAINERS_CONF", (base / "containers.conf").string()},
            {"XDG_CONFIG_HOME", (base / "config").string()},
            {"XDG_DATA_HOME", (base / "data").string()}};
  }

  // `run` on the busybox copy, without a network, in a group below the sandbox's parent.
  std::vector<std::string> run_args(std::vector<std::string> options, std::vector<std::string> command) const {
    std::vector<std::string> args{"run", "--network", "none", "--cgroups=no-conmon", "--cgroup-parent",
                                  sandbox_->cgroup_parent()};
    args.insert(args.end(), options.begin(), options.end());
    args.push_back("--rootfs");
    args.push_back((dir_.path() / "rootfs").string());
    args.insert(args.end(), command.begin(), command.end());
    return args;
  }

  TempDir dir_{"mcore-podman-test"};
  std::unique_ptr<McoreSandbox> sandbox_;
  fs::path wrapper_;
};

TEST_F(PodmanClient, RunRemovesTheContainerAndKeepsTheExitCodes) {
  const auto ran = podman(run_args({"--rm"}, {"sh", "-c", "echo hello from podman; exit 3"}));
  EXPECT_EQ(ran.exit_code, 3) << ran.err;
  EXPECT_EQ(ran.out, "hello from podman\n");
  const auto missing = podman(run_args({"--rm"}, {"/bin/no-such-command"}));
  EXPECT_EQ(missing.exit_code, 127) << missing.err;
  EXPECT_NE(missing.err.find("executable file not found"), std::string::npos) << missing.err;
  EXPECT_EQ(podman({"ps", "-aq"}).out, "");
  EXPECT_TRUE(fs::is_empty(dir_.path() / "oci")) << "mcore-oci's state was not deleted";
}

TEST_F(PodmanClient, RunWithATerminal) {
  auto argv = podman_argv(run_args({"--rm", "-it"}, {"sh", "-c", "tty; exit 4"}));
  // spawn_on_terminal passes our environment: Podman's own roots go on the command line above, its
  // config through env(1).
  std::vector<std::string> with_env{"/usr/bin/env"};
  for (const auto& [key, value] : env()) with_env.push_back(key + "=" + value);
  with_env.insert(with_env.end(), argv.begin(), argv.end());
  const auto ran = run_on_terminal(with_env);
  EXPECT_EQ(ran.exit_code, 4) << ran.out;
  EXPECT_NE(ran.out.find("/dev/pts/0"), std::string::npos) << ran.out;
}

TEST_F(PodmanClient, DetachedContainerTakesExecPauseStopAndRm) {
  const auto started = podman(run_args({"-d", "--name", "c1"}, {"sleep", "60"}));
  ASSERT_EQ(started.exit_code, 0) << started.err;
  const auto exec = podman({"exec", "c1", "sh", "-c", "echo exec in podman; exit 5"});
  EXPECT_EQ(exec.exit_code, 5) << exec.err;
  EXPECT_EQ(exec.out, "exec in podman\n");
  ASSERT_EQ(podman({"pause", "c1"}).exit_code, 0);
  EXPECT_EQ(podman({"inspect", "--format", "{{.State.Status}}", "c1"}).out, "paused\n");
  ASSERT_EQ(podman({"unpause", "c1"}).exit_code, 0);
  EXPECT_EQ(podman({"inspect", "--format", "{{.State.Status}}", "c1"}).out, "running\n");
  EXPECT_EQ(podman({"stop", "--time", "1", "c1"}).exit_code, 0);
  EXPECT_EQ(podman({"inspect", "--format", "{{.State.Status}}", "c1"}).out, "exited\n");
  EXPECT_EQ(podman({"rm", "c1"}).exit_code, 0);
  EXPECT_TRUE(fs::is_empty(dir_.path() / "oci"));
}

TEST_F(PodmanClient, MemoryAndPidsLimitsAreEnforced) {
  const auto ran = podman(run_args({"--rm", "--memory", "32m", "--pids-limit", "5"},
                                   {"sh", "-c",
                                    "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max;"
                                    "for i in 1 2 3 4 5 6; do sleep 2 & done; wait"}));
  EXPECT_EQ(ran.out, "33554432\n5\n") << ran.err;
  EXPECT_NE(ran.err.find("can't fork"), std::string::npos) << ran.err;
}

// --userns=auto: Podman picks a range of the "containers" user's subordinate ids, prepares the image's
// layer for it and hands mcore-oci a user namespace entry with uidMappings and gidMappings.
TEST_F(PodmanClient, UsernsAutoRunsTheContainerInAUserNamespace) {
  SubordinateIds ids("containers:1600000000:200000");
  const fs::path archive = dir_.path() / "rootfs.tar";
  ASSERT_EQ(run_command({"/bin/tar", "-C", (dir_.path() / "rootfs").string(), "-cf", archive.string(), "."})
                .exit_code,
            0);
  const auto imported = podman({"import", archive.string(), "localhost/userns-base"});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  const auto ran = podman({"run", "--rm", "--network", "none", "--cgroups=no-conmon", "--cgroup-parent",
                           sandbox_->cgroup_parent(), "--userns=auto", "localhost/userns-base", "sh", "-c",
                           "id -u; cat /proc/self/uid_map; stat -c %u /bin/busybox"});
  ASSERT_EQ(ran.exit_code, 0) << ran.err;
  EXPECT_TRUE(ran.out.starts_with("0\n")) << ran.out;
  EXPECT_NE(ran.out.find("1600000000"), std::string::npos)
      << "a map out of the containers range: " << ran.out;
  EXPECT_TRUE(ran.out.ends_with("\n0\n")) << "the image's files are its root's: " << ran.out;
  EXPECT_TRUE(fs::is_empty(dir_.path() / "oci")) << "mcore-oci's state was not deleted";
}

// Podman's default bridge network (CNI): Podman makes the network namespace, wires it up and hands it to
// mcore-oci by path in config.json. What the CNI bridge leaves on the host (the bridge, iptables
// chains, /var/lib/cni ...) is removed after by scripts/cni-host-state, which bench/run-latency uses too.
class PodmanBridge : public PodmanClient {
 protected:
  void SetUp() override {
    PodmanClient::SetUp();
    if (IsSkipped()) return;
    if (!installed("/usr/lib/cni/bridge") || !installed("/usr/lib/cni/host-local")) {
      GTEST_SKIP() << "Podman's CNI plugins are missing (apt-get install containernetworking-plugins)";
    }
    const auto snapshot = run_command({state_script(), "snapshot", (dir_.path() / "host.before").string()});
    ASSERT_EQ(snapshot.exit_code, 0) << snapshot.err;
    snapshot_taken_ = true;
  }

  void TearDown() override {
    PodmanClient::TearDown();
    if (!snapshot_taken_) return;
    const std::string before = (dir_.path() / "host.before").string();
    run_command({state_script(), "cleanup", before});
    const auto left = run_command({state_script(), "check", before});
    EXPECT_EQ(left.exit_code, 0) << "left on the host: " << left.err;
  }

  static std::string state_script() { return (fs::path(MCORE_SOURCE_DIR) / "scripts" / "cni-host-state").string(); }

  bool snapshot_taken_ = false;
};

TEST_F(PodmanBridge, TheContainerJoinsPodmansNetworkNamespaceByPath) {
  std::vector<std::string> args{"run", "--rm", "--network", "bridge", "--cgroups=no-conmon", "--cgroup-parent",
                                sandbox_->cgroup_parent(), "--rootfs", (dir_.path() / "rootfs").string(), "sh", "-c",
                                "ip -o -4 addr show eth0; ip route show default; readlink /proc/self/ns/net"};
  const auto ran = podman(args);
  ASSERT_EQ(ran.exit_code, 0) << ran.err;
  // An address from the podman network's 10.88.0.0/16, a default route through its bridge, and a
  // network namespace that is not the host's.
  EXPECT_NE(ran.out.find("inet 10.88."), std::string::npos) << ran.out;
  EXPECT_NE(ran.out.find("default via 10.88.0.1"), std::string::npos) << ran.out;
  char host_net[64] = {};
  ASSERT_GT(::readlink("/proc/self/ns/net", host_net, sizeof host_net - 1), 0);
  EXPECT_EQ(ran.out.find(host_net), std::string::npos) << "the container is in the host's network namespace";
  EXPECT_NE(ran.out.find("net:["), std::string::npos) << ran.out;
  EXPECT_TRUE(fs::is_empty(dir_.path() / "oci")) << "mcore-oci's state was not deleted";
}

}  // namespace
}  // namespace mcore::test
