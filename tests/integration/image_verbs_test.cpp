// mcore images, rmi, image prune and inspect against images pulled from the test registry: listing,
// shared layers surviving a removal, the container-use rule, pruning dangling images.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "oci_image_builder.hpp"
#include "registry_fixture.hpp"
#include "test_support.hpp"

namespace mcore::test {
namespace {
namespace fs = std::filesystem;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string short_id(const std::string& digest) { return digest.substr(7, 12); }

class ImageVerbsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    registry_ = std::make_unique<RegistryFixture>();
    sandbox_ = std::make_unique<McoreSandbox>();
  }

  // A busybox base layer (identical in every image, so its diff_id is shared) under `top`, whose Cmd
  // is /bin/true; pushed as `repo_tag`.
  BuiltImage push(const std::string& repo_tag, const Layer& top) {
    Layer base = {LayerEntry::directory("bin"), LayerEntry::file("bin/busybox", read_text("/bin/busybox"), 0755)};
    for (const char* applet : {"sh", "true"}) base.push_back(LayerEntry::symlink(std::string("bin/") + applet, "busybox"));
    OciImageBuilder builder(layouts_.path() / std::to_string(pushed_++));
    auto image = builder.add_image({base, top}, "amd64", "", {{"Cmd", {"/bin/true"}}, {"Env", {"PATH=/bin"}}});
    builder.tag(image, "latest");
    registry_->push(builder.dir(), repo_tag, "latest");
    return image;
  }

  BuiltImage push_and_pull(const std::string& repo_tag, const Layer& top) {
    auto image = push(repo_tag, top);
    auto pulled = sandbox_->mcore({"pull", "-q", reference(repo_tag)});
    EXPECT_EQ(pulled.exit_code, 0) << pulled.out << pulled.err;
    return image;
  }

  std::string reference(const std::string& repo_tag) const { return registry_->host() + "/" + repo_tag; }

  bool layer_stored(const std::string& diff_id) const {
    return fs::is_directory(sandbox_->data_root() / "storage/overlay/layers" / diff_id.substr(7) / "diff");
  }
  bool blob_stored(const std::string& digest) const {
    return fs::exists(sandbox_->data_root() / "images/blobs/sha256" / digest.substr(7));
  }

  // The one container record the sandbox holds.
  fs::path only_container_dir() const {
    std::vector<fs::path> dirs;
    for (const auto& entry : fs::directory_iterator(sandbox_->data_root() / "containers")) {
      if (fs::exists(entry.path() / "container.json")) dirs.push_back(entry.path());
    }
    EXPECT_EQ(dirs.size(), 1u);
    return dirs.empty() ? fs::path() : dirs.front();
  }

  std::vector<std::string> image_ids() const {
    auto listed = sandbox_->mcore({"images", "-q"});
    EXPECT_EQ(listed.exit_code, 0) << listed.err;
    return lines_of(listed.out);
  }

  TempDir layouts_{"mcore-layouts"};
  int pushed_ = 0;
  std::unique_ptr<RegistryFixture> registry_;
  std::unique_ptr<McoreSandbox> sandbox_;
};

