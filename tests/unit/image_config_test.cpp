// Docker's rules for combining an image's Entrypoint/Cmd with --entrypoint and arguments.
#include "engine/image/image_config.hpp"

#include <gtest/gtest.h>

#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

using List = std::vector<std::string>;

TEST(ImageConfig, ReadsTheContainerDefaults) {
  auto defaults = read_image_defaults(nlohmann::json::parse(R"({"config": {"Entrypoint": ["/init"],
      "Cmd": ["serve", "--port", "80"], "Env": ["A=1"], "WorkingDir": "/srv", "User": "www:www"}})"));
  EXPECT_EQ(defaults.entrypoint, List{"/init"});
  EXPECT_EQ(defaults.cmd, (List{"serve", "--port", "80"}));
  EXPECT_EQ(defaults.env, List{"A=1"});
  EXPECT_EQ(defaults.working_dir, "/srv");
  EXPECT_EQ(defaults.user, "www:www");
  EXPECT_TRUE(read_image_defaults(nlohmann::json::parse(R"({"config": {"Cmd": null}})")).cmd.empty());
  EXPECT_THROW(read_image_defaults(nlohmann::json::parse(R"({"config": {"Cmd": "sh"}})")), Error);
}

TEST(ImageConfig, CommandFollowsDockersRules) {
  ImageDefaults image;
  image.entrypoint = {"/init"};
  image.cmd = {"serve"};
  EXPECT_EQ(container_command(image, std::nullopt, {}), (List{"/init", "serve"}));
  EXPECT_EQ(container_command(image, std::nullopt, {"debug", "-v"}), (List{"/init", "debug", "-v"}));
  // --entrypoint drops the image's Cmd; an empty one clears the entrypoint.
  EXPECT_EQ(container_command(image, "/bin/sh", {}), List{"/bin/sh"});
  EXPECT_EQ(container_command(image, "", {"ls"}), List{"ls"});
  EXPECT_THROW(container_command(ImageDefaults{}, std::nullopt, {}), Error);
  EXPECT_THROW(container_command(image, "", {}), Error);
}

}  // namespace
}  // namespace mcore::engine
