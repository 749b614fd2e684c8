// The CLI is a front end: it reaches the engine only through core/engine/api/ (engine/api/README.md).
// A new include of a room's header from core/cli fails here, naming the file and the header.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

// Every `#include "engine/..."` of the files under `dir`, as "file: header".
std::vector<std::string> engine_includes(const fs::path& dir) {
  static const std::regex include(R"re(^\s*#\s*include\s*"(engine/[^"]+)")re");
  std::vector<std::string> found;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path());
    std::string line;
    std::smatch match;
    while (std::getline(in, line)) {
      if (std::regex_search(line, match, include)) found.push_back(entry.path().filename().string() + ": " + match[1].str());
    }
  }
  return found;
}

// Both front ends: mcore's command line and the OCI runtime's.
class FrontEnd : public ::testing::TestWithParam<const char*> {};
INSTANTIATE_TEST_SUITE_P(EngineApi, FrontEnd, ::testing::Values("core/cli", "core/oci"));

TEST_P(FrontEnd, IncludesOnlyTheApiRoom) {
  const auto includes = engine_includes(fs::path(MCORE_SOURCE_DIR) / GetParam());
  ASSERT_FALSE(includes.empty()) << "no engine include found: is MCORE_SOURCE_DIR right?";
  std::vector<std::string> outside;
  for (const auto& include : includes) {
    if (include.find(": engine/api/") == std::string::npos) outside.push_back(include);
  }
  EXPECT_TRUE(outside.empty()) << "include engine/api/*.hpp instead of:\n"
                               << [&] {
                                    std::string text;
                                    for (const auto& line : outside) text += "  " + line + "\n";
                                    return text;
                                  }();
}

TEST(EngineApi, TheApiHeadersNameOnlyHeadersThatExist) {
  const fs::path engine = fs::path(MCORE_SOURCE_DIR) / "core/engine";
  for (const auto& include : engine_includes(engine / "api")) {
    const auto header = include.substr(include.find(": ") + 2);
    EXPECT_TRUE(fs::exists(engine.parent_path() / header)) << include;
  }
}

}  // namespace
