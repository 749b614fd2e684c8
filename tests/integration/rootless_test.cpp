// Rootless mcore: an ordinary user, created by the test with subordinate ids of its own and removed
// after, pulls from the local registry, runs, execs, logs, commits and removes containers with the
// same mcore binary, its data in its XDG directories. What needs root is refused in one line.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <optional>
#include <random>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "oci_image_builder.hpp"
#include "registry_fixture.hpp"
#include "test_support.hpp"

namespace mcore::test {
namespace {
namespace fs = std::filesystem;

// A login of its own for as long as it lives: no subordinate ids unless given, a home directory in a
// TempDir. Its processes are killed and the login removed at the end.
class TestUser {
 public:
  TestUser() : name_("mcrl" + std::to_string(std::random_device{}() % 100000)) {
    // -K: no automatic subordinate ranges, so the test decides which the user has.
    auto added = run_command({"/usr/sbin/useradd", "--no-create-home", "-K", "SUB_UID_COUNT=0", "-K",
                              "SUB_GID_COUNT=0", "-s", "/bin/sh", name_});
    if (added.exit_code != 0) throw std::runtime_error("useradd: " + added.err);
    const passwd* entry = ::getpwnam(name_.c_str());
    if (entry == nullptr) throw std::runtime_error("useradd made no " + name_);
    uid_ = entry->pw_uid;
    gid_ = entry->pw_gid;
    if (::chown(home_.path().c_str(), uid_, gid_) != 0) throw std::runtime_error("chown home");
  }
  ~TestUser() {
    run_command({"/usr/bin/pkill", "-KILL", "-U", std::to_string(uid_)});
    for (int i = 0; i < 50 && run_command({"/usr/bin/pgrep", "-U", std::to_string(uid_)}).exit_code == 0; ++i)
      ::usleep(20000);
    run_command({"/usr/sbin/userdel", name_});
    // The state root without $XDG_RUNTIME_DIR (Podman's fallback), which this test relies on.
    std::error_code ignored;
    fs::remove_all("/tmp/mcore-run-" + std::to_string(uid_), ignored);
  }
  TestUser(const TestUser&) = delete;
  TestUser& operator=(const TestUser&) = delete;

  const std::string& name() const { return name_; }
  uid_t uid() const { return uid_; }
  const fs::path& home() const { return home_.path(); }

  // `mcore args...` as this user, with a clean environment and the build tree's plugins; started in
  // the cgroup directory `cgroup` when one is given.
  CommandResult mcore(const std::vector<std::string>& args, const fs::path& cgroup = {},
                      const std::string& path = "/usr/sbin:/usr/bin:/sbin:/bin") const {
    return run_command(mcore_argv(args, cgroup, path));
  }

  std::vector<std::string> mcore_argv(const std::vector<std::string>& args, const fs::path& cgroup = {},
                                      const std::string& path = "/usr/sbin:/usr/bin:/sbin:/bin") const {
    std::vector<std::string> argv{"/usr/sbin/runuser",
                                  "-u",
                                  name_,
                                  "--",
                                  "env",
                                  "-i",
                                  "HOME=" + home_.path().string(),
                                  "PATH=" + path,
                                  MCORE_BINARY,
                                  "--plugin-dir",
                                  MCORE_PLUGIN_BUILD_DIR};
    argv.insert(argv.end(), args.begin(), args.end());
    if (!cgroup.empty()) {
      argv.insert(argv.begin(),
                  {"/bin/sh", "-c", "echo $$ > \"$0\"/cgroup.procs && exec \"$@\"", cgroup.string()});
    }
    return argv;
  }

 private:
  std::string name_;
  TempDir home_{"mcore-rootless-home"};
  uid_t uid_ = 0;
  gid_t gid_ = 0;
};

// In the cgroup v2 VM the host's /etc is read-only: a copy of it on the VM's tmpfs takes its place, so
// that useradd can write. Nothing on a host whose /etc is writable.
class WritableEtc {
 public:
  WritableEtc() {
    if (::access("/etc/passwd", W_OK) == 0 || errno != EROFS) return;
    copy_.emplace("mcore-etc");
    if (run_command({"/bin/cp", "-a", "/etc/.", copy_->path().string()}).exit_code != 0 ||
        ::mount(copy_->path().c_str(), "/etc", nullptr, MS_BIND, nullptr) != 0) {
      throw std::runtime_error("cannot make /etc writable");
    }
  }
  ~WritableEtc() {
    if (copy_) ::umount2("/etc", MNT_DETACH);
  }
  WritableEtc(const WritableEtc&) = delete;
  WritableEtc& operator=(const WritableEtc&) = delete;

