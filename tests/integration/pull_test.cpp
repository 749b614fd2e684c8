// mcore pull end to end: the registry-docker plugin, the one-pass pipeline, the image store and the
// overlay layer store, against Debian's docker-registry on 127.0.0.1.
#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <sstream>

#include "oci_image_builder.hpp"
#include "registry_fixture.hpp"
#include "test_support.hpp"

namespace mcore::test {
namespace {
namespace fs = std::filesystem;

class PullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    registry_ = std::make_unique<RegistryFixture>();
    sandbox_ = std::make_unique<McoreSandbox>();
  }

  // Builds a two-layer image (the second deletes a file of the first) and pushes it as `repo_tag`.
  BuiltImage push_two_layers(const std::string& repo_tag) {
    OciImageBuilder builder(layouts_.path() / repo_tag.substr(0, repo_tag.find(':')));
    auto image = builder.add_image({{LayerEntry::directory("etc"), LayerEntry::file("etc/hello", "hello\n"),
                                     LayerEntry::file("etc/gone", "bye\n")},
                                    {LayerEntry::whiteout("etc/gone"), LayerEntry::file("etc/second", "2\n")}});
    builder.tag(image, "latest");
    registry_->push(builder.dir(), repo_tag, "latest");
    return image;
  }

  std::string reference(const std::string& repo_tag) const { return registry_->host() + "/" + repo_tag; }

  nlohmann::json index() const {
    fs::path file = sandbox_->data_root() / "images/index.json";
    return fs::exists(file) ? nlohmann::json::parse(read_text(file)) : nlohmann::json{{"images", nlohmann::json::array()}};
  }

  bool layer_stored(const std::string& diff_id) const {
    return fs::is_directory(sandbox_->data_root() / "storage/overlay/layers" / diff_id.substr(7) / "diff");
  }

  TempDir layouts_{"mcore-layouts"};
  std::unique_ptr<RegistryFixture> registry_;
  std::unique_ptr<McoreSandbox> sandbox_;
};

TEST_F(PullTest, PullsVerifiesAndUnpacksEveryLayerOnce) {
  auto image = push_two_layers("app:1");
  auto pulled = sandbox_->mcore({"pull", reference("app:1")});
  ASSERT_EQ(pulled.exit_code, 0) << pulled.out << pulled.err;
  EXPECT_NE(pulled.out.find("Pull complete"), std::string::npos) << pulled.out;
  EXPECT_TRUE(pulled.out.ends_with(reference("app:1") + "\n")) << pulled.out;

  auto images = index()["images"];
  ASSERT_EQ(images.size(), 1u) << images.dump();
  EXPECT_EQ(images[0]["id"], image.config_digest);
  EXPECT_EQ(images[0]["names"], nlohmann::json::array({reference("app:1")}));
  ASSERT_EQ(images[0]["layers"].size(), 2u);
  for (const auto& layer : image.layers) {
    EXPECT_TRUE(layer_stored(layer.diff_id)) << layer.diff_id;
    EXPECT_TRUE(fs::exists(sandbox_->data_root() / "images/blobs/sha256" / layer.digest.substr(7)));
  }
  // The second layer's whiteout became an overlay whiteout (a 0:0 character device).
  fs::path whiteout =
      sandbox_->data_root() / "storage/overlay/layers" / image.layers[1].diff_id.substr(7) / "diff/etc/gone";
  EXPECT_TRUE(fs::is_character_file(whiteout));

  auto again = sandbox_->mcore({"pull", reference("app:1")});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  std::size_t reused = 0;
  for (auto at = again.out.find("Already exists"); at != std::string::npos; at = again.out.find("Already exists", at + 1)) {
    ++reused;
  }
  EXPECT_EQ(reused, 2u) << again.out;
  EXPECT_EQ(again.out.find("Downloading"), std::string::npos) << again.out;
}

TEST_F(PullTest, ACorruptBlobStopsThePullAndStoresNothing) {
  auto image = push_two_layers("broken:1");
  // Flip bytes in the middle of the registry's copy of the first layer.
  fs::path blob = registry_->blob_path(image.layers[0].digest);
  std::string bytes = read_text(blob);
  ASSERT_GT(bytes.size(), 40u);
  for (std::size_t i = 20; i < 30; ++i) bytes[i] ^= 0x5a;
  std::ofstream(blob, std::ios::binary | std::ios::trunc) << bytes;

  auto pulled = sandbox_->mcore({"pull", "-q", reference("broken:1")});
  EXPECT_EQ(pulled.exit_code, 125) << pulled.out << pulled.err;
  EXPECT_NE(pulled.err.find("failed verification"), std::string::npos) << pulled.err;
  EXPECT_EQ(std::count(pulled.err.begin(), pulled.err.end(), '\n'), 1) << pulled.err;
  EXPECT_TRUE(index()["images"].empty());
  EXPECT_FALSE(layer_stored(image.layers[0].diff_id));
  EXPECT_FALSE(fs::exists(sandbox_->data_root() / "images/blobs/sha256" / image.layers[0].digest.substr(7)));
}

