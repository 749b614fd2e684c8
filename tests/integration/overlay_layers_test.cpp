// Layers from the overlay driver's store, stacked by the kernel: the mount prepare_rootfs describes,
// performed as described in a child's private mount namespace (it dies with the child), shows whiteouts
// and opaque directories applied, and long stacks fit in mount(2)'s single page of options.
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mcore/error.hpp"
#include "mcore/storage_driver.hpp"
#include "plugin_driver.hpp"
#include "tar_writer.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using mcore::test::make_tar;
using mcore::test::StringSource;
using mcore::test::tar_dir;
using mcore::test::tar_file;

namespace {

// A made-up diff_id: distinct, random-looking prefixes like real sha256 digests.
std::string layer_id(unsigned seed) {
  std::mt19937_64 random(seed);
  std::string hex;
  while (hex.size() < 64) {
    char part[17];
    std::snprintf(part, sizeof part, "%016llx", static_cast<unsigned long long>(random()));
    hex += part;
  }
  return "sha256:" + hex;
}

bool file_is(const fs::path& path, const std::string& expected) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()) == expected;
}

bool missing(const fs::path& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) != 0 && errno == ENOENT;
}

// Forks; the child mounts the plan exactly as described in a new private mount namespace, then runs the
// checks. Returns "" or what failed.
std::string check_mounted(const mcore::RootfsPlan& plan,
                          const std::vector<std::pair<std::string, std::function<bool()>>>& checks) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return "pipe failed";
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return "fork failed";
  if (pid == 0) {
    ::close(pipe_fds[0]);
    std::string failure;
    if (::unshare(CLONE_NEWNS) != 0) {
      failure = "unshare(CLONE_NEWNS)";
    } else if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      failure = "make / private";
    } else {
      for (const auto& m : plan.mounts) {
        // Like the engine: the options may hold paths relative to the mount's working directory.
        if (!m.working_directory.empty() && ::chdir(m.working_directory.c_str()) != 0) {
          failure = "chdir " + m.working_directory.string() + ": " + std::strerror(errno);
          break;
        }
        if (::mount(m.source.c_str(), m.target.c_str(), m.fstype.empty() ? nullptr : m.fstype.c_str(),
                    m.flags, m.data.c_str()) != 0) {
          failure = "mount " + m.data + ": " + std::strerror(errno);
          break;
        }
      }
      for (std::size_t i = 0; failure.empty() && i < checks.size(); ++i) {
        if (!checks[i].second()) failure = checks[i].first;
      }
    }
    const ssize_t ignored = ::write(pipe_fds[1], failure.data(), failure.size());
    (void)ignored;
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string failure;
  char buffer[4096];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    failure.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failure += " (child died)";
  return failure;
}

class OverlayLayersTest : public ::testing::Test {
 protected:
  void SetUp() override { MCORE_REQUIRE_ROOT(); }
  void TearDown() override { driver_.reset(); }

  // The driver, with its store at `root` when given (short roots allow longer stacks).
  void make_driver(const std::string& root = "") {
    mcore::HostContext context;
    context.config_path = "storage";
    if (!root.empty()) context.config = nlohmann::json{{"root", root}};
    context.data_root = dir_.path() / "data";
    context.state_root = dir_.path() / "state";
    driver_ = mcore::test::load_plugin_driver<mcore::StorageDriver>("mcore-storage-overlay.so", context);
  }

  void apply(const std::string& id, const std::vector<mcore::test::TarEntry>& entries) {
    StringSource source(make_tar(entries), 4096);
    driver_->apply_layer(id, source);
  }

  // Short: "/var/tmp/ml-XXXXXX", so that 128 layers fit below it.
  mcore::test::TempDir dir_{"ml"};
  std::shared_ptr<mcore::StorageDriver> driver_;
};