TEST_F(ImageVerbsTest, ListsImagesAndRmiKeepsTheSharedLayer) {
  auto one = push_and_pull("one:1", {LayerEntry::file("one", "1\n")});
  auto two = push_and_pull("two:1", {LayerEntry::file("two", "2\n")});
  ASSERT_EQ(one.layers[0].diff_id, two.layers[0].diff_id);

  auto listed = sandbox_->mcore({"images"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  auto lines = lines_of(listed.out);
  ASSERT_EQ(lines.size(), 3u) << listed.out;
  EXPECT_TRUE(std::regex_search(lines[0], std::regex("^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$"))) << lines[0];
  for (const auto& [repo, image] : {std::pair{std::string("one"), one}, std::pair{std::string("two"), two}}) {
    const std::regex row("^" + std::regex_replace(reference(repo), std::regex("\\."), "\\.") + " +1 +" +
                         short_id(image.config_digest) + " +[0-9]+ [a-z]+ ago +[0-9.]+(B|kB|MB)$");
    bool found = false;
    for (const auto& line : lines) found = found || std::regex_search(line, row);
    EXPECT_TRUE(found) << repo << " missing from:\n" << listed.out;
  }

  auto ids = image_ids();
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()),
            (std::set<std::string>{short_id(one.config_digest), short_id(two.config_digest)}));

  auto json = sandbox_->mcore({"images", "--format", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(nlohmann::json::parse(json.out).size(), 2u) << json.out;

  auto removed = sandbox_->mcore({"rmi", reference("two:1")});
  ASSERT_EQ(removed.exit_code, 0) << removed.out << removed.err;
  EXPECT_NE(removed.out.find("Untagged: " + reference("two:1") + "\n"), std::string::npos) << removed.out;
  EXPECT_NE(removed.out.find("Deleted: " + two.config_digest + "\n"), std::string::npos) << removed.out;
  EXPECT_TRUE(layer_stored(two.layers[0].diff_id)) << "the shared layer must stay";
  EXPECT_FALSE(layer_stored(two.layers[1].diff_id));
  EXPECT_FALSE(blob_stored(two.layers[1].digest));
  EXPECT_FALSE(blob_stored(two.config_digest));
  EXPECT_FALSE(blob_stored(two.manifest_digest));
  EXPECT_TRUE(layer_stored(one.layers[1].diff_id));
  EXPECT_TRUE(blob_stored(one.layers[0].digest));
  EXPECT_TRUE(blob_stored(one.config_digest));
  EXPECT_EQ(image_ids(), std::vector<std::string>{short_id(one.config_digest)});

  auto unknown = sandbox_->mcore({"rmi", reference("two:1")});
  EXPECT_EQ(unknown.exit_code, 125);
  EXPECT_NE(unknown.err.find("No such image"), std::string::npos) << unknown.err;
}

TEST_F(ImageVerbsTest, RmiRefusesAnImageAContainerUsesUnlessForced) {
  auto image = push("keep:1", {LayerEntry::file("keep", "k\n")});
  auto ran = sandbox_->mcore({"run", "--name", "keep", reference("keep:1")});
  ASSERT_EQ(ran.exit_code, 0) << ran.out << ran.err;

  auto refused = sandbox_->mcore({"rmi", reference("keep:1")});
  EXPECT_EQ(refused.exit_code, 125);
  EXPECT_NE(refused.err.find("container keep uses image " + short_id(image.config_digest)), std::string::npos)
      << refused.err;
  EXPECT_EQ(image_ids().size(), 1u);

  auto forced = sandbox_->mcore({"rmi", "-f", reference("keep:1")});
  ASSERT_EQ(forced.exit_code, 0) << forced.out << forced.err;
  EXPECT_NE(forced.out.find("Deleted: " + image.config_digest), std::string::npos) << forced.out;
  EXPECT_TRUE(image_ids().empty());
  EXPECT_FALSE(blob_stored(image.config_digest));
  // The stopped container still needs its layers, and its record says so even with the image gone.
  EXPECT_TRUE(layer_stored(image.layers[0].diff_id));
  EXPECT_TRUE(layer_stored(image.layers[1].diff_id));
  const fs::path container_dir = only_container_dir();
  const auto record = nlohmann::json::parse(read_text(container_dir / "container.json"));
  EXPECT_EQ(record["spec"].value("image_id", ""), image.config_digest) << record.dump();
  EXPECT_EQ(record["spec"].value("image_layers", std::vector<std::string>{}),
            (std::vector<std::string>{image.layers[0].diff_id, image.layers[1].diff_id}));
  auto pruned = sandbox_->mcore({"image", "prune", "-a", "-f"});
  ASSERT_EQ(pruned.exit_code, 0) << pruned.err;
  EXPECT_TRUE(layer_stored(image.layers[1].diff_id)) << "prune freed a layer a container lists";

  // Once the container is gone, prune frees them.
  ASSERT_EQ(sandbox_->mcore({"rm", "keep"}).exit_code, 0);
  pruned = sandbox_->mcore({"image", "prune", "-a", "-f"});
  ASSERT_EQ(pruned.exit_code, 0) << pruned.err;
  EXPECT_FALSE(layer_stored(image.layers[0].diff_id));
  EXPECT_FALSE(layer_stored(image.layers[1].diff_id));
}

TEST_F(ImageVerbsTest, RmiRefusesEvenForcedWhileARunningContainerUsesTheImageButNotOnceItDied) {
  push("busy:1", {LayerEntry::file("busy", "b\n")});
  auto ran = sandbox_->mcore({"run", "-d", "--name", "busy", reference("busy:1"), "busybox", "sleep", "1000"});
  ASSERT_EQ(ran.exit_code, 0) << ran.out << ran.err;
  auto refused = sandbox_->mcore({"rmi", "-f", reference("busy:1")});
  EXPECT_EQ(refused.exit_code, 125);
  EXPECT_NE(refused.err.find("used by running container busy"), std::string::npos) << refused.err;

  // Its supervisor killed, the container dies with it while its record still says running.
  const auto state = nlohmann::json::parse(sandbox_->mcore({"inspect", "busy"}).out)[0]["State"];
  const std::string init = "/proc/" + std::to_string(state.value("Pid", 0));
  const std::string stat = read_text(init + "/stat");
  const pid_t supervisor = std::stoi(stat.substr(stat.rfind(')') + 4));
  ASSERT_GT(supervisor, 1) << stat;
  ASSERT_EQ(::kill(supervisor, SIGKILL), 0);
  auto status = [&] {
    auto shown = nlohmann::json::parse(sandbox_->mcore({"inspect", "busy"}).out, nullptr, false);
    return shown.is_array() ? shown[0]["State"].value("Status", "") : "";
  };
  for (int i = 0; i < 200 && status() != "exited"; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto forced = sandbox_->mcore({"rmi", "-f", reference("busy:1")});
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_TRUE(image_ids().empty());
  EXPECT_EQ(sandbox_->mcore({"rm", "busy"}).exit_code, 0);
}

TEST_F(ImageVerbsTest, ARetaggedNameStillProtectsTheImageAContainerUses) {
  auto old_image = push("app:1", {LayerEntry::file("v", "old\n")});
  auto ran = sandbox_->mcore({"run", "--name", "old-app", reference("app:1")});
  ASSERT_EQ(ran.exit_code, 0) << ran.out << ran.err;
  auto new_image = push_and_pull("app:1", {LayerEntry::file("v", "new\n")});  // app:1 now names another image
  ASSERT_NE(old_image.config_digest, new_image.config_digest);

  auto refused = sandbox_->mcore({"rmi", old_image.config_digest});
  EXPECT_EQ(refused.exit_code, 125) << refused.out;
  EXPECT_NE(refused.err.find("container old-app uses image " + short_id(old_image.config_digest)),
            std::string::npos)
      << refused.err;
}

TEST_F(ImageVerbsTest, SizeIsTheUnpackedSizeOfTheLayers) {
  const std::string payload(300000, 'x');  // compresses to almost nothing: a compressed size would show
  auto image = push_and_pull("big:1", {LayerEntry::file("payload", payload)});
  auto inspected = sandbox_->mcore({"inspect", reference("big:1")});
  ASSERT_EQ(inspected.exit_code, 0) << inspected.err;
  const auto json = nlohmann::json::parse(inspected.out);
  ASSERT_EQ(json.size(), 1u);
  const auto busybox_size = static_cast<std::int64_t>(fs::file_size("/bin/busybox"));
  EXPECT_EQ(json[0].value("Size", std::int64_t{0}), busybox_size + static_cast<std::int64_t>(payload.size()))
      << "regular file bytes of both layers";
}

TEST_F(ImageVerbsTest, ImagePruneRemovesDanglingImages) {
  auto old_image = push_and_pull("app:1", {LayerEntry::file("v", "1\n")});
  auto new_image = push_and_pull("app:1", {LayerEntry::file("v", "2\n")});

  auto listed = sandbox_->mcore({"images"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_TRUE(std::regex_search(listed.out, std::regex("<none> +<none> +" + short_id(old_image.config_digest))))
      << listed.out;

  auto pruned = sandbox_->mcore({"image", "prune", "-f"});
  ASSERT_EQ(pruned.exit_code, 0) << pruned.out << pruned.err;
  EXPECT_NE(pruned.out.find("deleted: " + old_image.config_digest), std::string::npos) << pruned.out;
  EXPECT_TRUE(std::regex_search(pruned.out, std::regex("Total reclaimed space: [0-9.]+(B|kB|MB)\n$"))) << pruned.out;
  EXPECT_EQ(image_ids(), std::vector<std::string>{short_id(new_image.config_digest)});
  EXPECT_FALSE(layer_stored(old_image.layers[1].diff_id));
  EXPECT_FALSE(blob_stored(old_image.layers[1].digest));
  EXPECT_TRUE(layer_stored(new_image.layers[0].diff_id));
  EXPECT_TRUE(layer_stored(new_image.layers[1].diff_id));

  auto all = sandbox_->mcore({"image", "prune", "-a", "-f"});
  ASSERT_EQ(all.exit_code, 0) << all.out << all.err;
  EXPECT_TRUE(image_ids().empty());
  EXPECT_FALSE(layer_stored(new_image.layers[0].diff_id));
}

TEST_F(ImageVerbsTest, InspectShowsRootfsLayersAndConfig) {
  auto image = push_and_pull("insp:1", {LayerEntry::file("x", "x\n")});
  auto inspected = sandbox_->mcore({"inspect", reference("insp:1")});
  ASSERT_EQ(inspected.exit_code, 0) << inspected.err;
  auto json = nlohmann::json::parse(inspected.out);
  ASSERT_TRUE(json.is_array());
  ASSERT_EQ(json.size(), 1u);
  EXPECT_EQ(json[0]["Id"], image.config_digest);
  EXPECT_EQ(json[0]["RepoTags"], nlohmann::json::array({reference("insp:1")}));
  EXPECT_EQ(json[0]["RootFS"]["Type"], "layers");
  EXPECT_EQ(json[0]["RootFS"]["Layers"],
            nlohmann::json::array({image.layers[0].diff_id, image.layers[1].diff_id}));
  EXPECT_EQ(json[0]["Config"]["Cmd"], nlohmann::json::array({"/bin/true"}));
  EXPECT_EQ(json[0]["Architecture"], "amd64");

  auto unknown = sandbox_->mcore({"inspect", "nope"});
  EXPECT_EQ(unknown.exit_code, 1);  // Docker's code for an unknown object
  EXPECT_EQ(unknown.out, "[]\n");
  EXPECT_NE(unknown.err.find("No such object: nope"), std::string::npos) << unknown.err;
}

}  // namespace
}  // namespace mcore::test
