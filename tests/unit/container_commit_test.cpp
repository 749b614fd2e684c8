// The config `mcore commit` writes for the new image: the container's settings over its image's, the
// new layer and history entry, and Docker's rules for what a container's argv means for Entrypoint/Cmd.
#include "engine/container/container_commit.hpp"

#include <gtest/gtest.h>

namespace mcore::engine {
namespace {

using nlohmann::json;

const std::string kBaseLayer = "sha256:" + std::string(64, 'a');
const std::string kDiff = "sha256:" + std::string(64, 'd');

// An image config as a registry serves it, with Docker's legacy fields.
json base_config() {
  return {
      {"architecture", "arm64"},
      {"os", "linux"},
      {"created", "2024-01-01T00:00:00Z"},
      {"author", "the image's author"},
      {"container", "0123456789ab"},
      {"container_config", {{"Cmd", {"/bin/sh", "-c", "#(nop) build"}}}},
      {"config",
       {{"Entrypoint", {"/entry.sh"}},
        {"Cmd", {"serve", "--port", "80"}},
        {"Env", {"PATH=/usr/bin:/bin", "LANG=C.UTF-8"}},
        {"WorkingDir", "/srv"},
        {"User", "www"},
        {"Labels", {{"org.example", "kept"}}}}},
      {"rootfs", {{"type", "layers"}, {"diff_ids", {kBaseLayer}}}},
      {"history", {{{"created", "2024-01-01T00:00:00Z"}, {"created_by", "ADD rootfs.tar /"}}}},
  };
}

// What run records for `mcore run -t IMAGE` of base_config(): the defaults it adds, then the image's.
ContainerSpec spec_of_plain_run() {
  ContainerSpec spec;
  spec.name = "web";
  spec.hostname = "3f2a1b0c9d8e";
  spec.tty = true;
  spec.args = {"/entry.sh", "serve", "--port", "80"};
  spec.env = {"PATH=/usr/bin:/bin", "HOSTNAME=3f2a1b0c9d8e", "TERM=xterm", "LANG=C.UTF-8"};
  spec.working_dir = "/srv";
  spec.user = "www";
  spec.image = "example/web:1";
  spec.image_id = "sha256:" + std::string(64, 'c');
  spec.image_layers = {kBaseLayer};
  return spec;
}

CommitOptions options_at(const std::string& created) {
  CommitOptions options;
  options.created = created;
  return options;
}

const Platform kHost{.os = "linux", .architecture = "amd64", .variant = ""};

TEST(CommitConfig, AnUnchangedContainerKeepsTheImageSettingsAndGainsALayerAndHistory) {
  CommitOptions options = options_at("2025-02-03T04:05:06Z");
  options.author = "Jane <jane@example.com>";
  options.message = "add the site";
  const json config = make_commit_config(base_config(), spec_of_plain_run(), kDiff, options, kHost);

  EXPECT_EQ(config["architecture"], "arm64") << "the image's platform, not the host's";
  EXPECT_EQ(config["created"], "2025-02-03T04:05:06Z");
  EXPECT_EQ(config["author"], "Jane <jane@example.com>");
  EXPECT_EQ(config["comment"], "add the site");
  EXPECT_FALSE(config.contains("container")) << config.dump();
  EXPECT_FALSE(config.contains("container_config")) << config.dump();

  const json& settings = config["config"];
  EXPECT_EQ(settings["Entrypoint"], json({"/entry.sh"}));
  EXPECT_EQ(settings["Cmd"], json({"serve", "--port", "80"}));
  EXPECT_EQ(settings["Env"], json({"PATH=/usr/bin:/bin", "LANG=C.UTF-8"}))
      << "HOSTNAME and TERM belong to the container, not to the image";
  EXPECT_EQ(settings["WorkingDir"], "/srv");
  EXPECT_EQ(settings["User"], "www");
  EXPECT_EQ(settings["Labels"], json({{"org.example", "kept"}}));

  EXPECT_EQ(config["rootfs"], json({{"type", "layers"}, {"diff_ids", {kBaseLayer, kDiff}}}));
  ASSERT_EQ(config["history"].size(), 2u);
  EXPECT_EQ(config["history"][0]["created_by"], "ADD rootfs.tar /");
  EXPECT_EQ(config["history"][1], json({{"created", "2025-02-03T04:05:06Z"},
                                        {"created_by", "mcore commit"},
                                        {"author", "Jane <jane@example.com>"},
                                        {"comment", "add the site"}}));
}

TEST(CommitConfig, WithoutAuthorOrMessageNeitherIsWritten) {
  const json config = make_commit_config(base_config(), spec_of_plain_run(), kDiff,
                                         options_at("2025-01-01T00:00:00Z"), kHost);
  EXPECT_FALSE(config.contains("author")) << "the image's author did not write this layer";
  EXPECT_FALSE(config.contains("comment"));
  EXPECT_FALSE(config["history"][1].contains("author"));
  EXPECT_FALSE(config["history"][1].contains("comment"));
}

TEST(CommitConfig, ANewCommandReplacesEntrypointAndCmd) {
  ContainerSpec spec = spec_of_plain_run();
  spec.args = {"sh", "-c", "echo hi > /added"};  // --entrypoint sh ... -c '...'
  const json config =
      make_commit_config(base_config(), spec, kDiff, options_at("2025-01-01T00:00:00Z"), kHost);
  EXPECT_TRUE(config["config"]["Entrypoint"].is_null()) << config["config"].dump();
  EXPECT_EQ(config["config"]["Cmd"], json({"sh", "-c", "echo hi > /added"}));
}

TEST(CommitConfig, ArgumentsAfterTheImageEntrypointBecomeCmd) {
  ContainerSpec spec = spec_of_plain_run();
  spec.args = {"/entry.sh", "migrate"};  // mcore run IMAGE migrate
  json config = make_commit_config(base_config(), spec, kDiff, options_at("2025-01-01T00:00:00Z"), kHost);
  EXPECT_EQ(config["config"]["Entrypoint"], json({"/entry.sh"}));
  EXPECT_EQ(config["config"]["Cmd"], json({"migrate"}));

  spec.args = {"/entry.sh"};  // --entrypoint /entry.sh drops the image's Cmd
  config = make_commit_config(base_config(), spec, kDiff, options_at("2025-01-01T00:00:00Z"), kHost);
  EXPECT_EQ(config["config"]["Entrypoint"], json({"/entry.sh"}));
  EXPECT_TRUE(config["config"]["Cmd"].is_null()) << config["config"].dump();
}

TEST(CommitConfig, TheContainersEnvironmentUserAndDirectoryWin) {
  ContainerSpec spec = spec_of_plain_run();
  spec.tty = false;
  // -e HOSTNAME=db -e DEBUG=1 -u 0:0 -w /tmp: what the user chose is the container's config.
  spec.env = {"PATH=/usr/bin:/bin", "HOSTNAME=db", "LANG=C.UTF-8", "TERM=xterm", "DEBUG=1"};
  spec.user = "0";
  spec.group = "0";
  spec.working_dir = "/tmp";
  const json settings =
      make_commit_config(base_config(), spec, kDiff, options_at("2025-01-01T00:00:00Z"), kHost)["config"];
  EXPECT_EQ(settings["Env"],
            json({"PATH=/usr/bin:/bin", "HOSTNAME=db", "LANG=C.UTF-8", "TERM=xterm", "DEBUG=1"}))
      << "without -t, TERM=xterm came from -e";
  EXPECT_EQ(settings["User"], "0:0");
  EXPECT_EQ(settings["WorkingDir"], "/tmp");
}

TEST(CommitConfig, AnImageWithoutWorkingDirOrUserKeepsThemUnset) {
  json base = base_config();
  base["config"].erase("WorkingDir");
  base["config"].erase("User");
  ContainerSpec spec = spec_of_plain_run();
  spec.working_dir = "/";  // run's default
  spec.user.clear();
  const json settings =
      make_commit_config(base, spec, kDiff, options_at("2025-01-01T00:00:00Z"), kHost)["config"];
  EXPECT_FALSE(settings.contains("WorkingDir")) << settings.dump();
  EXPECT_FALSE(settings.contains("User")) << settings.dump();
}

TEST(CommitConfig, AContainerWithoutChangesAddsAnEmptyLayerHistoryEntryOnly) {
  const json config =
      make_commit_config(base_config(), spec_of_plain_run(), "", options_at("2025-01-01T00:00:00Z"), kHost);
  EXPECT_EQ(config["rootfs"]["diff_ids"], json({kBaseLayer}));
  ASSERT_EQ(config["history"].size(), 2u);
  EXPECT_EQ(config["history"][1]["empty_layer"], true);
}

TEST(CommitConfig, WhenTheImageConfigIsGoneTheSpecAndHostDescribeTheImage) {
  ContainerSpec spec = spec_of_plain_run();
  spec.args = {"sh"};
  const json config = make_commit_config(std::nullopt, spec, kDiff, options_at("2025-01-01T00:00:00Z"),
                                         {.os = "linux", .architecture = "arm", .variant = "v7"});
  EXPECT_EQ(config["architecture"], "arm");
  EXPECT_EQ(config["variant"], "v7");
  EXPECT_EQ(config["os"], "linux");
  EXPECT_TRUE(config["config"]["Entrypoint"].is_null());
  EXPECT_EQ(config["config"]["Cmd"], json({"sh"}));
  EXPECT_EQ(config["config"]["Env"], json({"PATH=/usr/bin:/bin", "LANG=C.UTF-8"}));
  EXPECT_EQ(config["config"]["WorkingDir"], "/srv");
  EXPECT_EQ(config["config"]["User"], "www");
  EXPECT_EQ(config["rootfs"]["diff_ids"], json({kBaseLayer, kDiff}));
  ASSERT_EQ(config["history"].size(), 1u);
  EXPECT_EQ(config["history"][0]["created_by"], "mcore commit");
}

}  // namespace
}  // namespace mcore::engine
