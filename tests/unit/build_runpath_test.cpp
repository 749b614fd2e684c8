// The build tree's programs and plugins look for libraries at absolute paths only. CMake's default
// build RUNPATH ends in an empty entry (padding for its install-time rewrite), which the loader reads as
// the working directory: whoever can write there could plant a libc.so.6 for root to load. LD_DEBUG=libs
// prints every file the loader tries.
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace mcore::test {
namespace {

// The files the loader tried, from LD_DEBUG=libs lines "      trying file=PATH".
std::vector<std::string> tried_files(const std::string& log) {
  static const std::string kTrying = "trying file=";
  std::vector<std::string> files;
  for (std::size_t at = log.find(kTrying); at != std::string::npos; at = log.find(kTrying, at)) {
    at += kTrying.size();
    files.push_back(log.substr(at, log.find('\n', at) - at));
  }
  return files;
}

void expect_only_absolute_tries(const std::vector<std::string>& argv) {
  const CommandResult result = run_command(argv, "", {{"LD_DEBUG", "libs"}});
  const std::vector<std::string> tried = tried_files(result.err);
  EXPECT_FALSE(tried.empty()) << argv[0] << ": LD_DEBUG showed no library search\n" << result.err;
  for (const std::string& file : tried) {
    EXPECT_TRUE(file.starts_with('/')) << argv[0] << " looked for " << file << " in the working directory";
  }
}

TEST(BuildTreeRunpath, ProgramsLookForLibrariesAtAbsolutePathsOnly) {
  expect_only_absolute_tries({MCORE_BINARY, "--version"});
  expect_only_absolute_tries({MCORE_OCI_BINARY, "--version"});
  // Without arguments it only prints its usage; the loader has run by then. (mcore-enter and
  // mcore-supervisor are static: they load nothing.)
  expect_only_absolute_tries({std::string(MCORE_BUILD_DIR) + "/core/mcore-exit-handler"});
}

// `mcore plugins` opens every plugin of the directory, and with it each plugin's own RUNPATH.
TEST(BuildTreeRunpath, PluginsLookForLibrariesAtAbsolutePathsOnly) {
  TempDir roots("mcore-runpath");
  const std::string config = (roots.path() / "config.json").string();
  std::ofstream(config) << nlohmann::json{{"data_root", (roots.path() / "data").string()},
                                          {"state_root", (roots.path() / "state").string()}};
  const std::vector<std::string> argv{MCORE_BINARY,           "--config", config, "--plugin-dir",
                                      MCORE_PLUGIN_BUILD_DIR, "plugins"};
  const CommandResult result = run_command(argv, "", {{"LD_DEBUG", "libs"}});
  ASSERT_EQ(result.exit_code, 0) << result.err.substr(result.err.size() > 2000 ? result.err.size() - 2000
                                                                               : 0);
  EXPECT_NE(result.err.find("mcore-resource-cgroup-v1.so"), std::string::npos) << "no plugin was opened";
  for (const std::string& file : tried_files(result.err)) {
    EXPECT_TRUE(file.starts_with('/')) << "looked for " << file << " in the working directory";
  }
}

}  // namespace
}  // namespace mcore::test
