// The third-party example examples/registry-oci-layout as its users get it: this build tree installed
// into a clean temporary root, the example configured and built out of tree against that install only,
// selected by the config file, then `mcore pull` and `mcore run` from OCI layouts on disk, and an
// unknown tag refused with one line. The install and the build happen once for the whole suite.
#include <sys/utsname.h>

#include <algorithm>
#include <memory>

#include <gtest/gtest.h>

#include "oci_image_builder.hpp"
#include "test_support.hpp"

namespace mcore::test {
namespace {
namespace fs = std::filesystem;

const std::string kExampleSource = std::string(MCORE_SOURCE_DIR) + "/examples/registry-oci-layout";
const std::string kPluginFile = "mcore-registry-oci-layout.so";

std::string describe(const std::vector<std::string>& argv, const CommandResult& result) {
  std::string line;
  for (const auto& arg : argv) line += arg + " ";
  return line + "exited " + std::to_string(result.exit_code) + "\n" + result.out + result.err;
}

// The architecture the engine asks a registry for on this machine, in GOARCH spelling.
std::string host_architecture() {
  utsname names{};
  ::uname(&names);
  const std::string machine = names.machine;
  if (machine == "x86_64") return "amd64";
  if (machine == "aarch64") return "arm64";
  return machine;
}

// busybox with the applets the tests run, then a layer of its own holding /etc/marker.
std::vector<Layer> marked_image(const std::string& marker) {
  Layer base = {LayerEntry::directory("bin"),
                LayerEntry::file("bin/busybox", read_text("/bin/busybox"), 0755)};
  for (const char* applet : {"sh", "cat"})
    base.push_back(LayerEntry::symlink(std::string("bin/") + applet, "busybox"));
  return {base, {LayerEntry::directory("etc"), LayerEntry::file("etc/marker", marker + "\n")}};
}

class OciLayoutExampleTest : public ::testing::Test {
 protected:
  // Installs the tree (DESTDIR: the compiled-in plugin directory is absolute, so --prefix would put the
  // in-tree plugins on the host), then builds and installs the example against that install.
  static void SetUpTestSuite() {
    if (!running_as_root()) return;
    work_ = std::make_unique<TempDir>("mcore-oci-example");
    const fs::path stage = work_->path() / "stage";
    prefix_ = stage / fs::path(MCORE_INSTALL_PREFIX).relative_path();
    const fs::path build = work_->path() / "example-build";
    const std::vector<std::vector<std::string>> steps = {
        {MCORE_CMAKE_COMMAND, "--install", MCORE_BUILD_DIR},
        {MCORE_CMAKE_COMMAND, "-S", kExampleSource, "-B", build.string(),
         "-DCMAKE_PREFIX_PATH=" + prefix_.string(), "-DCMAKE_CXX_COMPILER=" MCORE_CXX_COMPILER,
         "-DMCORE_EXAMPLE_CONFORMANCE=ON"},
        {MCORE_CMAKE_COMMAND, "--build", build.string(), "--parallel", "2"},
        {MCORE_CMAKE_COMMAND, "--install", build.string()},
    };
    for (std::size_t i = 0; i < steps.size(); ++i) {
      // Only the tree's own install is staged; the example installs where the staged SDK says.
      const auto env = i == 0 ? std::map<std::string, std::string>{{"DESTDIR", stage.string()}}
                              : std::map<std::string, std::string>{};
      const auto result = run_command(steps[i], "", env);
      if (result.exit_code != 0) {
        setup_failure_ = describe(steps[i], result);
        return;
      }
    }
    built_plugin_ = build / kPluginFile;
    conformance_test_ = build / "oci_layout_conformance";
  }

  static void TearDownTestSuite() { work_.reset(); }

  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    ASSERT_TRUE(setup_failure_.empty()) << "building the example failed: " << setup_failure_;
    ASSERT_TRUE(fs::exists(built_plugin_)) << built_plugin_;
    layouts_ = std::make_unique<TempDir>("mcore-oci-layouts");
    sandbox_ = std::make_unique<McoreSandbox>(
        nlohmann::json{{"drivers", {{"registry", "oci-layout"}}},
                       {"plugin_paths", {{"registry", built_plugin_.string()}}},
                       {"registry", {{"root", layouts_->path().string()}}}});
  }

  // The layout of `repository` below the driver's root, as an OCI tool would write it.
  OciImageBuilder layout(const std::string& repository) const {
    return OciImageBuilder(layouts_->path() / repository);
  }

  CommandResult mcore(const std::vector<std::string>& args) const { return sandbox_->mcore(args); }