 private:
  std::optional<TempDir> copy_;
};

// Processes of the user still running, by name (pgrep counts zombies too: they are skipped).
std::vector<std::string> running_processes(uid_t uid) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    struct stat info {};
    const std::string pid = entry.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos ||
        ::stat(entry.path().c_str(), &info) != 0 || info.st_uid != uid) {
      continue;
    }
    std::ifstream in(entry.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close + 2 >= stat.size()) continue;
    if (stat[close + 2] != 'Z') names.push_back(stat.substr(open + 1, close - open - 1));
  }
  return names;
}

class RootlessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    if (::access("/usr/bin/newuidmap", X_OK) != 0) GTEST_SKIP() << "needs newuidmap (apt-get install uidmap)";
    etc_ = std::make_unique<WritableEtc>();
    user_ = std::make_unique<TestUser>();
    // The user walks into the shared rootfs, a 0700 TempDir.
    ::chmod(shared_busybox_rootfs().c_str(), 0755);
  }

  void give_ids() { ids_ = std::make_unique<SubordinateIds>(user_->name() + ":300000:65536"); }

  // box:1, a busybox image, loaded by the user from an OCI archive in the user's home.
  void load_box_image() {
    TempDir layouts("mcore-rootless-box");
    OciImageBuilder builder(layouts.path() / "layout");
    Layer layer = {
        LayerEntry::directory("bin"), LayerEntry::file("bin/busybox", read_text("/bin/busybox"), 0755),
        LayerEntry::directory("tmp", 01777), LayerEntry::directory("etc"), LayerEntry::directory("dev")};
    for (const char* applet : {"sh", "httpd", "wget", "seq", "sleep", "echo", "cat", "tty"})
      layer.push_back(LayerEntry::symlink(std::string("bin/") + applet, "busybox"));
    builder.tag(builder.add_image({layer}, "amd64", "", {{"Env", {"PATH=/bin"}}}), "box:1");
    const fs::path archive = user_->home() / "box.tar";
    ASSERT_EQ(
        run_command({"/usr/bin/tar", "-C", builder.dir().string(), "-cf", archive.string(), "."}).exit_code,
        0);
    auto loaded = user_->mcore({"load", "-i", archive.string()});
    ASSERT_EQ(loaded.exit_code, 0) << loaded.err;
  }

  static std::vector<std::string> image_run(std::vector<std::string> flags) {
    std::vector<std::string> args{"run", "--network", "none"};
    args.insert(args.end(), flags.begin(), flags.end());
    return args;
  }

  std::vector<std::string> busybox_run(std::vector<std::string> flags) const {
    std::vector<std::string> args{"run", "--network", "none", "--rootfs", shared_busybox_rootfs().string()};
    args.insert(args.end(), flags.begin(), flags.end());
    return args;
  }

  std::unique_ptr<WritableEtc> etc_;
  std::unique_ptr<TestUser> user_;
  std::unique_ptr<SubordinateIds> ids_;
};

