// Words users bring from the seed runtimes (MyContainer's -name/-net/-mem, VME50's --memory-limit), an
// archive given to run, and mistyped verbs: one line naming what to type instead, exit 125, no pull.
#include <gtest/gtest.h>

#include <fstream>

#include "test_support.hpp"

namespace mcore::test {
namespace {

class ForeignWordsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    sandbox_ = std::make_unique<McoreSandbox>();
  }

  // Runs mcore and expects exit 125 with one line on stderr that contains `expected`, and no pull.
  void expect_refusal(const std::vector<std::string>& args, const std::string& expected) {
    const CommandResult result = sandbox_->mcore(args);
    SCOPED_TRACE(args.front() + " " + (args.size() > 1 ? args[1] : ""));
    EXPECT_EQ(result.exit_code, 125) << result.err;
    EXPECT_NE(result.err.find(expected), std::string::npos) << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
    EXPECT_EQ(result.err.find("Unable to find image"), std::string::npos) << result.err;
    EXPECT_EQ(result.err.find("registry"), std::string::npos) << result.err;
  }

  std::unique_ptr<McoreSandbox> sandbox_;
};

TEST_F(ForeignWordsTest, SingleDashLongFlagsOfTheSeedRuntimesNameTheFlagToUse) {
  expect_refusal({"run", "-mem", "100m", "busybox"}, "did you mean --memory?");
  expect_refusal({"run", "-mem=100m", "busybox"}, "did you mean --memory?");
  expect_refusal({"run", "-cpu", "0.5", "busybox"}, "did you mean --cpus?");
  expect_refusal({"run", "-cpuset", "0,1", "busybox"}, "did you mean --cpuset-cpus?");
  expect_refusal({"run", "-name", "web", "busybox"}, "did you mean --name?");
  expect_refusal({"run", "-net", "host", "busybox"}, "did you mean --network?");
  expect_refusal({"run", "-privileged", "busybox"}, "did you mean --privileged?");
  expect_refusal({"run", "--memory-limit", "128M", "busybox"}, "did you mean --memory?");
  // A value that is no size fails before any pull too.
  expect_refusal({"run", "-m", "em", "busybox"}, "invalid size \"em\" for --memory");
}

TEST_F(ForeignWordsTest, ValidShortFlagClustersStillWork) {
  const CommandResult result = sandbox_->mcore(
      {"run", "--rm", "-m64m", "-e", "A=1", "--rootfs", shared_busybox_rootfs().string(), "sh", "-c", "echo $A"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "1\n");
}

TEST_F(ForeignWordsTest, AnArchiveGivenToRunNamesLoadAndImport) {
  TempDir dir;
  const auto archive = dir.path() / "rootfs.img";
  std::ofstream(archive) << "not an image";
  expect_refusal({"run", "busybox.tar"}, "mcore load -i busybox.tar");
  expect_refusal({"run", "busybox.tar.gz", "sh"}, "mcore import busybox.tar.gz NAME");
  expect_refusal({"run", archive.string()}, "is a file, not an image");
}

TEST_F(ForeignWordsTest, AMistypedVerbSuggestsTheClosestVerb) {
  expect_refusal({"imgaes"}, "did you mean 'mcore images'?");
  expect_refusal({"inpsect", "web"}, "did you mean 'mcore inspect'?");
  expect_refusal({"lgos", "web"}, "did you mean 'mcore logs'?");
  expect_refusal({"network", "lss"}, "did you mean 'mcore network ls'?");
  expect_refusal({"volume", "rmm", "data"}, "did you mean 'mcore volume rm'?");
  const CommandResult help = sandbox_->mcore({"image", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Usage: mcore image COMMAND"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("prune"), std::string::npos) << help.out;
  const CommandResult far = sandbox_->mcore({"frobnicate"});
  EXPECT_EQ(far.exit_code, 125);
  EXPECT_NE(far.err.find("see 'mcore --help'"), std::string::npos) << far.err;
}

}  // namespace
}  // namespace mcore::test
