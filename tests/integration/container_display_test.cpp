// The verbs that show containers, through the mcore binary: ps (columns, -a, -q, --no-trunc, filters,
// speed), inspect of containers, rename, ambiguous id prefixes, and for running containers the Up
// status, stats and top.

#include <algorithm>
#include <chrono>
#include <map>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "engine/container/container_store.hpp"
#include "test_support.hpp"

namespace mcore::test {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// The one line of `table` that holds `needle`; "" (and a failure) when none or several do.
std::string row_with(const std::string& table, const std::string& needle) {
  std::vector<std::string> found;
  for (const auto& line : lines_of(table)) {
    if (line.find(needle) != std::string::npos) found.push_back(line);
  }
  EXPECT_EQ(found.size(), 1u) << "rows holding \"" << needle << "\" in:\n" << table;
  return found.size() == 1 ? found.front() : "";
}

class ContainerDisplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    sandbox_ = std::make_unique<McoreSandbox>();
  }

  CommandResult mcore(const std::vector<std::string>& args) const { return sandbox_->mcore(args); }

  // A foreground `mcore run` that leaves its exited record behind; returns the container's id.
  std::string run_to_exit(const std::string& name, const std::vector<std::string>& command,
                          int expected_exit = 0, std::vector<std::string> flags = {}) {
    std::vector<std::string> args{"run", "--name", name};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {"--rootfs", shared_busybox_rootfs().string()});
    args.insert(args.end(), command.begin(), command.end());
    auto ran = mcore(args);
    EXPECT_EQ(ran.exit_code, expected_exit) << ran.err;
    auto id = mcore({"ps", "-a", "-q", "--no-trunc", "--filter", "name=^" + name + "$"});
    EXPECT_EQ(id.exit_code, 0) << id.err;
    return trimmed(id.out);
  }

  // `mcore run -d ... sleep 100` as `name`; the test is skipped when this mcore has no -d yet.
  std::string run_detached(const std::string& name, std::vector<std::string> flags = {}) {
    std::vector<std::string> args{"run", "-d", "--name", name};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {"--rootfs", shared_busybox_rootfs().string(), "sleep", "100"});
    auto ran = mcore(args);
    EXPECT_EQ(ran.exit_code, 0) << ran.err;
    return trimmed(ran.out);
  }

  nlohmann::json inspect_one(const std::string& reference) const {
    auto result = mcore({"inspect", reference});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    auto json = nlohmann::json::parse(result.out, nullptr, false);
    EXPECT_TRUE(json.is_array() && json.size() == 1) << result.out;
    return json.is_array() && json.size() == 1 ? json[0] : nlohmann::json::object();
  }

  std::unique_ptr<McoreSandbox> sandbox_;
};