TEST_F(PullTest, UnknownTagsBadNamesAndAStoppedRegistryAreClearErrors) {
  push_two_layers("app:1");
  auto unknown = sandbox_->mcore({"pull", reference("app:nope")});
  EXPECT_EQ(unknown.exit_code, 125);
  EXPECT_NE(unknown.err.find("not found"), std::string::npos) << unknown.err;

  auto bad = sandbox_->mcore({"pull", registry_->host() + "/UPPER:1"});
  EXPECT_EQ(bad.exit_code, 125);
  EXPECT_NE(bad.err.find("lowercase"), std::string::npos) << bad.err;

  registry_->stop();
  auto down = sandbox_->mcore({"pull", reference("app:1")});
  EXPECT_EQ(down.exit_code, 125);
  EXPECT_NE(down.err.find("cannot reach"), std::string::npos) << down.err;
  EXPECT_TRUE(index()["images"].empty());
}

// A busybox image: Entrypoint sh -c, a default Cmd, Env, WorkingDir and a named User; the second
// layer deletes a file and makes /data opaque, which the container must see.
BuiltImage push_busybox_image(RegistryFixture& registry, const fs::path& layout, const std::string& repo_tag) {
  Layer base = {LayerEntry::directory("bin"), LayerEntry::file("bin/busybox", read_text("/bin/busybox"), 0755),
                LayerEntry::directory("etc"),
                LayerEntry::file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"),
                LayerEntry::file("etc/group", "root:x:0:\napp:x:1000:\n"), LayerEntry::file("etc/gone", "x\n"),
                LayerEntry::directory("data"), LayerEntry::file("data/old", "old\n"),
                LayerEntry::directory("work", 0777)};
  for (const char* applet : {"sh", "echo", "id", "pwd", "ls", "test", "cat"}) {
    base.push_back(LayerEntry::symlink(std::string("bin/") + applet, "busybox"));
  }
  Layer top = {LayerEntry::whiteout("etc/gone"), LayerEntry::opaque("data"), LayerEntry::file("data/new", "new\n")};
  nlohmann::json config = {{"Entrypoint", {"/bin/sh", "-c"}},
                           {"Cmd", {"echo $GREETING; pwd; id -u; ls /data; test -e /etc/gone || echo gone-hidden"}},
                           {"Env", {"PATH=/bin", "GREETING=hi"}},
                           {"WorkingDir", "/work"},
                           {"User", "app"}};
  OciImageBuilder builder(layout);
  auto image = builder.add_image({base, top}, "amd64", "", config);
  builder.tag(image, "latest");
  registry.push(builder.dir(), repo_tag, "latest");
  return image;
}

TEST_F(PullTest, RunPullsAMissingImageAndHonoursItsConfig) {
  push_busybox_image(*registry_, layouts_.path() / "busybox", "busybox:1");
  const std::string image = reference("busybox:1");
  auto first = sandbox_->mcore({"run", "--rm", image});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_EQ(first.out, "hi\n/work\n1000\nnew\ngone-hidden\n");
  EXPECT_NE(first.err.find("Unable to find image"), std::string::npos) << first.err;

  // Now local: no pull; flags override Env, User and WorkingDir, arguments replace Cmd.
  auto second = sandbox_->mcore({"run", "--rm", "-e", "GREETING=override", "-u", "0", "-w", "/", image,
                                 "echo $GREETING; id -u; pwd"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, "override\n0\n/\n");
  EXPECT_EQ(second.err, "");

  auto entrypoint = sandbox_->mcore({"run", "--rm", "--entrypoint", "/bin/echo", image, "hello"});
  EXPECT_EQ(entrypoint.out, "hello\n") << entrypoint.err;

  auto never = sandbox_->mcore({"run", "--rm", "--pull=never", reference("busybox:2"), "true"});
  EXPECT_EQ(never.exit_code, 125);
  EXPECT_NE(never.err.find("not in the local store"), std::string::npos) << never.err;
}

TEST_F(PullTest, ParallelPullsAndRunsOfOneImageAllSucceed) {
  // Issue 14, item 5: all but one failed with "is being downloaded by another mcore process". A big
  // layer keeps the first download busy while the others start.
  OciImageBuilder builder(layouts_.path() / "big");
  auto big = builder.add_image({{LayerEntry::directory("data"),
                                 LayerEntry::file("data/blob", incompressible_bytes(24 << 20))},
                                {LayerEntry::file("data/small", "small\n")}});
  builder.tag(big, "latest");
  registry_->push(builder.dir(), "big:1", "latest");
  std::vector<std::future<CommandResult>> pulls;
  for (int i = 0; i < 5; ++i) {
    pulls.push_back(std::async(std::launch::async, [&] { return sandbox_->mcore({"pull", reference("big:1")}); }));
  }
  for (auto& pull : pulls) {
    const CommandResult result = pull.get();
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  }
  for (const auto& layer : big.layers) EXPECT_TRUE(layer_stored(layer.diff_id)) << layer.diff_id;
  EXPECT_EQ(index()["images"].size(), 1u);

  push_busybox_image(*registry_, layouts_.path() / "busybox", "busybox:1");
  std::vector<std::future<CommandResult>> runs;
  for (int i = 0; i < 3; ++i) {
    runs.push_back(std::async(std::launch::async, [&] {
      return sandbox_->mcore({"run", "--rm", reference("busybox:1"), "echo ran"});
    }));
  }
  for (auto& run : runs) {
    const CommandResult result = run.get();
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.out, "ran\n") << result.err;
  }
}

}  // namespace
}  // namespace mcore::test
