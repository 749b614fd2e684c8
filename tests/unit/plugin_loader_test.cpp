// The plugin loader against purpose-built plugins (tests/unit/test_plugins): the good one is loaded and
// used, each broken one is refused with its own message, and the Engine's wiring on top of the loader.
#include "engine/context/plugin_loader.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include "engine/context/engine.hpp"
#include "mcore/error.hpp"
#include "mcore/resource_driver.hpp"
#include "test_support.hpp"

namespace mcore::engine {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::IsSubstring;

// Every case directory holds mcore-resource-memory.so, broken in the way the directory is named after.
fs::path case_dir(const std::string& name) { return fs::path(MCORE_TEST_PLUGIN_DIR) / name; }
fs::path case_file(const std::string& name) { return case_dir(name) / "mcore-resource-memory.so"; }

HostContext context(json config = json::object()) {
  HostContext host;
  host.logger = std::make_shared<spdlog::logger>("test");
  host.config = std::move(config);
  host.config_path = "resource";
  host.data_root = "/nonexistent/data";
  host.state_root = "/nonexistent/state";
  return host;
}

std::shared_ptr<ResourceDriver> load_memory_driver(const PluginLoader& loader, json config = json::object()) {
  auto driver = std::dynamic_pointer_cast<ResourceDriver>(
      loader.load(DriverKind::resource, "memory", std::nullopt, context(std::move(config))));
  if (!driver) ADD_FAILURE() << "the good test plugin did not create a ResourceDriver";
  return driver;
}

// The refusal, as "<what> | <hint>", of loading resource driver `driver` from the case directory
// `name` (or from `explicit_path`).
std::string refusal(const std::string& name, const std::string& driver = "memory",
                    std::optional<fs::path> explicit_path = std::nullopt) {
  PluginLoader loader({case_dir(name)});
  try {
    loader.load(DriverKind::resource, driver, explicit_path, context());
  } catch (const Error& error) {
    return std::string(error.what()) + " | " + error.hint();
  }
  ADD_FAILURE() << "the '" << name << "' test plugin was loaded, but should have been refused";
  return "";
}

bool library_is_loaded(const fs::path& file) {
  void* handle = ::dlopen(file.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (handle != nullptr) ::dlclose(handle);
  return handle != nullptr;
}

std::string abi(std::uint32_t major, std::uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

TEST(PluginLoader, FileNameFollowsRoleAndDriver) {
  EXPECT_EQ(plugin_file_name(DriverKind::resource, "cgroup-v2"), "mcore-resource-cgroup-v2.so");
}

TEST(PluginLoader, LoadsTheGoodPluginAndItsDriverWorks) {
  PluginLoader loader({case_dir("good")});
  auto driver = load_memory_driver(loader);
  ASSERT_TRUE(driver);
  ResourceRequest request;
  request.container_id = "c1";
  request.limits.memory_bytes = 1 << 20;
  driver->create(request);
  driver->add_process("c1", 42);
  EXPECT_EQ(driver->stats("c1").pids_current, 1u);
  EXPECT_EQ(driver->stats("c1").memory_limit_bytes, 1u << 20);
  EXPECT_EQ(driver->list(), std::vector<std::string>{"c1"});
  driver->destroy("c1");
  EXPECT_TRUE(driver->list().empty());
}

TEST(PluginLoader, DriverKeepsItsLibraryLoadedAfterTheLoaderIsGone) {
  std::shared_ptr<ResourceDriver> driver;
  {
    PluginLoader loader({case_dir("good")});
    driver = load_memory_driver(loader);
  }
  ASSERT_TRUE(driver);
  EXPECT_TRUE(library_is_loaded(case_file("good")));
  ResourceRequest request;
  request.container_id = "c2";
  driver->create(request);  // plugin code, called after the loader was destroyed
  EXPECT_EQ(driver->group_path("c2"), "/memory/c2");
  driver.reset();
  // What the driver made may outlive it (an exception unwinding past its engine): its library stays.
  EXPECT_TRUE(library_is_loaded(case_file("good"))) << "the library was unloaded with its last driver";
}

TEST(PluginLoader, ADriversExceptionOutlivesTheDriverAndTheLoader) {
  // Issue 14, item 7: the exception unwound past the engine that owned the driver, which unloaded the
  // library, and what() then jumped into unmapped code (a segmentation fault in main's catch).
  auto thrown = [] {
    PluginLoader loader({case_dir("good")});
    auto driver = load_memory_driver(loader);
    driver->freeze("bug");
  };
  try {
    thrown();
    FAIL() << "the test driver threw nothing";
  } catch (const std::exception& error) {
    EXPECT_STREQ(error.what(), "the memory driver's own exception");
  }
}

TEST(PluginLoader, HandsTheConfigSectionToTheDriver) {
  PluginLoader loader({case_dir("good")});
  auto driver = load_memory_driver(loader, {{"max_groups", 1}});
  ASSERT_TRUE(driver);
  ResourceRequest request;
  request.container_id = "a";
  driver->create(request);
  request.container_id = "b";
  EXPECT_THROW(driver->create(request), Error);

  try {
    loader.load(DriverKind::resource, "memory", std::nullopt, context({{"max_grups", 1}}));
    FAIL() << "an unknown key in the driver's section must fail its creation";
  } catch (const Error& error) {
    EXPECT_PRED_FORMAT2(IsSubstring, "resource driver \"memory\": resource.max_grups: unknown key",
                        error.what());
  }
}

TEST(PluginLoader, MissingPluginListsTheDirectoriesSearched) {
  PluginLoader loader({"/nonexistent/one", "/nonexistent/two"});
  try {
    loader.load(DriverKind::resource, "nope", std::nullopt, context());
    FAIL() << "expected an Error";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_PRED_FORMAT2(IsSubstring, "mcore-resource-nope.so", message);
    EXPECT_PRED_FORMAT2(IsSubstring, "/nonexistent/one, /nonexistent/two", message);
    EXPECT_PRED_FORMAT2(IsSubstring, "--plugin-dir", error.hint());
  }
  EXPECT_PRED_FORMAT2(IsSubstring, "/nonexistent/x.so (plugin_paths.resource) does not exist",
                      refusal("good", "memory", fs::path("/nonexistent/x.so")));
}

TEST(PluginLoader, RefusesEachBrokenPluginWithItsOwnMessage) {
  struct Case {
    std::string dir;
    std::vector<std::string> expected;  // each must appear in "<what> | <hint>"
  };
  const std::string mcore_abi = abi(kAbiMajor, kAbiMinor);
  const std::vector<Case> cases = {
      {"not-elf", {"not a shared object"}},
      {"unresolved", {"unresolved symbol", "mcore_test_symbol_nobody_defines", "-Wl,--no-undefined"}},
      {"no-descriptor", {"does not export mcore_plugin_descriptor", "MCORE_PLUGIN("}},
      {"abi-major",
       {"plugin ABI " + abi(kAbiMajor + 1, kAbiMinor), "mcore's ABI " + mcore_abi, "major versions differ",
        "rebuild the plugin"}},
      {"abi-minor",
       {"plugin ABI " + abi(kAbiMajor, kAbiMinor + 1) + " is newer than mcore's ABI " + mcore_abi,
        "upgrade mcore"}},
      {"wrong-kind", {"it is a network plugin, but a resource driver was asked for"}},
      {"build-tag",
       {"built with \"gcc 4.8.5", std::string("mcore was built with \"") + MCORE_BUILD_TAG, "rebuild"}},
  };
  std::set<std::string> messages;
  for (const auto& c : cases) {
    SCOPED_TRACE("case " + c.dir);
    const std::string message = refusal(c.dir);
    EXPECT_PRED_FORMAT2(IsSubstring, case_file(c.dir).string() + ": ", message) << "names the file";
    for (const auto& part : c.expected) EXPECT_PRED_FORMAT2(IsSubstring, part, message);
    messages.insert(message.substr(message.find(": ")));
  }
  EXPECT_EQ(messages.size(), cases.size()) << "every refusal reads differently";

  // A good plugin asked for under another name.
  const std::string message = refusal("good", "other", case_file("good"));
  EXPECT_PRED_FORMAT2(
      IsSubstring, case_file("good").string() + ": it provides the resource driver \"memory\", not \"other\"",
      message);
  EXPECT_PRED_FORMAT2(IsSubstring, "drivers.resource = \"memory\"", message);
}

TEST(PluginLoader, DiscoverReportsEachPluginWithItsStatus) {
  const auto good = PluginLoader({case_dir("good")}).discover();
  ASSERT_EQ(good.size(), 1u);
  EXPECT_TRUE(good[0].compatible) << good[0].problem;
  EXPECT_EQ(good[0].file, case_file("good"));
  EXPECT_EQ(good[0].kind, "resource");
  EXPECT_EQ(good[0].name, "memory");
  EXPECT_EQ(good[0].version, "0.0.1");
  EXPECT_EQ(good[0].abi_major, kAbiMajor);
  EXPECT_FALSE(good[0].description.empty());

  for (const std::string dir :
       {"not-elf", "unresolved", "no-descriptor", "abi-major", "abi-minor", "build-tag"}) {
    SCOPED_TRACE("case " + dir);
    const auto found = PluginLoader({case_dir(dir)}).discover();
    ASSERT_EQ(found.size(), 1u);
    EXPECT_FALSE(found[0].compatible);
    EXPECT_FALSE(found[0].problem.empty());
  }
  const auto newer = PluginLoader({case_dir("abi-minor")}).discover();
  EXPECT_EQ(newer[0].name, "memory") << "a newer minor's descriptor is still readable";
  EXPECT_EQ(newer[0].abi_minor, kAbiMinor + 1);
}

TEST(PluginLoader, DiscoverFlagsAFileNamedForAnotherDriver) {
  const auto found = PluginLoader({case_dir("wrong-kind")}).discover();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_FALSE(found[0].compatible);
  EXPECT_PRED_FORMAT2(IsSubstring, "which mcore looks for as mcore-network-memory.so", found[0].problem);
}

TEST(PluginLoader, DiscoverListsAFileNameOnceFromTheWinningDirectory) {
  const auto found = PluginLoader({"/nonexistent", case_dir("abi-major"), case_dir("good")}).discover();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].file, case_file("abi-major"));
  EXPECT_FALSE(found[0].compatible);
}

// --- The Engine on top of the loader ------------------------------------------------------------------

class EngineTest : public testing::Test {
 protected:
  GlobalOptions with_config(json document) {
    document["data_root"] = (dir_.path() / "data").string();
    document["state_root"] = (dir_.path() / "state").string();
    const auto file = dir_.path() / "config.json";
    std::ofstream(file) << document.dump();
    GlobalOptions options;
    options.config_path = file;
    return options;
  }
  test::TempDir dir_;
};

TEST_F(EngineTest, LoadsTheConfiguredDriverOnceWithItsSection) {
  Engine engine(with_config({{"drivers", {{"resource", "memory"}}},
                             {"plugin_dirs", {case_dir("good").string()}},
                             {"resource", {{"max_groups", 3}}}}));
  EXPECT_EQ(engine.driver_name(DriverKind::resource), "memory");
  auto first = engine.resource();
  ASSERT_TRUE(first);
  EXPECT_EQ(engine.resource(), first) << "drivers are loaded once";
}

TEST_F(EngineTest, RefusesAPluginThatCreatedTheWrongInterface) {
  Engine engine(with_config({{"drivers", {{"resource", "memory"}}},
                             {"plugin_paths", {{"resource", case_file("wrong-type").string()}}}}));
  try {
    engine.resource();
    FAIL() << "expected an Error";
  } catch (const Error& error) {
    EXPECT_PRED_FORMAT2(
        IsSubstring, "resource driver \"memory\": its plugin created an object that is not a resource driver",
        error.what());
  }
}

TEST_F(EngineTest, SearchesOptionThenEnvironmentThenConfigThenInstallDir) {
  ::setenv("MCORE_PLUGIN_PATH", "/env/a::/env/b", 1);
  auto options = with_config({{"plugin_dirs", {"/config/dir"}}});
  options.plugin_dirs = {"/option/dir"};
  Engine engine(options);
  ::unsetenv("MCORE_PLUGIN_PATH");
  const std::vector<fs::path> expected = {"/option/dir", "/env/a", "/env/b", "/config/dir",
                                          MCORE_PLUGIN_INSTALL_DIR};
  EXPECT_EQ(engine.plugins().search_dirs(), expected);
}

TEST_F(EngineTest, ResolvesAutoByTheHostsCgroupMode) {
  Engine engine(with_config(json::object()));
  EXPECT_EQ(engine.driver_name(DriverKind::resource),
            probe_cgroup_mode() == CgroupMode::v2 ? "cgroup-v2" : "cgroup-v1");
  EXPECT_EQ(engine.driver_name(DriverKind::storage), "overlay");
}

TEST_F(EngineTest, RejectsUnknownLogLevels) {
  auto options = with_config(json::object());
  options.log_level = "loud";
  try {
    Engine engine(options);
    FAIL() << "expected an Error";
  } catch (const Error& error) {
    EXPECT_PRED_FORMAT2(IsSubstring, "--log-level: unknown log level \"loud\"", error.what());
  }
  try {
    Engine engine(with_config({{"log_level", "verbose"}}));
    FAIL() << "expected an Error";
  } catch (const Error& error) {
    EXPECT_PRED_FORMAT2(IsSubstring, "config.json: log_level: unknown log level \"verbose\"", error.what());
  }
  options.log_level = "debug";
  EXPECT_EQ(Engine(options).config().log_level, "debug") << "the option wins over the config";
}

}  // namespace
}  // namespace mcore::engine
