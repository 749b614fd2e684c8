// mcore run --uidmap: a container whose root is not the host's root. Inside, id says root and the
// image's files belong to root; outside, what it writes belongs to the mapped ids; a root-owned host
// file bound in stays read-only to it, device nodes cannot be made, and mcore exec joins the same
// user namespace. All through the mcore binary against the real kernel (docs/user-namespaces.md).
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace mcore::test {
namespace {
namespace fs = std::filesystem;

constexpr uid_t kContainerRoot = 100000;  // what the container's 0 is on the host

class UserNamespaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    sandbox_ = std::make_unique<McoreSandbox>();
  }

  CommandResult run(const std::vector<std::string>& flags, const std::string& script) {
    std::vector<std::string> args{"run", "--network", "none", "--rootfs", shared_busybox_rootfs().string()};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {"sh", "-c", script});
    return sandbox_->mcore(args);
  }

  std::unique_ptr<McoreSandbox> sandbox_;
};

TEST_F(UserNamespaceTest, RootInsideIsAMappedIdOutside) {
  TempDir shared("mcore-userns");
  ::chmod(shared.path().c_str(), 0777);
  auto result =
      run({"--rm", "--uidmap", "0:100000:65536", "-v", shared.path().string() + ":/shared"},
          "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; stat -c '%u:%g' /bin/busybox /; "
          "touch /shared/made && echo wrote");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(result.out.starts_with("0\n0\n")) << result.out;
  EXPECT_NE(result.out.find("0     100000      65536"), std::string::npos)
      << "the map as the kernel shows it: " << result.out;
  EXPECT_NE(result.out.find("0:0\n0:0\n"), std::string::npos)
      << "the image's files and / belong to its root: " << result.out;
  ASSERT_NE(result.out.find("wrote"), std::string::npos) << result.out << result.err;
  struct stat made {};
  ASSERT_EQ(::stat((shared.path() / "made").c_str(), &made), 0);
  EXPECT_EQ(made.st_uid, kContainerRoot)
      << "a file the container's root creates is the mapped id on the host";
  EXPECT_EQ(made.st_gid, kContainerRoot);
}

TEST_F(UserNamespaceTest, TheHostsRootFilesAndDevicesStayOutOfReach) {
  TempDir dir("mcore-userns");
  const fs::path secret = dir.path() / "secret";
  std::ofstream(secret) << "host\n";
  ::chmod(secret.c_str(), 0644);
  auto result = run({"--rm", "--uidmap", "0:100000:65536", "-v", secret.string() + ":/secret"},
                    "echo changed >> /secret 2>&1 || echo write-refused; "
                    "mknod /tmp/disk b 8 0 2>&1 || echo mknod-refused; "
                    "head -c 1 /dev/zero | wc -c");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("write-refused"), std::string::npos) << result.out;
  EXPECT_EQ(read_text(secret), "host\n") << "root in the container is not root over the host's files";
  EXPECT_NE(result.out.find("mknod-refused"), std::string::npos)
      << "CAP_MKNOD counts only in its namespace: " << result.out;
  EXPECT_TRUE(result.out.ends_with("1\n")) << "/dev/zero is the host's node, bound in: " << result.out;

  // Without a user namespace the same root writes the file: the refusal above is the namespace's.
  auto shared = run({"--rm", "-v", secret.string() + ":/secret"}, "echo changed >> /secret && echo wrote");
  EXPECT_NE(shared.out.find("wrote"), std::string::npos) << shared.out << shared.err;
}

