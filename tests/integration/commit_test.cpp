// mcore commit end to end: a container's additions, deletions (whiteouts), replaced directories (opaque),
// hardlinks, symlinks and fifos become a layer of a new image that runs at once; the image is listed and
// inspected with its new layer and history; commits stack; running containers are frozen only for the
// diff; refusals and failures leave the image and layer stores as they were.
#include <sys/xattr.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace mcore::test {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string trimmed(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

void write_file(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

// What the container in CommitTest.TheNewImageRunsWithTheContainersChanges does to the base image.
const std::string kChanges =
    "echo hi > /added && ln /added /added-link && ln -s /added /added-symlink && mkfifo /fifo && "
    "rm /etc/motd && rm -r /data/old && mkdir /data/old && echo new > /data/old/c.txt && "
    "echo more >> /data/keep.txt";

// What a container of the committed image prints when the changes are all there.
const std::string kCheckChanges =
    "cat /added; stat -c %h /added-link; readlink /added-symlink; test -p /fifo && echo fifo; "
    "test -e /etc/motd || echo motd-gone; ls -A /data/old; cat /data/keep.txt";
const std::string kChangesSeen = "hi\n2\n/added\nfifo\nmotd-gone\nc.txt\nkeep\nmore\n";

class CommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    sandbox_ = std::make_unique<McoreSandbox>();
    // The base image: busybox plus files for the containers to change, imported as one layer.
    const fs::path rootfs = work_.path() / "rootfs";
    make_busybox_rootfs(rootfs);
    write_file(rootfs / "etc/motd", "welcome\n");
    write_file(rootfs / "data/keep.txt", "keep\n");
    write_file(rootfs / "data/old/a.txt", "a\n");
    write_file(rootfs / "data/old/sub/b.txt", "b\n");
    const fs::path tarball = work_.path() / "base.tar";
    const auto packed =
        run_command({"/usr/bin/tar", "--numeric-owner", "-C", rootfs.string(), "-cf", tarball.string(), "."});
    ASSERT_EQ(packed.exit_code, 0) << packed.err;
    const auto imported = mcore({"import", tarball.string(), "commit-base:1"});
    ASSERT_EQ(imported.exit_code, 0) << imported.err;
    base_id_ = trimmed(imported.out);
  }

  CommandResult mcore(const std::vector<std::string>& args) const { return sandbox_->mcore(args); }

  // Runs `sh -c script` in the foreground, leaving the container (no --rm).
  void run_script(const std::string& image, const std::string& name, const std::string& script) {
    const auto ran = mcore({"run", "--name", name, image, "sh", "-c", script});
    ASSERT_EQ(ran.exit_code, 0) << ran.out << ran.err;
  }

  // What `sh -c script` prints in a throwaway container of `image`.
  std::string output_of(const std::string& image, const std::string& script) {
    const auto ran = mcore({"run", "--rm", image, "sh", "-c", script});
    EXPECT_EQ(ran.exit_code, 0) << ran.err;
    return ran.out;
  }

  // `mcore commit args...`, which must succeed; the new image's id.
  std::string commit(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"commit"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto committed = mcore(argv);
    EXPECT_EQ(committed.exit_code, 0) << committed.err;
    EXPECT_TRUE(std::regex_match(committed.out, std::regex("sha256:[0-9a-f]{64}\n"))) << committed.out;
    return trimmed(committed.out);
  }

  nlohmann::json inspect(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"inspect"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto inspected = mcore(argv);
    EXPECT_EQ(inspected.exit_code, 0) << inspected.err;
    const auto json = nlohmann::json::parse(inspected.out, nullptr, false);
    return json.is_array() && json.size() == 1 ? json[0] : nlohmann::json::object();
  }

  // The image config as stored: inspect does not show the history.
  nlohmann::json stored_config(const std::string& image_id) const {
    return nlohmann::json::parse(
        read_text(sandbox_->data_root() / "images/blobs/sha256" / image_id.substr(7)), nullptr, false);
  }

  fs::path upper_dir(const std::string& container) {
    const std::string id = inspect({"--type", "container", container}).value("Id", "");
    return sandbox_->data_root() / "storage/overlay/containers" / id / "upper";
  }

  // Everything a refused or failed commit must leave as it was: every file of the image store (the
  // index with its content) and every unpacked layer.
  std::vector<std::string> store_state() const {
    std::vector<std::string> state;
    const fs::path images = sandbox_->data_root() / "images";
    for (const auto& entry : fs::recursive_directory_iterator(images)) {
      std::string line = fs::relative(entry.path(), images).string();
      if (entry.path().filename() == "index.json") line += " " + read_text(entry.path());
      state.push_back(line);
    }
    for (const auto& entry : fs::directory_iterator(sandbox_->data_root() / "storage/overlay/layers")) {
      state.push_back("layer " + entry.path().filename().string());
    }
    std::sort(state.begin(), state.end());
    return state;
  }

  TempDir work_{"mcore-commit"};
  std::unique_ptr<McoreSandbox> sandbox_;
  std::string base_id_;
};

