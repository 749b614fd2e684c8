// The SDK's one way to run a host program (mcore/child_process.hpp).
#include "mcore/child_process.hpp"

#include <gtest/gtest.h>

#include "mcore/error.hpp"

namespace mcore {
namespace {

TEST(RunChild, CapturesBothStreamsAndTheExitCode) {
  const auto result = run_child({"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_EQ(result.out, "out\n");
  EXPECT_EQ(result.err, "err\n");
}

TEST(RunChild, InputLargerThanAPipeNeitherBlocksNorIsCut) {
  const std::string input(4 << 20, 'x');  // 4 MiB: far beyond a pipe's buffer
  const auto result = run_child({"cat"}, {.input = input, .capture_stderr = true, .executable = {}, .environment = {}, .timeout = {}});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out.size(), input.size());
  EXPECT_EQ(result.out, input);
}

TEST(RunChild, WithoutInputStdinIsEmptyAndStderrCanBeDropped) {
  const auto result = run_child({"sh", "-c", "cat; echo noise >&2; echo done"}, {.input = std::nullopt, .capture_stderr = false, .executable = {}, .environment = {}, .timeout = {}});
  EXPECT_EQ(result.out, "done\n");
  EXPECT_EQ(result.err, "");
}

TEST(RunChild, TheProgramGetsOnlyItsThreeDescriptors) {
  const auto result = run_child({"sh", "-c", "ls /proc/self/fd"});
  // 0, 1, 2 and the descriptor ls reads the directory with.
  EXPECT_EQ(result.out, "0\n1\n2\n3\n") << result.out;
}

TEST(RunChild, AKillBySignalIs128PlusTheSignal) {
  EXPECT_EQ(run_child({"sh", "-c", "kill -9 $$"}).exit_code, 137);
}

TEST(RunChild, AMissingProgramThrowsENOENT) {
  try {
    run_child({"mcore-no-such-program"});
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(error.error_number(), ENOENT);
  }
}

TEST(RunChild, AnExecutableByPathGetsItsOwnArgv0AndOnlyTheGivenEnvironment) {
  ChildOptions options;
  options.executable = "/bin/sh";
  options.environment = std::vector<std::string>{"FOO=bar"};
  const auto result = run_child({"hook-name", "-c", "echo \"$0 $FOO\"; env | wc -l"}, options);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  // sh adds PWD (and maybe SHLVL, _) to what it was given, never mcore's PATH or HOME.
  EXPECT_TRUE(result.out.starts_with("hook-name bar\n")) << result.out;
  EXPECT_LE(std::stoi(result.out.substr(result.out.find('\n') + 1)), 4) << result.out;
}

TEST(RunChild, AProgramOutlivingItsTimeoutIsKilled) {
  const auto started = std::chrono::steady_clock::now();
  ChildOptions options;
  options.timeout = std::chrono::milliseconds(200);
  const auto result = run_child({"sh", "-c", "sleep 30"}, options);
  EXPECT_TRUE(result.timed_out);
  EXPECT_EQ(result.exit_code, 128 + 9);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  options.timeout = std::chrono::seconds(10);
  EXPECT_FALSE(run_child({"true"}, options).timed_out);
}

TEST(RunChild, ADaemonHoldingStdoutOpenDoesNotHoldTheCallerUp) {
  const auto started = std::chrono::steady_clock::now();
  const auto result = run_child({"sh", "-c", "echo hi; sleep 5 & exit 0"});
  EXPECT_EQ(result.out, "hi\n");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(4));
}

}  // namespace
}  // namespace mcore