  static inline std::unique_ptr<TempDir> work_;
  static inline fs::path prefix_;  // the staged install prefix (its DESTDIR included)
  static inline fs::path built_plugin_;
  static inline fs::path conformance_test_;  // the SDK's Registry kit, built with the example
  static inline std::string setup_failure_;
  std::unique_ptr<TempDir> layouts_;
  std::unique_ptr<McoreSandbox> sandbox_;
};

TEST_F(OciLayoutExampleTest, PullsATagFromALayoutAndRunsIt) {
  auto builder = layout("demo/busybox");
  builder.tag(builder.add_image(marked_image("from the layout"), host_architecture()), "1.0");

  const auto pulled = mcore({"pull", "-q", "demo/busybox:1.0"});
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  const auto ran = mcore({"run", "--rm", "--pull=never", "demo/busybox:1.0", "cat", "/etc/marker"});
  EXPECT_EQ(ran.exit_code, 0) << ran.err;
  EXPECT_EQ(ran.out, "from the layout\n");
}

TEST_F(OciLayoutExampleTest, SelectsTheHostPlatformFromAnIndexAndPullsByDigest) {
  auto builder = layout("demo/multi");
  const auto host = builder.add_image(marked_image("host"), host_architecture());
  const auto other =
      builder.add_image(marked_image("other"), host_architecture() == "s390x" ? "ppc64le" : "s390x");
  builder.tag_index({other, host}, "latest");

  const auto ran = mcore({"run", "--rm", "demo/multi", "cat", "/etc/marker"});
  EXPECT_EQ(ran.exit_code, 0) << ran.err;
  EXPECT_EQ(ran.out, "host\n");
  // The image manifest itself, named by digest and absent from index.json, resolves too.
  const auto by_digest = mcore({"pull", "-q", "demo/multi@" + host.manifest_digest});
  EXPECT_EQ(by_digest.exit_code, 0) << by_digest.err;
}

TEST_F(OciLayoutExampleTest, AnUnknownTagFailsWithOneLineNamingTheTagAndTheIndex) {
  auto builder = layout("demo/busybox");
  builder.tag(builder.add_image(marked_image("x"), host_architecture()), "1.0");

  const auto pulled = mcore({"pull", "-q", "demo/busybox:nope"});
  EXPECT_EQ(pulled.exit_code, 125);
  EXPECT_EQ(std::count(pulled.err.begin(), pulled.err.end(), '\n'), 1) << pulled.err;
  const std::string index = (layouts_->path() / "demo/busybox/index.json").string();
  EXPECT_NE(pulled.err.find("\"nope\""), std::string::npos) << pulled.err;
  EXPECT_NE(pulled.err.find(index), std::string::npos) << pulled.err;
  EXPECT_NE(pulled.err.find("it names 1.0"), std::string::npos) << pulled.err;
  EXPECT_EQ(mcore({"images", "-q"}).out, "");
}

TEST_F(OciLayoutExampleTest, TheExamplePassesTheRegistryConformanceKit) {
  auto builder = layout("conformance/app");
  const auto image = builder.add_image(marked_image("kit"), host_architecture());
  builder.tag(image, "v1");
  const auto result = run_command({conformance_test_.string()}, "",
                                  {{"OCI_LAYOUT_ROOT", layouts_->path().string()},
                                   {"OCI_LAYOUT_IMAGE", "conformance/app:v1"},
                                   {"OCI_LAYOUT_DIGEST", image.manifest_digest}});
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_EQ(result.out.find("[  FAILED  ]"), std::string::npos) << result.out;
  // Passed, not skipped: only the login cases skip (a layout checks no credentials).
  const auto passed = result.out.find("[  PASSED  ] ");
  ASSERT_NE(passed, std::string::npos) << result.out;
  EXPECT_GE(std::stoi(result.out.substr(passed + 13)), 5) << result.out;
}

TEST_F(OciLayoutExampleTest, TheInstalledPluginIsListedAsCompatible) {
  const auto plugin_dir = prefix_ / "lib/mcore/plugins";
  ASSERT_TRUE(fs::exists(plugin_dir / kPluginFile)) << "cmake --install did not put it in " << plugin_dir;
  const auto listed = mcore({"--plugin-dir", plugin_dir.string(), "plugins", "--format", "json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const auto plugins = nlohmann::json::parse(listed.out);
  const auto found = std::find_if(plugins.begin(), plugins.end(), [&](const nlohmann::json& plugin) {
    return plugin["path"] == (plugin_dir / kPluginFile).string();
  });
  ASSERT_NE(found, plugins.end()) << listed.out;
  EXPECT_EQ((*found)["name"], "oci-layout");
  EXPECT_EQ((*found)["kind"], "registry");
  EXPECT_EQ((*found)["status"], "ok") << listed.out;
}

}  // namespace
}  // namespace mcore::test
