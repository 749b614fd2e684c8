// mcore-oci and the runtime-spec's later parts on real bundles: the six hooks (order, the state on
// stdin, failures and timeouts), linux.devices and device rules, Podman's tmpcopyup, `update` on a
// live container, a `create` killed midway, exec refused before start, and linux.rootfsPropagation.
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "oci_bundle_fixture.hpp"

namespace mcore::test {
namespace {

class OciSpecFeaturesTest : public OciBundleTest {
 protected:
  // A host script for a hook: appends its name to `order`, and saves its stdin as NAME.json.
  json host_hook(const std::string& name, const std::string& extra = "") const {
    const fs::path script = work_.path() / (name + ".sh");
    std::ofstream(script) << "#!/bin/sh\ncat > '" << (work_.path() / (name + ".json")).string() << "'\necho " << name
                          << " >> '" << (work_.path() / "order").string() << "'\n"
                          << extra;
    fs::permissions(script, fs::perms::owner_all);
    return {{"path", script.string()}, {"args", {name + ".sh", name}}, {"env", {"PATH=/usr/bin:/bin"}}};
  }

  json hook_state(const std::string& name) const { return json::parse(read_text(work_.path() / (name + ".json"))); }

  std::string group_file(const std::string& id, const std::string& file) const {
    for (const auto& dir : cgroup_parent_dirs(cgroups_path(id))) {
      if (fs::exists(dir / file)) return read_text(dir / file);
    }
    return "";
  }
};

TEST_F(OciSpecFeaturesTest, HooksRunInTheirOrderWithTheStateOnStdinAndStartContainerRunsInside) {
  const fs::path shared = work_.path() / "shared";
  fs::create_directories(shared);
  config_["hostname"] = "inside";
  config_["mounts"].push_back({{"destination", "/shared"}, {"type", "bind"}, {"source", shared.string()},
                               {"options", {"rbind", "rw"}}});
  config_["process"]["args"] = {"sh", "-c", "echo command >> /shared/inside"};
  config_["hooks"] = {
      {"prestart", {host_hook("prestart")}},
      {"createRuntime", {host_hook("createRuntime", "readlink /proc/self/ns/mnt > '" + (work_.path() / "createRuntime.mnt").string() + "'\n")}},
      // A host path, run in the container's mount namespace before pivot_root.
      {"createContainer", {host_hook("createContainer", "readlink /proc/self/ns/mnt > '" + (work_.path() / "createContainer.mnt").string() + "'\n")}},
      // Its path is the container's: this sh is the busybox in the root, and it sees the container.
      {"startContainer", {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "cat > /shared/start.json; hostname >> /shared/inside"}},
                           {"env", {"PATH=/bin"}}}}},
      {"poststart", {host_hook("poststart")}},
      {"poststop", {host_hook("poststop")}}};
  write_config();

  const auto created = oci_to_files({"create", "--bundle", bundle_.string(), "c1"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const pid_t pid = state("c1")["pid"].get<pid_t>();
  EXPECT_EQ(read_text(work_.path() / "order"), "prestart\ncreateRuntime\ncreateContainer\n");
  for (const auto& name : {"prestart", "createRuntime", "createContainer"}) {
    const json seen = hook_state(name);
    EXPECT_EQ(seen["id"], "c1") << name;
    EXPECT_EQ(seen["pid"], pid) << name;
    EXPECT_EQ(seen["status"], "creating") << name;
    EXPECT_EQ(seen["bundle"], bundle_.string()) << name;
  }
  EXPECT_FALSE(fs::exists(shared / "start.json")) << "startContainer ran before start";
  char host_mnt[64] = {};
  char container_mnt[64] = {};
  ASSERT_GT(::readlink("/proc/self/ns/mnt", host_mnt, sizeof host_mnt - 1), 0);
  ASSERT_GT(::readlink(("/proc/" + std::to_string(pid) + "/ns/mnt").c_str(), container_mnt, sizeof container_mnt - 1), 0);
  EXPECT_EQ(read_text(work_.path() / "createRuntime.mnt"), std::string(host_mnt) + "\n") << "createRuntime: the runtime's";
  EXPECT_EQ(read_text(work_.path() / "createContainer.mnt"), std::string(container_mnt) + "\n")
      << "createContainer: the container's";

  ASSERT_EQ(oci({"start", "c1"}).exit_code, 0);
  wait_until_gone(pid);
  // startContainer ran in the container (its hostname), before the command.
  EXPECT_EQ(read_text(shared / "inside"), "inside\ncommand\n");
  EXPECT_EQ(json::parse(read_text(shared / "start.json"))["pid"], pid);
  EXPECT_EQ(hook_state("poststart")["status"], "running");

  ASSERT_EQ(oci({"delete", "c1"}).exit_code, 0);
  EXPECT_EQ(read_text(work_.path() / "order"), "prestart\ncreateRuntime\ncreateContainer\npoststart\npoststop\n");
  EXPECT_EQ(hook_state("poststop")["status"], "stopped");
  expect_nothing_left("c1");
}

TEST_F(OciSpecFeaturesTest, AFailingOrSlowHookFailsCreateAndLeavesNothing) {
  config_["process"]["args"] = {"true"};
  config_["hooks"] = {{"createRuntime", {host_hook("createRuntime", "echo 'the hook says no' >&2\nexit 3\n")}}};
  write_config();
  const auto failed = oci_to_files({"create", "--bundle", bundle_.string(), "c1"});
  EXPECT_NE(failed.exit_code, 0);
  EXPECT_NE(failed.err.find("createRuntime hook 0"), std::string::npos) << failed.err;
  EXPECT_NE(failed.err.find("exited with 3: the hook says no"), std::string::npos) << failed.err;
  expect_nothing_left("c1");

  config_["hooks"] = {{"prestart", {{{"path", "/bin/sleep"}, {"args", {"sleep", "30"}}, {"timeout", 1}}}}};
  write_config();
  const auto started = std::chrono::steady_clock::now();
  const auto slow = oci_to_files({"create", "--bundle", bundle_.string(), "c1"});
  EXPECT_NE(slow.exit_code, 0);
  EXPECT_NE(slow.err.find("did not finish within its timeout of 1 s"), std::string::npos) << slow.err;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  expect_nothing_left("c1");

  config_["hooks"] = {{"prestart", {{{"path", "relative/hook"}}}}};
  write_config();
  const auto relative = oci_to_files({"create", "--bundle", bundle_.string(), "c1"});
  EXPECT_NE(relative.err.find("hooks.prestart[0].path: \"relative/hook\" is not an absolute path"), std::string::npos)
      << relative.err;
  expect_nothing_left("c1");
}

TEST_F(OciSpecFeaturesTest, AFailedPoststopHookIsOnlyAWarning) {
  config_["process"]["args"] = {"true"};
  config_["hooks"] = {{"poststop", {host_hook("poststop", "exit 1\n")}}};
  write_config();
  ASSERT_EQ(oci_to_files({"run", "--bundle", bundle_.string(), "c1"}).exit_code, 0);
  EXPECT_NE(read_text(work_.path() / "err").find("warning: poststop hook 0"), std::string::npos)
      << read_text(work_.path() / "err");
  expect_nothing_left("c1");
}

TEST_F(OciSpecFeaturesTest, ACreateKilledMidwayLeavesAContainerThatDeleteCleansUp) {
  config_["process"]["args"] = {"true"};
  // The hook runs while the init waits in its group, its namespaces and mounts made.
  config_["hooks"] = {{"createRuntime", {host_hook("createRuntime", "echo $$ > '" + (work_.path() / "hook.pid").string() +
                                                                     "'\nexec sleep 60\n")}}};
  write_config();
  std::string command;
  for (const auto& arg : oci_argv({"create", "--bundle", bundle_.string(), "c1"})) command += "'" + arg + "' ";
  const auto spawned = run_command({"/bin/sh", "-c", command + "</dev/null >/dev/null 2>&1 & echo $!"});
  const pid_t creator = std::stoi(spawned.out);
  for (int i = 0; i < 500 && read_text(work_.path() / "hook.pid").empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_FALSE(read_text(work_.path() / "hook.pid").empty()) << "the hook never ran";
  EXPECT_EQ(state("c1")["status"], "creating");
  ASSERT_EQ(::kill(creator, SIGKILL), 0);
  wait_until_gone(creator);
  ::kill(std::stoi(read_text(work_.path() / "hook.pid")), SIGKILL);

  // The init waited for its hooks on the sync socket, whose end of file makes it exit: nothing of it
  // may outlive the container's group.
  EXPECT_EQ(state("c1")["status"], "stopped") << "its create is gone";
  const auto deleted = oci({"delete", "c1"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  expect_nothing_left("c1");

  // Killed before its first save: a directory alone, which delete removes too.
  fs::create_directories(root() / "c2");
  EXPECT_EQ(oci({"delete", "c2"}).exit_code, 0);
  EXPECT_FALSE(fs::exists(root() / "c2"));
}

TEST_F(OciSpecFeaturesTest, ExecWaitsForStart) {
  config_["process"]["args"] = {"sleep", "30"};
  write_config();
  ASSERT_EQ(oci_to_files({"create", "--bundle", bundle_.string(), "c1"}).exit_code, 0);
  // The created init is still mcore-oci's own image: nothing may join it yet.
  const auto early = oci({"exec", "c1", "true"});
  EXPECT_NE(early.exit_code, 0);
  EXPECT_NE(early.err.find("cannot exec in a created container"), std::string::npos) << early.err;
  ASSERT_EQ(oci({"start", "c1"}).exit_code, 0);
  const auto later = oci({"exec", "c1", "true"});
  EXPECT_EQ(later.exit_code, 0) << later.err;
  EXPECT_EQ(oci({"delete", "--force", "c1"}).exit_code, 0);
  expect_nothing_left("c1");
}

TEST_F(OciSpecFeaturesTest, UpdateChangesTheLimitsOfALiveContainer) {
  config_["linux"]["resources"] = {{"pids", {{"limit", 5}}}, {"memory", {{"limit", 64 << 20}}}};
  config_["process"]["args"] = {"sleep", "30"};
  write_config();
  ASSERT_EQ(oci_to_files({"create", "--bundle", bundle_.string(), "c1"}).exit_code, 0);
  ASSERT_EQ(oci({"start", "c1"}).exit_code, 0);

  const auto updated = run_command(oci_argv({"update", "--resources", "-", "c1"}),
                                   R"({"pids": {"limit": 50}, "memory": {"limit": 134217728}})");
  ASSERT_EQ(updated.exit_code, 0) << updated.err;
  EXPECT_EQ(group_file("c1", "pids.max"), "50\n");
  const std::string memory = group_file("c1", "memory.limit_in_bytes") + group_file("c1", "memory.max");
  EXPECT_EQ(memory, "134217728\n");

  const fs::path file = work_.path() / "resources.json";
  std::ofstream(file) << R"({"cpu": {"shares": 1}})";
  const auto refused = oci({"update", "--resources", file.string(), "c1"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("shares"), std::string::npos) << refused.err;
  EXPECT_EQ(group_file("c1", "pids.max"), "50\n") << "a refused update changes nothing";

  std::ofstream(file) << R"({"memory": {"limit": "lots"}})";
  const auto malformed = oci({"update", "--resources", file.string(), "c1"});
  EXPECT_NE(malformed.err.find("memory.limit"), std::string::npos) << malformed.err;
  EXPECT_NE(oci({"update", "--resources", file.string(), "c9"}).err.find("does not exist"), std::string::npos);
  EXPECT_EQ(oci({"delete", "--force", "c1"}).exit_code, 0);
  expect_nothing_left("c1");
}

TEST_F(OciSpecFeaturesTest, DevicesAreCreatedAsGivenAndOpenOnlyWhenARuleAllowsThem) {
  // /dev/kmsg is char 1:11, not among the default devices; reading it takes CAP_SYSLOG.
  for (const char* set : {"bounding", "effective", "permitted"}) config_["process"]["capabilities"][set].push_back("CAP_SYSLOG");
  config_["linux"]["devices"] = {{{"path", "/dev/kmsg"}, {"type", "c"}, {"major", 1}, {"minor", 11}, {"fileMode", 0644},
                                  {"uid", 1000}, {"gid", 1001}},
                                 {{"path", "/dev/extra/fifo"}, {"type", "p"}, {"fileMode", 0600}}};
  config_["process"]["args"] = {"sh", "-c",
                                "stat -c '%F %t:%T %a %u:%g' /dev/kmsg; stat -c '%F %a' /dev/extra/fifo;"
                                ": < /dev/kmsg && echo kmsg-opened"};
  config_["linux"]["resources"]["devices"] = {{{"allow", false}, {"access", "rwm"}},
                                              {{"allow", true}, {"type", "c"}, {"major", 1}, {"minor", 11}, {"access", "r"}}};
  write_config();
  const auto allowed = oci_to_files({"run", "--bundle", bundle_.string(), "c1"});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.err;
  EXPECT_EQ(allowed.out, "character special file 1:b 644 1000:1001\nfifo 600\nkmsg-opened\n") << allowed.err;

  config_["linux"]["resources"]["devices"] = {{{"allow", false}, {"access", "rwm"}}};
  config_["linux"]["cgroupsPath"] = cgroups_path("c2");
  write_config();
  const auto denied = oci_to_files({"run", "--bundle", bundle_.string(), "c2"});
  EXPECT_EQ(denied.out.find("kmsg-opened"), std::string::npos) << denied.out;
  EXPECT_NE(denied.err.find("Operation not permitted"), std::string::npos) << denied.err;

  config_["linux"]["devices"] = {{{"path", "/dev/../etc/x"}, {"type", "c"}, {"major", 1}, {"minor", 3}}};
  write_config();
  const auto escaping = oci_to_files({"create", "--bundle", bundle_.string(), "c2"});
  EXPECT_NE(escaping.err.find("linux.devices[0].path"), std::string::npos) << escaping.err;
  expect_nothing_left("c1");
  expect_nothing_left("c2");
}

TEST_F(OciSpecFeaturesTest, TmpcopyupStartsTheTmpfsWithWhatTheRootHeldThere) {
  const fs::path seed = work_.path() / "rootfs" / "seed";
  fs::create_directories(seed / "sub");
  std::ofstream(seed / "sub" / "file") << "from the image\n";
  fs::permissions(seed / "sub" / "file", fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  fs::create_symlink("sub/file", seed / "link");
  config_["mounts"].push_back({{"destination", "/seed"}, {"type", "tmpfs"}, {"source", "tmpfs"},
                               {"options", {"nosuid", "tmpcopyup", "mode=755"}}});
  config_["process"]["args"] = {"sh", "-c",
                                "cat /seed/link; stat -c %a /seed/sub/file; grep ' /seed ' /proc/mounts | cut -d' ' -f3;"
                                "echo new > /seed/sub/new && echo written"};
  write_config();
  const auto result = oci_to_files({"run", "--bundle", bundle_.string(), "c1"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "from the image\n640\ntmpfs\nwritten\n") << result.err;
  EXPECT_FALSE(fs::exists(seed / "sub" / "new")) << "the write went through to the root";

  config_["mounts"].back()["type"] = "bind";
  config_["mounts"].back()["source"] = seed.string();
  write_config();
  const auto refused = oci_to_files({"create", "--bundle", bundle_.string(), "c1"});
  EXPECT_NE(refused.err.find("\"tmpcopyup\" is for tmpfs mounts only"), std::string::npos) << refused.err;
  expect_nothing_left("c1");
}

// A host directory that is a shared mount of its own, as kubelet's pod volumes are; unmounted, with
// whatever was mounted below it, when the test ends.
class SharedHostDirectory {
 public:
  explicit SharedHostDirectory(const fs::path& dir) : dir_(dir) {
    fs::create_directories(dir);
    mounted_ = ::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr) == 0 &&
               ::mount(nullptr, dir.c_str(), nullptr, MS_SHARED, nullptr) == 0;
  }
  ~SharedHostDirectory() { ::umount2(dir_.c_str(), MNT_DETACH); }
  SharedHostDirectory(const SharedHostDirectory&) = delete;
  SharedHostDirectory& operator=(const SharedHostDirectory&) = delete;
  bool mounted() const { return mounted_; }

 private:
  fs::path dir_;
  bool mounted_ = false;
};

bool is_mount_point(const fs::path& dir) {
  struct stat self {};
  struct stat parent {};
  return ::stat(dir.c_str(), &self) == 0 && ::stat(dir.parent_path().c_str(), &parent) == 0 &&
         self.st_dev != parent.st_dev;
}

// rootfsPropagation "rslave" or "rshared": a tmpfs the host mounts into a shared volume after start
// reaches the container; by default (private) it does not. Nothing the container mounts reaches the
// host, even with "rshared".
TEST_F(OciSpecFeaturesTest, RootfsPropagationLetsHostMountsInAndNothingOut) {
  const fs::path volume = work_.path() / "volume";
  SharedHostDirectory shared(volume);
  ASSERT_TRUE(shared.mounted());
  fs::create_directories(volume / "later");
  fs::create_directories(volume / "own");
  config_["mounts"].push_back(
      {{"destination", "/mnt"}, {"type", "bind"}, {"source", volume.string()}, {"options", {"rbind"}}});
  for (const char* set : {"bounding", "effective", "permitted"}) {
    config_["process"]["capabilities"][set].push_back("CAP_SYS_ADMIN");
  }
  config_["process"]["args"] = {
      "sh", "-c",
      "mount -t tmpfs own /mnt/own && echo mounted; awk '$5 == \"/\" && / shared:/ { print \"root-shared\" }' /proc/self/mountinfo;"
      "i=0; while [ ! -e /mnt/later/marker ] && [ $i -lt 30 ]; do sleep 0.1; i=$((i+1)); done;"
      "cat /mnt/later/marker || echo unseen"};
  const auto run_with = [&](const char* propagation) {
    if (propagation != nullptr) config_["linux"]["rootfsPropagation"] = propagation;
    write_config();
    const auto created = oci_to_files({"create", "--bundle", bundle_.string(), "c1"});
    EXPECT_EQ(created.exit_code, 0) << created.err;
    const pid_t pid = state("c1").value("pid", 0);
    EXPECT_EQ(oci({"start", "c1"}).exit_code, 0);
    EXPECT_EQ(::mount("later", (volume / "later").c_str(), "tmpfs", 0, nullptr), 0);
    std::ofstream(volume / "later" / "marker") << "seen\n";
    wait_until_gone(pid);
    EXPECT_FALSE(is_mount_point(volume / "own")) << "the container's mount reached the host";
    ::umount2((volume / "later").c_str(), MNT_DETACH);
    EXPECT_EQ(oci({"delete", "c1"}).exit_code, 0);
    return read_text(work_.path() / "out");
  };
  EXPECT_EQ(run_with(nullptr), "mounted\nunseen\n");
  EXPECT_EQ(run_with("rslave"), "mounted\nseen\n");
  EXPECT_EQ(run_with("rshared"), "mounted\nroot-shared\nseen\n");

  config_["linux"]["rootfsPropagation"] = "rsharde";
  write_config();
  const auto refused = oci({"create", "--bundle", bundle_.string(), "c1"});
  EXPECT_NE(refused.err.find("linux.rootfsPropagation: unknown propagation \"rsharde\""), std::string::npos)
      << refused.err;
  expect_nothing_left("c1");
}

}  // namespace
}  // namespace mcore::test
