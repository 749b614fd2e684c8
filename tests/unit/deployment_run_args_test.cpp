// A deployment's service as the `run` arguments that make its container.
#include "cli/deployment_run_args.hpp"

#include <gtest/gtest.h>

#include "mcore/error.hpp"

namespace mcore::cli {
namespace {

engine::Deployment shop() {
  engine::Deployment deployment;
  deployment.name = "shop";
  engine::DeploymentService web;
  web.name = "web";
  web.image = "box:1";
  web.entrypoint = std::vector<std::string>{"sh", "-c"};
  web.command = std::vector<std::string>{"exec httpd -f"};
  web.ports = {"8080:80"};
  web.volumes = {"data:/data:ro", "/srv/static:/static", "/scratch"};
  web.environment = {"A=1"};
  web.networks = {"front"};
  web.restart = "always";
  web.memory = "64m";
  web.cpus = 0.5;
  deployment.services = {web};
  return deployment;
}

TEST(DeploymentRunArgs, AServiceIsTheRunOfItsSettings) {
  const auto deployment = shop();
  const std::vector<std::string> expected = {
      "--name", "shop-web-1", "--label", "mcore.deployment=shop", "--label", "mcore.service=web",
      "--network", "shop_front", "--network-alias", "web", "-p", "8080:80",
      "-v", "shop_data:/data:ro", "-v", "/srv/static:/static", "-v", "/scratch", "-e", "A=1",
      "--restart", "always", "--memory", "64m", "--cpus", "0.5",
      // run's --entrypoint is the program; the rest of the entrypoint leads the command.
      "--entrypoint", "sh", "box:1", "-c", "exec httpd -f"};
  EXPECT_EQ(service_run_arguments(deployment, deployment.services.front()), expected);
}

TEST(DeploymentRunArgs, ServicesWithoutNetworksJoinTheDefaultOneAndOneNetworkAtMost) {
  auto deployment = shop();
  auto& web = deployment.services.front();
  web.networks.clear();
  const auto args = service_run_arguments(deployment, web);
  EXPECT_NE(std::find(args.begin(), args.end(), "shop_default"), args.end());
  web.networks = {"front", "back"};
  EXPECT_THROW(service_run_arguments(deployment, web), Error);
}

TEST(DeploymentRunArgs, TheHashFollowsEveryArgumentAndItsBoundaries) {
  const auto deployment = shop();
  const auto args = service_run_arguments(deployment, deployment.services.front());
  EXPECT_EQ(run_arguments_hash(args), run_arguments_hash(args));
  auto changed = args;
  changed.back() = "exec httpd -f -v";
  EXPECT_NE(run_arguments_hash(changed), run_arguments_hash(args));
  EXPECT_NE(run_arguments_hash({"ab", "c"}), run_arguments_hash({"a", "bc"}));
}

}  // namespace
}  // namespace mcore::cli