TEST_F(CommitTest, TheNewImageRunsWithTheContainersChanges) {
  run_script("commit-base:1", "changer", kChanges);
  const std::string id =
      commit({"-a", "Jane <jane@example.com>", "-m", "add and delete", "changer", "committed:1"});

  EXPECT_EQ(output_of("committed:1", kCheckChanges), kChangesSeen);
  EXPECT_EQ(output_of(id, kCheckChanges), kChangesSeen) << "the image is found by its id too";
  // The base image and its layer are untouched.
  EXPECT_EQ(output_of("commit-base:1", "cat /etc/motd; ls -A /data/old; cat /data/keep.txt"),
            "welcome\na.txt\nsub\nkeep\n");

  const auto listed = mcore({"images"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_TRUE(std::regex_search(listed.out, std::regex("\ncommitted +1 +" + id.substr(7, 12) + " ")))
      << listed.out;
}

TEST_F(CommitTest, InspectShowsTheNewLayerTheContainersCommandAndTheHistory) {
  run_script("commit-base:1", "changer", kChanges);
  const std::string id = commit(
      {"--author", "Jane <jane@example.com>", "--message", "add and delete", "changer", "committed:1"});

  const auto base = inspect({"commit-base:1"});
  const auto image = inspect({"committed:1"});
  EXPECT_EQ(image.value("Id", ""), id);
  EXPECT_EQ(image["RepoTags"], nlohmann::json({"committed:1"}));
  EXPECT_EQ(image.value("Author", ""), "Jane <jane@example.com>");
  EXPECT_EQ(image.value("Comment", ""), "add and delete");
  const auto& layers = image["RootFS"]["Layers"];
  ASSERT_EQ(layers.size(), 2u) << image.dump();
  EXPECT_EQ(layers[0], base["RootFS"]["Layers"][0]);
  EXPECT_NE(layers[1], layers[0]);
  EXPECT_TRUE(image["Config"]["Entrypoint"].is_null()) << image["Config"].dump();
  EXPECT_EQ(image["Config"]["Cmd"], nlohmann::json({"sh", "-c", kChanges}));
  EXPECT_GT(image.value("Size", 0), base.value("Size", 0));

  const auto config = stored_config(id);
  EXPECT_EQ(config["rootfs"]["diff_ids"], layers);
  ASSERT_EQ(config["history"].size(), 2u) << config.dump();
  EXPECT_EQ(config["history"][0]["created_by"], "mcore import");
  const auto& entry = config["history"][1];
  EXPECT_EQ(entry.value("created_by", ""), "mcore commit");
  EXPECT_EQ(entry.value("comment", ""), "add and delete");
  EXPECT_EQ(entry.value("author", ""), "Jane <jane@example.com>");
  EXPECT_EQ(entry.value("created", ""), config.value("created", "-"));
  EXPECT_FALSE(entry.contains("empty_layer"));
  for (const auto& env : config["config"]["Env"]) {
    EXPECT_FALSE(env.get<std::string>().starts_with("HOSTNAME="))
        << "the container's own host name stays behind";
  }
}

TEST_F(CommitTest, CommitsStackAndAnUnnamedCommitIsAnUntaggedImage) {
  run_script("commit-base:1", "first", kChanges);
  commit({"first", "committed:1"});
  run_script("committed:1", "second", "rm /added-symlink /data/old/c.txt && echo two > /second");
  const std::string id = commit({"second"});

  EXPECT_EQ(output_of(id, "cat /added /second; test -e /added-symlink || echo symlink-gone; ls -A /data/old"),
            "hi\ntwo\nsymlink-gone\n");
  EXPECT_EQ(inspect({id})["RootFS"]["Layers"].size(), 3u);
  EXPECT_EQ(inspect({id})["RepoTags"], nlohmann::json::array());
  const auto listed = mcore({"images"});
  EXPECT_TRUE(std::regex_search(listed.out, std::regex("\n<none> +<none> +" + id.substr(7, 12) + " ")))
      << listed.out;
}

TEST_F(CommitTest, AContainerWithoutChangesAddsOnlyAHistoryEntry) {
  const auto ran = mcore({"run", "--name", "idle", "commit-base:1", "true"});
  ASSERT_EQ(ran.exit_code, 0) << ran.err;
  ASSERT_TRUE(fs::is_empty(upper_dir("idle"))) << "the test needs a container that changed nothing";
  const std::string id = commit({"idle", "idle:1"});
  const auto config = stored_config(id);
  EXPECT_EQ(config["rootfs"]["diff_ids"], inspect({"commit-base:1"})["RootFS"]["Layers"]);
  EXPECT_EQ(config["history"].back().value("empty_layer", false), true) << config.dump();
}

TEST_F(CommitTest, ARunningContainerIsCommittedAndKeepsRunning) {
  const auto started = mcore(
      {"run", "-d", "--name", "live", "commit-base:1", "sh", "-c", "echo live > /live; exec sleep 1000"});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  const std::string container = trimmed(started.out);
  const fs::path written = upper_dir("live") / "live";
  for (int i = 0; i < 200 && !fs::exists(written); ++i) std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(fs::exists(written));

  for (const std::string pause : {"--pause=true", "--pause=false"}) {
    SCOPED_TRACE(pause);
    const std::string id = commit({pause, "live", "live:1"});
    EXPECT_EQ(output_of(id, "cat /live"), "live\n");
    EXPECT_EQ(inspect({"--type", "container", "live"})["State"].value("Status", ""), "running");
    // Thawed again: the freezer of whichever cgroup version holds the container says so.
    int freezers = 0;
    for (const auto& parent : cgroup_parent_dirs(sandbox_->cgroup_parent())) {
      if (fs::exists(parent / container / "cgroup.freeze")) {
        ++freezers;
        EXPECT_EQ(read_text(parent / container / "cgroup.freeze"), "0\n");
      }
      if (fs::exists(parent / container / "freezer.state")) {
        ++freezers;
        EXPECT_EQ(read_text(parent / container / "freezer.state"), "THAWED\n");
      }
    }
    EXPECT_GT(freezers, 0) << "no freezer found for " << container;
  }
}

TEST_F(CommitTest, RefusalsExitOneAndLeaveTheStoresAsTheyWere) {
  run_script("commit-base:1", "changer", kChanges);
  const auto rootfs_run =
      mcore({"run", "--name", "from-dir", "--rootfs", shared_busybox_rootfs().string(), "true"});
  ASSERT_EQ(rootfs_run.exit_code, 0) << rootfs_run.err;
  const auto before = store_state();

  const std::vector<std::pair<std::vector<std::string>, std::string>> refused = {
      {{"changer", "UPPER:case"}, "invalid reference format"},
      {{"changer", "a::b"}, "invalid reference format"},
      {{"changer", "name@sha256:" + std::string(64, 'a')}, "digest"},
      {{"no-such-container", "x:1"}, "no such container: no-such-container"},
      {{"from-dir", "x:1"}, "--rootfs"},
  };
  for (const auto& [args, expected] : refused) {
    std::vector<std::string> argv{"commit"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto result = mcore(argv);
    EXPECT_EQ(result.exit_code, 1) << args[1] << ": " << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
    EXPECT_NE(result.err.find(expected), std::string::npos) << result.err;
    EXPECT_EQ(store_state(), before) << args[1];
  }
  EXPECT_EQ(mcore({"commit"}).exit_code, 1) << "Docker's usage error";
}

TEST_F(CommitTest, AFailedCommitLeavesNoHalfImage) {
  run_script("commit-base:1", "changer", kChanges);
  // overlay's redirect_dir would keep a renamed directory's content in the lower layers: not exportable.
  const fs::path data = upper_dir("changer") / "data";
  ASSERT_EQ(::setxattr(data.c_str(), "trusted.overlay.redirect", "/elsewhere", 10, 0), 0);
  const auto before = store_state();

  const auto failed = mcore({"commit", "changer", "half:1"});
  EXPECT_EQ(failed.exit_code, 125) << failed.err;
  EXPECT_NE(failed.err.find("redirect_dir"), std::string::npos) << failed.err;
  EXPECT_NE(failed.err.find("commit container changer"), std::string::npos) << failed.err;
  EXPECT_EQ(store_state(), before);
  EXPECT_NE(mcore({"inspect", "half:1"}).exit_code, 0) << "no image half:1";
}

}  // namespace
}  // namespace mcore::test