// -v SRC:DST:idmap shows SRC through the container's maps: host root's files are its root's, and what
// its root writes there is host root's. Without idmap the same files are nobody's and read-only to it.
TEST_F(UserNamespaceTest, AnIdmapVolumeSeesHostIdsThroughTheMap) {
  TempDir dir("mcore-userns");
  ::chmod(dir.path().c_str(), 0755);
  std::ofstream(dir.path() / "owned") << "host\n";
  const std::string source = dir.path().string();
  auto result =
      run({"--rm", "--uidmap", "0:100000:65536", "-v", source + ":/plain", "-v", source + ":/mapped:idmap",
           "-v", source + ":/mapped-ro:ro,idmap"},
          "stat -c %u /plain/owned /mapped/owned; touch /plain/x 2>/dev/null || echo plain-refused; "
          "touch /mapped/made && echo mapped-wrote; touch /mapped-ro/y 2>/dev/null || echo ro-refused");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(result.out.starts_with("65534\n0\n"))
      << "unmapped host root is nobody; idmapped, root: " << result.out;
  EXPECT_NE(result.out.find("plain-refused"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("mapped-wrote"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("ro-refused"), std::string::npos) << result.out;
  struct stat made {};
  ASSERT_EQ(::stat((dir.path() / "made").c_str(), &made), 0);
  EXPECT_EQ(made.st_uid, 0U) << "the container's root writes through the idmap as host root";
  EXPECT_FALSE(fs::exists(dir.path() / "x"));
  EXPECT_FALSE(fs::exists(dir.path() / "y"));

  auto unmapped = run({"--rm", "-v", source + ":/mapped:idmap"}, "true");
  EXPECT_EQ(unmapped.exit_code, 125);
  EXPECT_NE(unmapped.err.find("idmap needs a user namespace"), std::string::npos) << unmapped.err;
}

// From an image in the store: its layers are the ones mounted idmapped.
TEST_F(UserNamespaceTest, ExecJoinsTheUserNamespaceAndInspectShowsTheMaps) {
  TempDir dir("mcore-userns");
  const std::string archive = (dir.path() / "rootfs.tar").string();
  ASSERT_EQ(run_command({"/bin/tar", "-C", shared_busybox_rootfs().string(), "-cf", archive, "."}).exit_code,
            0);
  auto imported = sandbox_->mcore({"import", archive, "userns-base"});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  auto started = sandbox_->mcore({"run", "-d", "--network", "none", "--name", "mapped", "--uidmap",
                                  "0:100000:65536", "--gidmap", "0:200000:65536", "userns-base", "sh", "-c",
                                  "touch /made-by-init; exec sleep 1000"});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  auto inside =
      sandbox_->mcore({"exec", "mapped", "sh", "-c",
                       "cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c %u /made-by-init"});
  ASSERT_EQ(inside.exit_code, 0) << inside.err;
  EXPECT_NE(inside.out.find("100000"), std::string::npos) << inside.out;
  EXPECT_NE(inside.out.find("200000"), std::string::npos) << inside.out;
  EXPECT_TRUE(inside.out.ends_with("0\n0\n")) << inside.out;

  auto inspect = sandbox_->mcore({"inspect", "mapped"});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  const auto host_config = nlohmann::json::parse(inspect.out)[0]["HostConfig"];
  EXPECT_EQ(host_config["UsernsMode"], "private");
  EXPECT_EQ(host_config["IDMappings"]["UidMap"], nlohmann::json::array({"0:100000:65536"}));
  EXPECT_EQ(host_config["IDMappings"]["GidMap"], nlohmann::json::array({"0:200000:65536"}));

  EXPECT_EQ(sandbox_->mcore({"rm", "-f", "mapped"}).exit_code, 0);
}

// commit maps the writable layer's host ids back through the container's maps: the image holds the
// ids the container saw, whoever runs it next.
TEST_F(UserNamespaceTest, CommitKeepsTheIdsTheContainerSaw) {
  TempDir dir("mcore-userns");
  const std::string archive = (dir.path() / "rootfs.tar").string();
  ASSERT_EQ(run_command({"/bin/tar", "-C", shared_busybox_rootfs().string(), "-cf", archive, "."}).exit_code,
            0);
  ASSERT_EQ(sandbox_->mcore({"import", archive, "userns-base"}).exit_code, 0);
  auto changed = sandbox_->mcore({"run", "--name", "mapped", "--network", "none", "--uidmap",
                                  "0:100000:65536", "--gidmap", "0:200000:65536", "userns-base", "sh", "-c",
                                  "mkdir /data && touch /data/root-file /data/user-file && "
                                  "chown 1000:50 /data/user-file && rm /bin/true"});
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  auto commit = sandbox_->mcore({"commit", "mapped", "mapped-image"});
  ASSERT_EQ(commit.exit_code, 0) << commit.err;

  auto plain = sandbox_->mcore(
      {"run", "--rm", "--network", "none", "mapped-image", "sh", "-c",
       "stat -c '%u:%g' /data /data/root-file /data/user-file; ls /bin/true 2>&1 || echo gone"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_TRUE(plain.out.starts_with("0:0\n0:0\n1000:50\n")) << "without a user namespace: " << plain.out;
  EXPECT_NE(plain.out.find("gone"), std::string::npos)
      << "the deletion is a whiteout in the layer: " << plain.out;

  auto mapped = sandbox_->mcore({"run", "--rm", "--network", "none", "--uidmap", "0:300000:65536",
                                 "mapped-image", "stat", "-c", "%u:%g", "/data/user-file"});
  EXPECT_EQ(mapped.out, "1000:50\n") << mapped.err;
  EXPECT_EQ(sandbox_->mcore({"rm", "-f", "mapped"}).exit_code, 0);
}

// The network namespace belongs to the user namespace; host root still wires it to the bridge.
TEST_F(UserNamespaceTest, TheBridgeNetworkReachesAMappedContainer) {
  auto result = sandbox_->mcore({"run", "--rm", "--network", "bridge", "--uidmap", "0:100000:65536",
                                 "--rootfs", shared_busybox_rootfs().string(), "sh", "-c",
                                 "ip -o -4 addr show eth0; cat /etc/hosts"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("inet "), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("localhost"), std::string::npos) << "/etc/hosts is bound in: " << result.out;
}

// --privileged and --network host in a user namespace: the host's device nodes and /sys are bound in
// (mknod and a sysfs of the host's network namespace are not the namespace's to make), and the
// namespace's root is still not root over them.
TEST_F(UserNamespaceTest, PrivilegedAndHostNetworkWorkInAUserNamespace) {
  auto result = sandbox_->mcore(
      {"run", "--rm", "--privileged", "--network", "host", "--uidmap", "0:100000:65536", "--rootfs",
       shared_busybox_rootfs().string(), "sh", "-c",
       "id -u; ls /dev/kmsg && echo has-kmsg; ls /sys/class/net/lo >/dev/null && echo has-lo; "
       "echo 1 > /sys/kernel/profiling 2>/dev/null || echo sys-refused; "
       "mknod /tmp/disk b 8 0 2>/dev/null || echo mknod-refused; readlink /proc/self/ns/net"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(result.out.starts_with("0\n")) << result.out;
  EXPECT_NE(result.out.find("has-kmsg"), std::string::npos) << "the host's devices are there: " << result.out;
  EXPECT_NE(result.out.find("has-lo"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("sys-refused"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("mknod-refused"), std::string::npos) << result.out;
  char host_net[64] = {};
  ASSERT_GT(::readlink("/proc/self/ns/net", host_net, sizeof host_net - 1), 0);
  EXPECT_NE(result.out.find(host_net), std::string::npos) << "the host's network namespace: " << result.out;
}

std::string uid_map_of(const McoreSandbox& sandbox, const std::string& name) {
  auto inspect = sandbox.mcore({"inspect", name});
  if (inspect.exit_code != 0) return "inspect failed: " + inspect.err;
  return nlohmann::json::parse(inspect.out)[0]["HostConfig"]["IDMappings"]["UidMap"].dump();
}

// --userns=auto: each container its own 65536 ids out of the config user's range, never two alike,
// freed by rm; an exhausted range is refused and leaves nothing.
TEST_F(UserNamespaceTest, AutoGivesEachContainerItsOwnRangeUntilRm) {
  // The config's userns_user is a name of the test's own: mcore needs no such account, only the lines.
  const std::string user = "mcore-test-" + std::to_string(::getpid());
  SubordinateIds ids(user + ":1500000000:131072");
  sandbox_->write_config({{"userns_user", user}});
  auto start = [&](const std::string& name) {
    return sandbox_->mcore({"run", "-d", "--network", "none", "--userns=auto", "--name", name, "--rootfs",
                            shared_busybox_rootfs().string(), "sleep", "1000"});
  };
  ASSERT_EQ(start("first").exit_code, 0);
  ASSERT_EQ(start("second").exit_code, 0);
  EXPECT_EQ(uid_map_of(*sandbox_, "first"), R"(["0:1500000000:65536"])");
  EXPECT_EQ(uid_map_of(*sandbox_, "second"), R"(["0:1500065536:65536"])");
  auto inside = sandbox_->mcore(
      {"exec", "second", "sh", "-c", "id -u; cat /proc/self/uid_map; stat -c %u /bin/busybox"});
  EXPECT_EQ(inside.exit_code, 0) << inside.err;
  EXPECT_NE(inside.out.find("1500065536"), std::string::npos) << inside.out;
  EXPECT_TRUE(inside.out.starts_with("0\n") && inside.out.ends_with("\n0\n")) << inside.out;

  auto third = start("third");
  EXPECT_EQ(third.exit_code, 125);
  EXPECT_NE(third.err.find("is taken by a container"), std::string::npos) << third.err;
  EXPECT_EQ(sandbox_->mcore({"inspect", "third"}).exit_code, 1) << "an exhausted range leaves no record";

  ASSERT_EQ(sandbox_->mcore({"rm", "-f", "first"}).exit_code, 0);
  ASSERT_EQ(start("third").exit_code, 0);
  EXPECT_EQ(uid_map_of(*sandbox_, "third"), R"(["0:1500000000:65536"])") << "rm freed the first range";
  EXPECT_EQ(sandbox_->mcore({"rm", "-f", "second", "third"}).exit_code, 0);

  // --userns=private without maps chooses a range the same way.
  auto private_run = sandbox_->mcore({"run", "--rm", "--network", "none", "--userns=private", "--rootfs",
                                      shared_busybox_rootfs().string(), "cat", "/proc/self/uid_map"});
  EXPECT_EQ(private_run.exit_code, 0) << private_run.err;
  EXPECT_NE(private_run.out.find("1500000000"), std::string::npos) << private_run.out;
}

// sysfs takes no idmapped mounts: the one line names the volume and the fix, and nothing is left.
TEST_F(UserNamespaceTest, AnIdmapVolumeOnAFileSystemWithoutIdmappedMountsIsRefused) {
  const std::string mounts_before = read_text("/proc/self/mountinfo");
  auto result = run({"--rm", "--uidmap", "0:100000:65536", "-v", "/sys/kernel:/k:idmap"}, "true");
  EXPECT_EQ(result.exit_code, 125);
  EXPECT_NE(result.err.find(
                "idmap volume /sys/kernel: this kernel or file system does not support idmapped mounts"),
            std::string::npos)
      << result.err;
  EXPECT_EQ(sandbox_->mcore({"ps", "-a", "-q"}).out, "") << "no record of a container that never started";
  EXPECT_EQ(read_text("/proc/self/mountinfo"), mounts_before) << "no mount left behind";
}

TEST_F(UserNamespaceTest, BadMapsFailBeforeAnythingExists) {
  auto unmapped_root = run({"--rm", "--uidmap", "1:100000:65536"}, "true");
  EXPECT_EQ(unmapped_root.exit_code, 125);
  EXPECT_NE(unmapped_root.err.find("--uidmap does not map the container's root (id 0)"), std::string::npos)
      << unmapped_root.err;
  auto overlapping = run({"--rm", "--uidmap", "0:100000:65536", "--uidmap", "10:300000:5"}, "true");
  EXPECT_EQ(overlapping.exit_code, 125);
  EXPECT_NE(overlapping.err.find("--uidmap"), std::string::npos) << overlapping.err;
  auto listed = sandbox_->mcore({"ps", "-a", "-q"});
  EXPECT_EQ(listed.out, "") << "no record of a refused container";
}

}  // namespace
}  // namespace mcore::test