TEST_F(OverlayLayersTest, WhiteoutsAndOpaqueDirectoriesHideTheLowerLayersContent) {
  make_driver();
  const std::string base = layer_id(1);
  const std::string top = layer_id(2);
  apply(base,
        {tar_dir("etc"), tar_file("etc/keep", "kept"), tar_file("etc/gone", "deleted above"), tar_dir("opq"),
         tar_file("opq/old", "hidden"), tar_dir("opq/sub"), tar_file("opq/sub/x", "hidden")});
  apply(top, {tar_file("etc/.wh.gone", ""), tar_file("opq/.wh..wh..opq", ""), tar_file("opq/new", "upper")});

  const auto plan =
      driver_->prepare_rootfs({.container_id = "c1", .layers = {base, top}, .external_lowers = {}});
  const fs::path m = plan.rootfs;
  const std::string failure = check_mounted(
      plan, {
                {"etc/keep shows the base layer's content", [&] { return file_is(m / "etc/keep", "kept"); }},
                {"etc/gone is deleted by the whiteout", [&] { return missing(m / "etc/gone"); }},
                {"no .wh. entries are visible",
                 [&] { return missing(m / "etc/.wh.gone") && missing(m / "opq/.wh..wh..opq"); }},
                {"opq/new shows the top layer's content", [&] { return file_is(m / "opq/new", "upper"); }},
                {"opq/old is hidden by the opaque directory", [&] { return missing(m / "opq/old"); }},
                {"opq/sub is hidden by the opaque directory", [&] { return missing(m / "opq/sub"); }},
            });
  EXPECT_EQ(failure, "") << "mounted rootfs: expected " << failure;
  driver_->release_rootfs("c1");
  driver_->remove_layer(base);
  driver_->remove_layer(top);
}

// The case: many layers below a root at least as long as the default
// /var/lib/mcore/storage/overlay. Relative options keep each layer at 9 bytes whatever the root.
TEST_F(OverlayLayersTest, OneHundredTwentyEightLayersMountBelowALongRoot) {
  const fs::path root = dir_.path() / std::string(80, 'r');
  ASSERT_GE(root.string().size(), 80u);
  make_driver(root.string());
  std::vector<std::string> layers;
  for (unsigned i = 0; i < 128; ++i) {
    layers.push_back(layer_id(100 + i));
    apply(layers.back(),
          {tar_file("layer-" + std::to_string(i), "here"), tar_file("top", std::to_string(i))});
  }
  const auto plan = driver_->prepare_rootfs({.container_id = "c1", .layers = layers, .external_lowers = {}});
  ASSERT_EQ(plan.mounts.size(), 1u);
  EXPECT_EQ(plan.mounts[0].working_directory, root);
  EXPECT_LT(plan.mounts[0].data.size(), 128u * 9 + 100) << plan.mounts[0].data;
  std::printf("128 layers: %zu bytes of overlay options below a %zu-character root\n",
              plan.mounts[0].data.size(), root.string().size());
  const fs::path m = plan.rootfs;
  const std::string failure =
      check_mounted(plan, {
                              {"the bottom layer's file", [&] { return file_is(m / "layer-0", "here"); }},
                              {"the top layer's file", [&] { return file_is(m / "layer-127", "here"); }},
                              {"the topmost layer wins", [&] { return file_is(m / "top", "127"); }},
                          });
  EXPECT_EQ(failure, "") << "mounted rootfs: expected " << failure;
  driver_->release_rootfs("c1");
}

TEST_F(OverlayLayersTest, StacksBeyondOnePageOfOptionsAreRefusedWithTheReason) {
  make_driver((dir_.path() / "s").string());
  std::vector<std::string> layers;
  for (unsigned i = 0; i < 1000; ++i) {  // 9 bytes each: over a page even with the shortest root
    layers.push_back(layer_id(100 + i));
    apply(layers.back(), {tar_file("f", "x")});
  }
  try {
    driver_->prepare_rootfs({.container_id = "c1", .layers = layers, .external_lowers = {}});
    ADD_FAILURE() << "1000 layers fit in one page of options?";
  } catch (const mcore::Error& error) {
    EXPECT_NE(std::string(error.what()).find("bytes mount(2) accepts"), std::string::npos) << error.what();
    EXPECT_NE(error.hint().find("fewer layers"), std::string::npos) << error.hint();
  }
  EXPECT_FALSE(fs::exists(dir_.path() / "s" / "containers" / "c1"));
}

}  // namespace