TEST_F(RootlessTest, AUserWithoutSubordinateIdsIsToldWhatToAdd) {
  auto result = user_->mcore({"images"});
  EXPECT_EQ(result.exit_code, 125) << result.out << result.err;
  EXPECT_NE(result.err.find("has no subordinate ids in /etc/subuid"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("usermod --add-subuids"), std::string::npos) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << "one line: " << result.err;
  EXPECT_FALSE(fs::exists(user_->home() / ".local/share/mcore")) << "nothing made before the refusal";
}

TEST_F(RootlessTest, AMissingNewuidmapIsNamedWithItsPackage) {
  give_ids();
  auto result = user_->mcore({"images"}, {}, "/nonexistent");
  EXPECT_EQ(result.exit_code, 125) << result.out << result.err;
  EXPECT_NE(result.err.find("rootless mcore needs newuidmap, which is not on $PATH"), std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("apt-get install uidmap"), std::string::npos) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << "one line: " << result.err;
  EXPECT_EQ(running_processes(user_->uid()), std::vector<std::string>{}) << "no namespace holder left";
  EXPECT_FALSE(fs::exists(user_->home() / ".local/share/mcore")) << "nothing made before the refusal";
}

TEST_F(RootlessTest, PullsRunsExecsLogsCommitsAndRemovesAsAnOrdinaryUser) {
  give_ids();
  RegistryFixture registry;
  TempDir layouts("mcore-rootless-layouts");
  OciImageBuilder builder(layouts.path() / "files");
  // busybox and its applets, then two layers of files.
  Layer base = {LayerEntry::directory("bin"),
                LayerEntry::file("bin/busybox", read_text("/bin/busybox"), 0755)};
  for (const char* applet : {"sh", "ls", "cat", "id", "test", "echo", "chown", "sleep"})
    base.push_back(LayerEntry::symlink(std::string("bin/") + applet, "busybox"));
  for (const char* dir : {"proc", "sys", "dev", "tmp", "etc"}) base.push_back(LayerEntry::directory(dir));
  auto image = builder.add_image(
      {base,
       {LayerEntry::file("etc/gone", "bye\n"), LayerEntry::directory("d"),
        LayerEntry::file("d/old", "old\n")},
       {LayerEntry::whiteout("etc/gone"), LayerEntry::opaque("d"), LayerEntry::file("d/new", "new\n")}});
  builder.tag(image, "latest");
  registry.push(builder.dir(), "files:1", "latest");
  const std::string reference = registry.host() + "/files:1";

  auto pulled = user_->mcore({"pull", reference});
  ASSERT_EQ(pulled.exit_code, 0) << pulled.out << pulled.err;
  EXPECT_TRUE(fs::is_directory(user_->home() / ".local/share/mcore/storage/overlay/layers"))
      << "the user's data lives in $XDG_DATA_HOME/mcore";
  auto images = user_->mcore({"images"});
  EXPECT_NE(images.out.find(registry.host() + "/files"), std::string::npos) << images.out << images.err;

  // The layers as unpacked in the user's namespace: the whiteout and the opaque directory hold.
  auto run =
      user_->mcore(image_run({"--rm", reference, "sh", "-c",
                              "id -u; cat /proc/self/uid_map; ls /d; test -e /etc/gone || echo gone"}));
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_TRUE(run.out.starts_with("0\n")) << "root inside: " << run.out;
  EXPECT_NE(run.out.find("65536"), std::string::npos) << "the user's range is mapped: " << run.out;
  EXPECT_NE(run.out.find("new\ngone\n"), std::string::npos)
      << "opaque d/ hides d/old, etc/gone is deleted: " << run.out;

  // A volume: what the container's root writes is the user's on the host, a chowned file a subordinate id.
  TempDir shared("mcore-rootless-volume");
  ASSERT_EQ(::chown(shared.path().c_str(), user_->uid(), 0), 0);
  auto wrote = user_->mcore(image_run({"--rm", "-v", shared.path().string() + ":/v", reference, "sh", "-c",
                                       "echo x > /v/mine && echo y > /v/theirs && chown 1000 /v/theirs"}));
  ASSERT_EQ(wrote.exit_code, 0) << wrote.out << wrote.err;
  struct stat mine {
  }, theirs{};
  ASSERT_EQ(::stat((shared.path() / "mine").c_str(), &mine), 0);
  ASSERT_EQ(::stat((shared.path() / "theirs").c_str(), &theirs), 0);
  EXPECT_EQ(mine.st_uid, user_->uid()) << "the container's root is the user";
  EXPECT_EQ(theirs.st_uid, 300000u + 999u) << "uid 1000 inside is the user's subordinate id 999";

  // Detached, logs, exec, commit of the running container (no freezer rootless here), stop, rm.
  auto started = user_->mcore(image_run(
      {"-d", "--name", "rl1", reference, "sh", "-c", "echo started; echo kept > /kept; exec sleep 1000"}));
  ASSERT_EQ(started.exit_code, 0) << started.out << started.err;
  bool logged = false;
  for (int i = 0; i < 100 && !logged; ++i) {
    logged = user_->mcore({"logs", "rl1"}).out == "started\n";
    if (!logged) ::usleep(20000);
  }
  EXPECT_TRUE(logged) << user_->mcore({"logs", "rl1"}).out;
  auto exec = user_->mcore({"exec", "rl1", "sh", "-c", "cat /kept; id -u"});
  EXPECT_EQ(exec.exit_code, 0) << exec.err;
  EXPECT_EQ(exec.out, "kept\n0\n");
  auto paused_commit = user_->mcore({"commit", "rl1", "rl:paused"});
  EXPECT_EQ(paused_commit.exit_code, 125);
  EXPECT_NE(paused_commit.err.find("--pause=false"), std::string::npos) << paused_commit.err;
  auto committed = user_->mcore({"commit", "--pause=false", "rl1", "rl:1"});
  ASSERT_EQ(committed.exit_code, 0) << committed.err;
  EXPECT_EQ(user_->mcore({"stop", "-t", "1", "rl1"}).exit_code, 0);
  EXPECT_EQ(user_->mcore({"rm", "rl1"}).exit_code, 0);
  auto from_commit = user_->mcore(image_run({"--rm", "rl:1", "cat", "/kept"}));
  EXPECT_EQ(from_commit.out, "kept\n") << from_commit.err;
  EXPECT_EQ(user_->mcore({"rmi", "rl:1", reference}).exit_code, 0);
  EXPECT_EQ(user_->mcore({"ps", "-aq"}).out, "");
}

TEST_F(RootlessTest, WhatNeedsRootIsRefusedInOneLine) {
  give_ids();
  auto limited = user_->mcore(busybox_run({"--rm", "--memory", "64m", "true"}));
  EXPECT_EQ(limited.exit_code, 125);
  EXPECT_NE(limited.err.find("--memory cannot be enforced: rootless mcore has no cgroup"), std::string::npos)
      << limited.err;
  // The user's own config file ($XDG_CONFIG_HOME/mcore/config.json) selects the bridge driver.
  const fs::path config = user_->home() / ".config/mcore/config.json";
  fs::create_directories(config.parent_path());
  std::ofstream(config) << R"({"drivers": {"network": "bridge"}, "default_network": "bridge"})";
  auto bridged = user_->mcore({"run", "--rm", "--rootfs", shared_busybox_rootfs().string(), "true"});
  fs::remove(config);
  EXPECT_EQ(bridged.exit_code, 125);
  EXPECT_NE(bridged.err.find("the bridge network driver needs root"), std::string::npos) << bridged.err;
  auto autons = user_->mcore(busybox_run({"--rm", "--userns", "auto", "true"}));
  EXPECT_EQ(autons.exit_code, 125);
  EXPECT_NE(autons.err.find("rootless mcore cannot choose a range"), std::string::npos) << autons.err;
  auto mapped = user_->mcore(busybox_run({"--rm", "--uidmap", "0:1:1000", "--gidmap", "0:1:1000", "true"}));
  EXPECT_EQ(mapped.exit_code, 125);
  EXPECT_NE(mapped.err.find("rootless mcore cannot map a container's ids elsewhere"), std::string::npos)
      << mapped.err;
  for (const auto* result : {&limited, &bridged, &autons, &mapped}) {
    EXPECT_EQ(std::count(result->err.begin(), result->err.end(), '\n'), 1) << result->err;
  }
  // info says why: no delegated cgroup on this host, the user's map, pasta as the network.
  auto info = user_->mcore({"info"});
  EXPECT_NE(info.out.find("yes, as uid " + std::to_string(user_->uid())), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("1 300000 65536"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("pasta (default network pasta)"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("limits are refused"), std::string::npos) << info.out;

  // A plain run still works, and nothing of the refused ones is left.
  auto plain = user_->mcore(busybox_run({"--rm", "echo", "ok"}));
  EXPECT_EQ(plain.out, "ok\n") << plain.err;
  EXPECT_EQ(user_->mcore({"ps", "-aq"}).out, "");
}

// A listening TCP socket on 127.0.0.1 with `port`, or one the kernel chose; closed on destruction.
class LoopbackListener {
 public:
  explicit LoopbackListener(std::uint16_t port = 0) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    // As servers (pasta among them) bind: the test's own finished connections to the port may still
    // be in TIME_WAIT, which only a listener on it should keep us from.
    const int reuse = 1;
    if (fd_ >= 0) ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(fd_, 8) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("listen on 127.0.0.1");
    }
    port_ = ntohs(address.sin_port);
  }
  ~LoopbackListener() { ::close(fd_); }
  LoopbackListener(const LoopbackListener&) = delete;
  LoopbackListener& operator=(const LoopbackListener&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  int fd_;
  std::uint16_t port_ = 0;
};

// What 127.0.0.1:`port` answers first, or "" when nothing does.
std::string first_answer(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  std::string answer;
  timeval timeout{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    char buffer[64];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) answer.assign(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return answer;
}

TEST_F(RootlessTest, PastaPublishesAPortOnLoopbackAndKeepsTheHostsLoopbackOut) {
  give_ids();
  const LoopbackListener host_service;                        // what the container must not reach
  const std::uint16_t published = LoopbackListener().port();  // free now, for -p
  const std::string service = std::to_string(host_service.port());
  auto started =
      user_->mcore({"run", "-d", "--name", "web", "-p", "127.0.0.1:" + std::to_string(published) + ":8080",
                    "--rootfs", shared_busybox_rootfs().string(), "sh", "-c",
                    "nc -w 1 127.0.0.1 " + service +
                        " </dev/null && echo loopback-reached || echo loopback-refused; "
                        "gw=$(ip route | awk '/default/ {print $3}'); "
                        "nc -w 1 $gw " +
                        service +
                        " </dev/null && echo gateway-reached || echo gateway-refused; "
                        "echo ready; echo hi | nc -l -p 8080"});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  std::string logs;
  for (int i = 0; i < 200 && logs.find("ready") == std::string::npos; ++i) {
    ::usleep(20000);
    logs = user_->mcore({"logs", "web"}).out;
  }
  EXPECT_NE(logs.find("loopback-refused"), std::string::npos) << logs;
  EXPECT_NE(logs.find("gateway-refused"), std::string::npos) << logs;
  std::string answer;
  for (int i = 0; i < 50 && answer.empty(); ++i) {
    answer = first_answer(published);
    if (answer.empty()) ::usleep(20000);
  }
  EXPECT_EQ(answer, "hi\n") << "the published port answers on 127.0.0.1";
  auto inspect = user_->mcore({"network", "ls"});
  EXPECT_NE(inspect.out.find("pasta"), std::string::npos) << inspect.out << inspect.err;
  EXPECT_EQ(user_->mcore({"rm", "-f", "web"}).exit_code, 0);
  // The container's pasta ended before rm returned: the port is free to publish again at once.
  EXPECT_NE(run_command({"/usr/bin/pgrep", "-U", std::to_string(user_->uid()), "pasta"}).exit_code, 0)
      << "the container's pasta outlived rm";
  EXPECT_NO_THROW(LoopbackListener{published}) << "port " << published << " is still taken after rm";
}

// A network namespace of the test's own, reached from the host through a veth pair (10.254.77.1 on
// the host's end, 10.254.77.2 inside), in which busybox answers one TCP connection on port 9090 with
// `outbound-ok`. Traffic there stays on this machine. Removed after, with its server.
class PeerNamespace {
 public:
  PeerNamespace() {
    const std::string suffix = std::to_string(::getpid() % 100000);
    const std::string host_end = "mcrlh" + suffix, peer_end = "mcrlp" + suffix;
    for (const std::vector<std::string>& step :
         {std::vector<std::string>{"netns", "add", name_},
          {"link", "add", host_end, "type", "veth", "peer", "name", peer_end, "netns", name_},
          {"addr", "add", "10.254.77.1/30", "dev", host_end},
          {"link", "set", host_end, "up"},
          {"-n", name_, "addr", "add", "10.254.77.2/30", "dev", peer_end},
          {"-n", name_, "link", "set", peer_end, "up"}}) {
      std::vector<std::string> argv{"/usr/sbin/ip"};
      argv.insert(argv.end(), step.begin(), step.end());
      auto done = run_command(argv);
      if (done.exit_code != 0) {
        remove();
        throw std::runtime_error("ip " + step[0] + " " + step[1] + ": " + done.err);
      }
    }
    server_ = ::fork();
    if (server_ == 0) {
      ::execl("/usr/sbin/ip", "ip", "netns", "exec", name_.c_str(), "/usr/bin/busybox", "sh", "-c",
              "echo outbound-ok | /usr/bin/busybox nc -l -p 9090", static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~PeerNamespace() { remove(); }
  PeerNamespace(const PeerNamespace&) = delete;
  PeerNamespace& operator=(const PeerNamespace&) = delete;

 private:
  void remove() {
    if (server_ > 0) {
      ::kill(server_, SIGKILL);
      ::waitpid(server_, nullptr, 0);
    }
    run_command({"/usr/sbin/ip", "netns", "del", name_});  // the veth pair goes with it
  }

  std::string name_ = "mcore-rootless-peer-" + std::to_string(::getpid());
  pid_t server_ = -1;
};

TEST_F(RootlessTest, PastaCarriesOutboundTrafficAndHostNetworkIsTheHosts) {
  give_ids();
  // Outbound: the container's connection leaves through pasta's sockets, as the user's own would.
  PeerNamespace peer;
  // busybox nc stays after the answer, waiting on its input: the answer is all the loop waits for.
  auto outbound = user_->mcore({"run", "--rm", "--rootfs", shared_busybox_rootfs().string(), "sh", "-c",
                                "for i in $(seq 50); do answer=$(timeout 2 nc 10.254.77.2 9090 </dev/null); "
                                "[ -n \"$answer\" ] && echo \"$answer\" && exit 0; sleep 0.1; done; exit 1"});
  EXPECT_EQ(outbound.exit_code, 0) << outbound.err;
  EXPECT_EQ(outbound.out, "outbound-ok\n");
  // --network host: the host's own network namespace.
  auto host = user_->mcore({"run", "--rm", "--network", "host", "--rootfs", shared_busybox_rootfs().string(),
                            "readlink", "/proc/self/ns/net"});
  EXPECT_EQ(host.exit_code, 0) << host.err;
  EXPECT_EQ(host.out, fs::read_symlink("/proc/self/ns/net").string() + "\n");
}

TEST_F(RootlessTest, KeepsNamedVolumesSavesAndLoadsAndRunsOnATerminal) {
  give_ids();
  load_box_image();
  // A named volume outlives the container that wrote it.
  auto wrote = user_->mcore(
      {"run", "--rm", "--network", "none", "-v", "data:/d", "box:1", "sh", "-c", "echo kept > /d/file"});
  ASSERT_EQ(wrote.exit_code, 0) << wrote.err;
  auto read = user_->mcore({"run", "--rm", "--network", "none", "-v", "data:/d", "box:1", "cat", "/d/file"});
  EXPECT_EQ(read.out, "kept\n") << read.err;
  EXPECT_EQ(user_->mcore({"volume", "rm", "data"}).exit_code, 0);

  // save, rmi, load: the image comes back and runs.
  const fs::path saved = user_->home() / "saved.tar";
  auto save = user_->mcore({"save", "-o", saved.string(), "box:1"});
  ASSERT_EQ(save.exit_code, 0) << save.err;
  ASSERT_EQ(user_->mcore({"rmi", "box:1"}).exit_code, 0);
  auto loaded = user_->mcore({"load", "-i", saved.string()});
  ASSERT_EQ(loaded.exit_code, 0) << loaded.err;
  auto back = user_->mcore({"run", "--rm", "--network", "none", "box:1", "echo", "back"});
  EXPECT_EQ(back.out, "back\n") << back.err;

  // -it: the container's process has a terminal of its own.
  int master = -1;
  const pid_t pid = spawn_on_terminal(
      user_->mcore_argv({"run", "--rm", "-it", "--network", "none", "box:1", "tty"}), master);
  ASSERT_GE(pid, 0);
  std::string screen;
  char buffer[256];
  for (int waited = 0; waited < 100;) {
    pollfd ready{master, POLLIN, 0};
    if (::poll(&ready, 1, 100) <= 0) {
      ++waited;
      continue;
    }
    const ssize_t n = ::read(master, buffer, sizeof buffer);
    if (n <= 0) break;  // the terminal closed: mcore exited
    screen.append(buffer, static_cast<std::size_t>(n));
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(master);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << screen;
  EXPECT_NE(screen.find("/dev/pts/0"), std::string::npos) << screen;
}

TEST_F(RootlessTest, UpStartsADeploymentWhoseServicesReachEachOtherByName) {
  give_ids();
  load_box_image();

  // web serves a page; client fetches it by the service's name, over the project's network.
  const std::string fetch =
      "for i in $(seq 100); do wget -q -O - http://web/index.html && exit 0; sleep 0.1; done; exit 1";
  const nlohmann::json deployment = {
      {"name", "shop"},
      {"services",
       {{"web",
         {{"image", "box:1"},
          {"command", {"sh", "-c", "echo hello > /tmp/index.html; exec httpd -f -p 80 -h /tmp"}}}},
        {"client", {{"image", "box:1"}, {"command", {"sh", "-c", fetch}}, {"depends_on", {"web"}}}}}}};
  const fs::path file = user_->home() / "shop.json";
  std::ofstream(file) << deployment.dump(2);
  auto up = user_->mcore({"up", "-d", "-f", file.string()});
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  EXPECT_EQ(user_->mcore({"wait", "shop-client-1"}).out, "0\n");
  EXPECT_EQ(user_->mcore({"logs", "shop-client-1"}).out, "hello\n");
  auto networks = user_->mcore({"network", "ls"});
  EXPECT_NE(networks.out.find("shop_default  pasta"), std::string::npos) << networks.out << networks.err;

  // A container a later command starts joins the same network: every command works in the one
  // user namespace its first made, so it may add a link to the network's bridge.
  auto later = user_->mcore({"run", "--rm", "--network", "shop_default", "box:1", "sh", "-c", fetch});
  EXPECT_EQ(later.exit_code, 0) << later.err;
  EXPECT_EQ(later.out, "hello\n");
  auto holders = running_processes(user_->uid());
  EXPECT_EQ(std::count(holders.begin(), holders.end(), "mcore-userns"), 1) << "one user namespace";
  EXPECT_EQ(std::count(holders.begin(), holders.end(), "mcore-netns"), 1) << "one bridge namespace";
  // The holders were forked from commands; what those were given is not on show for as long as they
  // live: their command lines are their names.
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::ifstream comm(entry.path() / "comm");
    std::string name;
    struct stat owner {};
    if (::stat(entry.path().c_str(), &owner) != 0 || owner.st_uid != user_->uid()) continue;
    if (!(comm >> name) || (name != "mcore-userns" && name != "mcore-netns")) continue;
    const std::string command_line = read_text(entry.path() / "cmdline");
    EXPECT_EQ(command_line.substr(0, command_line.find('\0')), name);
    EXPECT_EQ(command_line.find_first_not_of('\0', name.size()), std::string::npos)
        << name << ": " << command_line;
  }

  auto down = user_->mcore({"down", "-f", file.string()});
  EXPECT_EQ(down.exit_code, 0) << down.out << down.err;
  EXPECT_EQ(user_->mcore({"ps", "-aq"}).out, "");
  EXPECT_EQ(user_->mcore({"network", "ls", "-q"}).out.find("shop_default"), std::string::npos);
  bool bridges_left = true;
  for (int i = 0; i < 50 && bridges_left; ++i) {
    const auto left = running_processes(user_->uid());
    bridges_left = std::count(left.begin(), left.end(), "mcore-netns") != 0;
    if (bridges_left) ::usleep(20000);
  }
  EXPECT_FALSE(bridges_left) << "the last network's removal ends the bridge namespace";
}

// A cgroup v2 group below the test's own, given to the user (as systemd's user@.service delegation
// does), with `cli` in it for the user's commands: containers' groups go beside it. Removed after.
class DelegatedCgroup {
 public:
  explicit DelegatedCgroup(uid_t uid) {
    std::string own = read_text("/proc/self/cgroup");  // "0::/path\n"
    own = own.substr(3, own.find('\n') - 3);
    dir_ = fs::path("/sys/fs/cgroup") / fs::path(own).relative_path() /
           ("mcore-rootless-" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "cli");
    for (const fs::path& path : {dir_, dir_ / "cgroup.procs", dir_ / "cgroup.subtree_control",
                                 dir_ / "cgroup.threads", dir_ / "cli", dir_ / "cli/cgroup.procs"}) {
      if (::chown(path.c_str(), uid, static_cast<gid_t>(-1)) != 0)
        throw std::runtime_error("chown " + path.string());
    }
  }
  ~DelegatedCgroup() {
    // The user's namespace holder stays in the group the user's first command ran in: the group's
    // processes are killed first (cgroup.kill, Linux 5.14).
    std::ofstream(dir_ / "cgroup.kill") << "1";
    for (int i = 0; i < 100 && read_text(dir_ / "cgroup.events").find("populated 1") != std::string::npos;
         ++i)
      ::usleep(10000);
    // Deepest first.
    std::vector<fs::path> dirs;
    std::error_code ignored;
    for (auto it = fs::recursive_directory_iterator(dir_, ignored); it != fs::recursive_directory_iterator();
         it.increment(ignored)) {
      if (it->is_directory(ignored)) dirs.push_back(it->path());
    }
    std::sort(dirs.begin(), dirs.end(),
              [](const fs::path& a, const fs::path& b) { return a.string().size() > b.string().size(); });
    for (const fs::path& dir : dirs) ::rmdir(dir.c_str());
    ::rmdir(dir_.c_str());
  }
  DelegatedCgroup(const DelegatedCgroup&) = delete;
  DelegatedCgroup& operator=(const DelegatedCgroup&) = delete;
  const fs::path& dir() const { return dir_; }

 private:
  fs::path dir_;
};

// Runs in the cgroup v2 VM (tests/vm/cgroup2-vm); skips on this hybrid host.
TEST_F(RootlessTest, LimitsGoThroughADelegatedCgroupV2Subtree) {
  if (!fs::exists("/sys/fs/cgroup/cgroup.controllers"))
    GTEST_SKIP() << "needs a pure cgroup v2 host (the VM)";
  give_ids();
  DelegatedCgroup delegated(user_->uid());
  const fs::path cli = delegated.dir() / "cli";
  auto info = user_->mcore({"info"}, cli);
  EXPECT_NE(info.out.find("cgroup-v2 (auto)"), std::string::npos) << info.out << info.err;
  EXPECT_NE(info.out.find("limits work"), std::string::npos) << info.out;
  auto limited = user_->mcore(busybox_run({"--rm", "--memory", "32m", "--pids-limit", "50", "sh", "-c",
                                           "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max"}),
                              cli);
  ASSERT_EQ(limited.exit_code, 0) << limited.err;
  EXPECT_EQ(limited.out, "33554432\n50\n") << "the container's own group, below the delegated one";
  auto started = user_->mcore(busybox_run({"-d", "--name", "lim", "--memory", "48m", "sleep", "1000"}), cli);
  ASSERT_EQ(started.exit_code, 0) << started.err;
  const std::string id = started.out.substr(0, started.out.find('\n'));
  EXPECT_EQ(read_text(delegated.dir() / "mcore" / id / "memory.max"), "50331648\n")
      << "containers' groups go beside the user's own cgroup, below the delegated one";
  EXPECT_EQ(user_->mcore({"pause", "lim"}, cli).exit_code, 0) << "the freezer is the user's too";
  EXPECT_EQ(user_->mcore({"unpause", "lim"}, cli).exit_code, 0);
  EXPECT_EQ(user_->mcore({"rm", "-f", "lim"}, cli).exit_code, 0);
  EXPECT_FALSE(fs::exists(delegated.dir() / "mcore" / id)) << "rm removes the container's group";
}

}  // namespace
}  // namespace mcore::test
