// mcore logs against detached containers: the log outlives the command that started the container,
// rotates with --log-opt, and `logs` shows it as docker logs does (--tail, -t, --since, -f).
#include <chrono>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "engine/logs/container_log_reader.hpp"
#include "test_support.hpp"

namespace mcore::test {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

// "prefix 1" ... "prefix count".
std::vector<std::string> numbered(const std::string& prefix, int first, int last) {
  std::vector<std::string> lines;
  for (int i = first; i <= last; ++i) lines.push_back(prefix + " " + std::to_string(i));
  return lines;
}

class LogsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    sandbox_ = std::make_unique<McoreSandbox>();
  }

  CommandResult mcore(const std::vector<std::string>& args) { return sandbox_->mcore(args); }

  // mcore under timeout(1), so that a follow which never ends fails the test (exit 124) instead of
  // hanging it.
  CommandResult mcore_within(std::chrono::seconds limit, const std::vector<std::string>& args) {
    std::vector<std::string> argv{"/usr/bin/timeout", std::to_string(limit.count())};
    const auto mcore_argv = sandbox_->mcore_argv(args);
    argv.insert(argv.end(), mcore_argv.begin(), mcore_argv.end());
    return run_command(argv);
  }

  // `mcore run -d` of a busybox shell script; returns the container's id.
  std::string detached(const std::string& script, std::vector<std::string> flags = {}) {
    std::vector<std::string> args{"run", "-d"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {"--rootfs", shared_busybox_rootfs().string(), "sh", "-c", script});
    const auto result = mcore(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return trimmed(result.out);
  }

  void wait_for_exit(const std::string& id) {
    const auto result = mcore_within(60s, {"wait", id});
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }

  fs::path container_dir(const std::string& id) const { return sandbox_->data_root() / "containers" / id; }

  std::unique_ptr<McoreSandbox> sandbox_;
};

TEST_F(LogsTest, ShowsWhatTheContainerWroteAfterTheCliExited) {
  // The output comes after `run -d` has returned: only the supervisor can have written it.
  const std::string id =
      detached("sleep 0.5; echo to stdout; echo to stderr >&2; echo more", {"--name", "talker"});
  ASSERT_EQ(id.size(), 64u) << id;
  wait_for_exit(id);
  for (const std::string& reference : std::vector<std::string>{"talker", id, id.substr(0, 12)}) {
    const auto result = mcore({"logs", reference});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.out, "to stdout\nmore\n") << reference;
    EXPECT_EQ(result.err, "to stderr\n") << reference;
  }
  // The file is Docker's json-file format.
  const auto first = nlohmann::json::parse(lines_of(read_text(container_dir(id) / "container.log")).at(0));
  EXPECT_EQ(first["log"], "to stdout\n");
  EXPECT_EQ(first["stream"], "stdout");
  EXPECT_TRUE(engine::parse_log_time(first["time"].get<std::string>())) << first.dump();
}

TEST_F(LogsTest, TailShowsTheLastLines) {
  const std::string id = detached("i=1; while [ $i -le 10 ]; do echo line $i; i=$((i+1)); done");
  wait_for_exit(id);
  EXPECT_EQ(mcore({"logs", "--tail", "3", id}).out, "line 8\nline 9\nline 10\n");
  EXPECT_EQ(mcore({"logs", "-n", "1", id}).out, "line 10\n");
  EXPECT_EQ(mcore({"logs", id, "-n", "2"}).out, "line 9\nline 10\n") << "flags after the container";
  EXPECT_EQ(mcore({"logs", "-n", "0", id}).out, "");
  EXPECT_EQ(lines_of(mcore({"logs", "--tail", "all", id}).out), numbered("line", 1, 10));
  const auto refused = mcore({"logs", "--tail", "ten", id});
  EXPECT_EQ(refused.exit_code, 125);
  EXPECT_NE(refused.err.find("--tail"), std::string::npos) << refused.err;
}

TEST_F(LogsTest, TimestampsPrefixEachLine) {
  const std::string id = detached("echo one; echo two >&2");
  wait_for_exit(id);
  const auto result = mcore({"logs", "-t", id});
  const std::regex stamped(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (one|two)\n)");
  EXPECT_TRUE(std::regex_match(result.out, stamped)) << result.out;
  EXPECT_TRUE(std::regex_match(result.err, stamped)) << result.err;
}