TEST_F(ContainerDisplayTest, PsShowsAnExitedContainerWithAllOnly) {
  const std::string id = run_to_exit("first", {"true"});
  ASSERT_EQ(id.size(), 64u) << id;

  auto running = mcore({"ps"});
  ASSERT_EQ(running.exit_code, 0) << running.err;
  EXPECT_EQ(lines_of(running.out).size(), 1u) << running.out;  // the header alone
  EXPECT_TRUE(running.out.starts_with("CONTAINER ID")) << running.out;

  auto all = mcore({"ps", "-a"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  const auto lines = lines_of(all.out);
  ASSERT_EQ(lines.size(), 2u) << all.out;
  for (const char* column : {"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"}) {
    EXPECT_NE(lines[0].find(column), std::string::npos) << column << " missing in " << lines[0];
  }
  const std::string& row = lines[1];
  EXPECT_TRUE(row.starts_with(id.substr(0, 12) + " ")) << row;
  EXPECT_EQ(row.find(id.substr(0, 13)), std::string::npos) << "the id is not cut to 12 digits: " << row;
  EXPECT_NE(row.find(shared_busybox_rootfs().string()), std::string::npos) << row;
  EXPECT_NE(row.find("\"true\""), std::string::npos) << row;
  EXPECT_TRUE(std::regex_search(row, std::regex("(Less than a second|[0-9]+ seconds?) ago"))) << row;
  EXPECT_TRUE(std::regex_search(row, std::regex("Exited \\(0\\) (Less than a second|[0-9]+ seconds?) ago")))
      << row;
  EXPECT_TRUE(row.ends_with(" first")) << row;
  // The STATUS column starts where its header does: the table is aligned.
  EXPECT_EQ(row.find("Exited"), lines[0].find("STATUS")) << all.out;

  auto quiet = mcore({"ps", "-a", "-q"});
  EXPECT_EQ(quiet.out, id.substr(0, 12) + "\n");
  auto full = mcore({"ps", "-a", "--no-trunc"});
  EXPECT_NE(full.out.find(id), std::string::npos) << full.out;
}

TEST_F(ContainerDisplayTest, PsCommandColumnIsCutAndQuotedUnlessNoTrunc) {
  run_to_exit("long", {"sh", "-c", "echo a long command line; true"});
  const std::string cut = row_with(mcore({"ps", "-a"}).out, "long");
  EXPECT_NE(cut.find("\"sh -c 'echo a long …\""), std::string::npos) << cut;
  const std::string whole = row_with(mcore({"ps", "-a", "--no-trunc"}).out, "long");
  EXPECT_NE(whole.find("\"sh -c 'echo a long command line; true'\""), std::string::npos) << whole;
}

TEST_F(ContainerDisplayTest, PsFiltersOrWithinAKeyAndAcrossKeys) {
  const std::string ok = run_to_exit("ok", {"true"});
  const std::string bad = run_to_exit("bad", {"sh", "-c", "exit 3"}, 3);
  const auto ids = [&](std::vector<std::string> filters) {
    std::vector<std::string> args{"ps", "-q", "--no-trunc"};
    for (auto& filter : filters) args.insert(args.end(), {"--filter", filter});
    auto listed = mcore(args);
    EXPECT_EQ(listed.exit_code, 0) << listed.err;
    auto lines = lines_of(listed.out);
    std::sort(lines.begin(), lines.end());
    return lines;
  };
  auto both = std::vector<std::string>{ok, bad};
  std::sort(both.begin(), both.end());

  EXPECT_EQ(ids({"status=exited"}), both) << "a status filter lists stopped containers without -a";
  EXPECT_EQ(ids({"status=running"}), std::vector<std::string>{});
  EXPECT_EQ(ids({"status=exited", "name=^ok$"}), std::vector<std::string>{ok});
  EXPECT_EQ(ids({"status=exited", "name=^ok$", "name=^bad$"}), both);
  EXPECT_EQ(ids({"status=exited", "exited=3"}), std::vector<std::string>{bad});
  EXPECT_EQ(ids({"status=exited", "exited=3", "name=^ok$"}), std::vector<std::string>{});
  EXPECT_EQ(ids({"status=exited", "id=" + ok.substr(0, 10)}), std::vector<std::string>{ok});
  EXPECT_EQ(ids({"name=ok"}), std::vector<std::string>{})
      << "without -a or a status filter only running ones";

  auto unknown = mcore({"ps", "--filter", "foo=bar"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("invalid filter 'foo'"), std::string::npos) << unknown.err;
  auto bad_status = mcore({"ps", "-a", "--filter", "status=sleeping"});
  EXPECT_EQ(bad_status.exit_code, 1);
  EXPECT_NE(bad_status.err.find("invalid filter 'status=sleeping'"), std::string::npos) << bad_status.err;
  auto no_equals = mcore({"ps", "--filter", "name"});
  EXPECT_EQ(no_equals.exit_code, 1);
  EXPECT_NE(no_equals.err.find("name=value"), std::string::npos) << no_equals.err;
}

TEST_F(ContainerDisplayTest, InspectShowsAContainerInDockersShape) {
  const std::string id =
      run_to_exit("insp", {"sh", "-c", "exit 7"}, 7,
                  {"--memory", "64m", "--pids-limit", "50", "-e", "GREETING=hi", "--hostname", "box"});
  const auto json = inspect_one("insp");
  EXPECT_EQ(json["Id"], id);
  EXPECT_EQ(json["Name"], "/insp");
  EXPECT_EQ(json["Path"], "sh");
  EXPECT_EQ(json["Args"], nlohmann::json::array({"-c", "exit 7"}));
  EXPECT_EQ(json["State"]["Status"], "exited");
  EXPECT_EQ(json["State"]["Running"], false);
  EXPECT_EQ(json["State"]["ExitCode"], 7);
  EXPECT_NE(json["State"]["StartedAt"], "0001-01-01T00:00:00Z");
  EXPECT_NE(json["State"]["FinishedAt"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(json["HostConfig"]["Memory"], 64 * 1024 * 1024);
  EXPECT_EQ(json["HostConfig"]["PidsLimit"], 50);
  EXPECT_EQ(json["HostConfig"]["NetworkMode"], "none");
  EXPECT_EQ(json["Config"]["Hostname"], "box");
  const auto env = json["Config"]["Env"];
  EXPECT_NE(std::find(env.begin(), env.end(), "GREETING=hi"), env.end()) << env;
  // Docker lists the mode as the container's one network, with no address.
  EXPECT_EQ(json["NetworkSettings"]["Networks"], (nlohmann::json{{"none", nlohmann::json::object()}}));
  EXPECT_EQ(json["NetworkSettings"]["IPAddress"], "");
  // By id prefix and by --type too.
  EXPECT_EQ(inspect_one(id.substr(0, 8))["Id"], id);
  auto typed = mcore({"inspect", "--type", "container", "insp"});
  EXPECT_EQ(typed.exit_code, 0) << typed.err;

  auto as_image = mcore({"inspect", "--type", "image", "insp"});
  EXPECT_EQ(as_image.exit_code, 1);
  EXPECT_EQ(as_image.out, "[]\n");
  EXPECT_NE(as_image.err.find("No such object: insp"), std::string::npos) << as_image.err;
  auto mixed = mcore({"inspect", "insp", "nope"});
  EXPECT_EQ(mixed.exit_code, 1);
  EXPECT_EQ(nlohmann::json::parse(mixed.out).size(), 1u) << mixed.out;
  EXPECT_NE(mixed.err.find("No such object: nope"), std::string::npos) << mixed.err;
  auto bad_type = mcore({"inspect", "--type", "volume", "insp"});
  EXPECT_NE(bad_type.exit_code, 0);
  EXPECT_NE(bad_type.err.find("--type"), std::string::npos) << bad_type.err;
}

TEST_F(ContainerDisplayTest, RenameMovesTheNameAndRefusesATakenOne) {
  const std::string id = run_to_exit("old", {"true"});
  const std::string other = run_to_exit("taken", {"true"});

  auto renamed = mcore({"rename", "old", "new"});
  ASSERT_EQ(renamed.exit_code, 0) << renamed.err;
  EXPECT_EQ(inspect_one("new")["Id"], id);
  EXPECT_EQ(inspect_one("new")["Name"], "/new");
  auto gone = mcore({"inspect", "--type", "container", "old"});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_NE(gone.err.find("no such container: old"), std::string::npos) << gone.err;
  EXPECT_TRUE(row_with(mcore({"ps", "-a"}).out, id.substr(0, 12)).ends_with(" new"));
  // The old name is free again.
  EXPECT_EQ(run_to_exit("old", {"true"}).size(), 64u);

  auto refused = mcore({"rename", "new", "taken"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("already in use"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find(other.substr(0, 12)), std::string::npos) << "names the holder: " << refused.err;
  EXPECT_EQ(inspect_one("new")["Id"], id);
  EXPECT_EQ(inspect_one("taken")["Id"], other);

  auto same = mcore({"rename", "new", "new"});
  EXPECT_EQ(same.exit_code, 1);
  auto invalid = mcore({"rename", "new", "-bad name"});
  EXPECT_EQ(invalid.exit_code, 1);
  EXPECT_NE(invalid.err.find("invalid container name"), std::string::npos) << invalid.err;
  auto unknown = mcore({"rename", "nobody", "somebody"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("no such container"), std::string::npos) << unknown.err;
  EXPECT_EQ(mcore({"rename", "new"}).exit_code, 125) << "usage error";
}

TEST_F(ContainerDisplayTest, AnAmbiguousIdPrefixIsRefused) {
  // Containers until two ids share their first hex digit (at most 17, by pigeonhole).
  std::map<char, std::string> by_first_digit;
  std::string prefix;
  for (int i = 0; i < 17 && prefix.empty(); ++i) {
    const std::string id = run_to_exit("c" + std::to_string(i), {"true"});
    ASSERT_EQ(id.size(), 64u);
    if (by_first_digit.count(id[0])) prefix = id.substr(0, 1);
    by_first_digit[id[0]] = id;
  }
  ASSERT_FALSE(prefix.empty());
  for (const auto& args : std::vector<std::vector<std::string>>{{"inspect", prefix},
                                                                {"inspect", "--type", "container", prefix},
                                                                {"rename", prefix, "whichever"}}) {
    auto refused = mcore(args);
    EXPECT_EQ(refused.exit_code, 1) << args[0];
    EXPECT_NE(refused.err.find("ambiguous"), std::string::npos) << args[0] << ": " << refused.err;
  }
}

// ps reads records and liveness locks only; its wall time with 100 containers is measured in bench/density.
TEST_F(ContainerDisplayTest, PsListsAHundredContainersAndShowsThoseWithoutASupervisorAsExited) {
  const std::string model_id = run_to_exit("model", {"sleep", "0"});
  engine::ContainerStore store(sandbox_->data_root());
  const auto model = store.load(model_id);
  ASSERT_TRUE(model);
  // 99 more records: half claim to run, so ps checks their supervisors (none: they show as exited).
  for (int i = 0; i < 99; ++i) {
    auto record = *model;
    record.id = engine::new_container_id();
    record.name = "copy" + std::to_string(i);
    if (i % 2) record.state = engine::ContainerState::running;
    store.create(record);
  }
  auto listed = mcore({"ps", "-a"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const auto rows = lines_of(listed.out);
  ASSERT_EQ(rows.size(), 101u);
  for (std::size_t i = 1; i < rows.size(); ++i) {
    EXPECT_NE(rows[i].find("Exited ("), std::string::npos) << rows[i];
  }
  EXPECT_EQ(mcore({"ps", "-q"}).out, "") << "a record claiming to run without a supervisor is not running";
}

TEST_F(ContainerDisplayTest, RunningContainerShowsUpInPsStatsAndTop) {
  const std::string id = run_detached("up", {"--memory", "64m"});
  ASSERT_EQ(id.size(), 64u) << id;
  run_to_exit("down", {"true"});

  const std::string row = row_with(mcore({"ps"}).out, id.substr(0, 12));
  EXPECT_TRUE(std::regex_search(row, std::regex(" Up (Less than a second|[0-9]+ seconds?) "))) << row;
  EXPECT_EQ(mcore({"ps", "-q"}).out, id.substr(0, 12) + "\n") << "ps without -a lists the running one only";
  EXPECT_EQ(mcore({"ps", "-q", "--filter", "status=running"}).out, id.substr(0, 12) + "\n");
  const auto state = inspect_one("up")["State"];
  EXPECT_EQ(state["Status"], "running");
  EXPECT_GT(state["Pid"].get<int>(), 0);

  auto stats = mcore({"stats", "--no-stream"});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  const auto stats_lines = lines_of(stats.out);
  ASSERT_EQ(stats_lines.size(), 2u) << "header and the running container only:\n" << stats.out;
  for (const char* column : {"CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "PIDS"}) {
    EXPECT_NE(stats_lines[0].find(column), std::string::npos) << column;
  }
  EXPECT_TRUE(
      std::regex_search(stats_lines[1], std::regex("^" + id.substr(0, 12) +
                                                   " +up +[0-9]+\\.[0-9]{2}% +[0-9.]+(B|KiB|MiB|GiB) / "
                                                   "64MiB +[0-9]+\\.[0-9]{2}% +1$")))
      << stats_lines[1];
  auto named = mcore({"stats", "--no-stream", "down"});
  ASSERT_EQ(named.exit_code, 0) << named.err;
  EXPECT_NE(row_with(named.out, "down").find("0B / 0B"), std::string::npos) << named.out;
  EXPECT_EQ(mcore({"stats", "--no-stream", "nobody"}).exit_code, 1);

  auto top = mcore({"top", "up"});
  ASSERT_EQ(top.exit_code, 0) << top.err;
  const auto top_lines = lines_of(top.out);
  ASSERT_EQ(top_lines.size(), 2u) << top.out;
  EXPECT_TRUE(std::regex_search(top_lines[0], std::regex("^UID +PID +PPID +C +STIME +TTY +TIME +CMD$")))
      << top.out;
  EXPECT_TRUE(top_lines[1].ends_with(" sleep 100")) << top.out;
  EXPECT_TRUE(top_lines[1].find(" " + std::to_string(state["Pid"].get<int>()) + " ") != std::string::npos)
      << top.out;
  auto custom = mcore({"top", "up", "-o", "pid,comm"});
  ASSERT_EQ(custom.exit_code, 0) << custom.err;
  EXPECT_EQ(lines_of(custom.out).size(), 2u) << custom.out;
  EXPECT_TRUE(std::regex_search(custom.out, std::regex("PID +COMMAND\n *[0-9]+ +sleep\n"))) << custom.out;

  auto stopped = mcore({"top", "down"});
  EXPECT_EQ(stopped.exit_code, 1);
  EXPECT_NE(stopped.err.find("is not running"), std::string::npos) << stopped.err;

  auto removed = mcore({"rm", "-f", "up"});
  EXPECT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_EQ(mcore({"ps", "-q"}).out, "");
}

}  // namespace
}  // namespace mcore::test