TEST_F(LogsTest, SinceShowsOnlyLaterEntries) {
  const std::string id = detached("echo early; sleep 1.5; echo late");
  wait_for_exit(id);
  const auto stamped = lines_of(mcore({"logs", "-t", id}).out);
  ASSERT_EQ(stamped.size(), 2u);
  const std::string late_time = stamped[1].substr(0, stamped[1].find(' '));
  EXPECT_EQ(mcore({"logs", "--since", late_time, id}).out, "late\n") << "the time itself is included";
  EXPECT_EQ(mcore({"logs", "--since", "1h", id}).out, "early\nlate\n");
  EXPECT_EQ(mcore({"logs", "--since", "2999-01-01T00:00:00Z", id}).out, "");
  const auto refused = mcore({"logs", "--since", "yesterday", id});
  EXPECT_EQ(refused.exit_code, 125);
  EXPECT_NE(refused.err.find("--since"), std::string::npos) << refused.err;
}

TEST_F(LogsTest, RotatesWithMaxSizeAndMaxFile) {
  const std::string id = detached("i=1; while [ $i -le 200 ]; do echo line $i; i=$((i+1)); done",
                                  {"--log-opt", "max-size=1k", "--log-opt", "max-file=2"});
  wait_for_exit(id);
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(container_dir(id))) {
    const auto name = entry.path().filename().string();
    if (name.starts_with("container.log")) {
      files.push_back(name);
      EXPECT_LE(fs::file_size(entry.path()), 1024u) << name;
    }
  }
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"container.log", "container.log.1"}));

  // What is kept is the newest lines, none missing between the two files.
  const auto shown = lines_of(mcore({"logs", id}).out);
  ASSERT_GT(shown.size(), 10u);
  ASSERT_LT(shown.size(), 200u);
  EXPECT_EQ(shown, numbered("line", 201 - static_cast<int>(shown.size()), 200));
  EXPECT_EQ(lines_of(mcore({"logs", "--tail", "5", id}).out), numbered("line", 196, 200));
}

// The config's log_opts bound every container's log without --log-opt (Docker's daemon.json log-opts);
// a container's own --log-opt wins key by key.
TEST_F(LogsTest, TheConfigsLogOptsBoundEveryContainersLog) {
  sandbox_->write_config({{"log_opts", {{"max-size", "1k"}, {"max-file", "2"}}}});
  const std::string script = "i=1; while [ $i -le 200 ]; do echo line $i; i=$((i+1)); done";
  auto log_files = [&](const std::string& id) {
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(container_dir(id))) {
      const auto name = entry.path().filename().string();
      if (!name.starts_with("container.log")) continue;
      files.push_back(name);
      EXPECT_LE(fs::file_size(entry.path()), 1024u) << name;
    }
    std::sort(files.begin(), files.end());
    return files;
  };
  const std::string plain = detached(script);
  wait_for_exit(plain);
  EXPECT_EQ(log_files(plain), (std::vector<std::string>{"container.log", "container.log.1"}));
  const std::string own = detached(script, {"--log-opt", "max-file=3"});
  wait_for_exit(own);
  EXPECT_EQ(log_files(own), (std::vector<std::string>{"container.log", "container.log.1", "container.log.2"}));
}

TEST_F(LogsTest, FollowPrintsUntilTheContainerExits) {
  const std::string id =
      detached("i=1; while [ $i -le 8 ]; do echo tick $i; i=$((i+1)); sleep 0.2; done; echo bye >&2");
  const auto started = std::chrono::steady_clock::now();
  const auto result = mcore_within(30s, {"logs", "-f", id});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(lines_of(result.out), numbered("tick", 1, 8));
  EXPECT_EQ(result.err, "bye\n");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 20s);

  // Following a container that has exited prints the log and returns at once.
  const auto again = mcore_within(10s, {"logs", "--follow", "--tail", "2", id});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "tick 8\n");
  EXPECT_EQ(again.err, "bye\n");
}

TEST_F(LogsTest, FollowLosesAndRepeatsNothingAcrossRotations) {
  const std::string id = detached("i=1; while [ $i -le 150 ]; do echo line $i; i=$((i+1)); sleep 0.02; done",
                                  {"--log-opt", "max-size=1k", "--log-opt", "max-file=3"});
  const auto result = mcore_within(60s, {"logs", "-f", id});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(lines_of(result.out), numbered("line", 1, 150));
  EXPECT_TRUE(fs::exists(container_dir(id) / "container.log.2")) << "the log did not rotate";
}

TEST_F(LogsTest, AContainerWithoutALogShowsNothing) {
  const std::string id = detached("echo something");
  wait_for_exit(id);
  fs::remove(container_dir(id) / "container.log");
  const auto result = mcore({"logs", id});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, "");
}

TEST_F(LogsTest, RefusesUnknownContainers) {
  const auto result = mcore({"logs", "no-such-container"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("no such container: no-such-container"), std::string::npos) << result.err;
  const auto missing = mcore({"logs"});
  EXPECT_EQ(missing.exit_code, 125);
  EXPECT_NE(missing.err.find("needs a container"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace mcore::test
