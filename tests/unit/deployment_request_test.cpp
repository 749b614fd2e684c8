// A deployment's service as the ContainerRequest that makes its container, and the request's hash.
#include <gtest/gtest.h>

#include <algorithm>

#include "engine/deploy/deployment_up.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

Deployment shop() {
  Deployment deployment;
  deployment.name = "shop";
  DeploymentService web;
  web.name = "web";
  web.image = "box:1";
  web.entrypoint = std::vector<std::string>{"sh", "-c"};
  web.command = std::vector<std::string>{"exec httpd -f"};
  web.ports = {"8080:80"};
  web.volumes = {"data:/data:ro", "/tmp:/static", "/scratch"};
  web.environment = {"A=1"};
  web.networks = {"front"};
  web.depends_on = {{"db", "service_healthy"}};
  web.restart = "always";
  web.memory = "64m";
  web.cpus = 0.5;
  web.user = "www:www";
  deployment.services = {web};
  return deployment;
}

TEST(DeploymentRequest, AServiceIsTheRequestOfItsSettings) {
  const auto deployment = shop();
  const ContainerRequest request = service_request(deployment, deployment.services.front());
  EXPECT_EQ(request.image, "box:1");
  EXPECT_TRUE(request.detach);
  EXPECT_EQ(request.name, "shop-web-1");
  const std::map<std::string, std::string> labels = {
      {kDeploymentLabel, "shop"}, {kServiceLabel, "web"}, {kDependsOnLabel, "db"}};
  EXPECT_EQ(request.labels, labels);
  EXPECT_EQ(request.network, "shop_front");
  EXPECT_EQ(request.network_aliases, std::vector<std::string>{"web"});
  ASSERT_EQ(request.ports.size(), 1u);
  EXPECT_EQ(request.ports[0].host_port, 8080);
  EXPECT_EQ(request.ports[0].container_port, 80);
  ASSERT_EQ(request.volumes.size(), 3u);
  EXPECT_EQ(request.volumes[0].volume, "shop_data");  // the deployment's volume, not a global "data"
  EXPECT_TRUE(request.volumes[0].read_only);
  EXPECT_EQ(request.volumes[1].host_path, "/tmp");
  EXPECT_EQ(request.volumes[2].container_path, "/scratch");
  EXPECT_EQ(request.env, std::vector<std::string>{"A=1"});
  EXPECT_EQ(request.restart.kind, RestartPolicy::Kind::always);
  EXPECT_EQ(request.limits.memory_bytes, 64 << 20);
  EXPECT_EQ(request.limits.nano_cpus, 500'000'000);
  ASSERT_TRUE(request.user);
  EXPECT_EQ(request.user->user, "www");
  EXPECT_EQ(request.user->group, "www");
  // The entrypoint's first word is the program; the rest of it leads the command.
  EXPECT_EQ(request.entrypoint, "sh");
  EXPECT_EQ(request.command, (std::vector<std::string>{"-c", "exec httpd -f"}));
}

TEST(DeploymentRequest, ServicesWithoutNetworksJoinTheDefaultOneAndOneNetworkAtMost) {
  auto deployment = shop();
  auto& web = deployment.services.front();
  web.networks.clear();
  EXPECT_EQ(service_request(deployment, web).network, "shop_default");
  web.networks = {"front", "back"};
  EXPECT_THROW(service_request(deployment, web), Error);
}

TEST(DeploymentRequest, BadValuesInTheFileAreRefusedBeforeAnythingRuns) {
  auto deployment = shop();
  deployment.services.front().ports = {"eighty"};
  EXPECT_THROW(service_request(deployment, deployment.services.front()), Error);
}

TEST(DeploymentRequest, TheHashFollowsEverySetting) {
  const auto deployment = shop();
  const ContainerRequest request = service_request(deployment, deployment.services.front());
  EXPECT_EQ(request_hash(request), request_hash(service_request(deployment, deployment.services.front())));
  auto changed = request;
  changed.command.back() = "exec httpd -f -v";
  EXPECT_NE(request_hash(changed), request_hash(request));
  changed = request;
  changed.limits.pids_limit = 10;
  EXPECT_NE(request_hash(changed), request_hash(request));
  changed = request;
  changed.volumes[0].read_only = false;
  EXPECT_NE(request_hash(changed), request_hash(request));
  // Boundaries count: ["ab", "c"] is not ["a", "bc"].
  changed = request;
  changed.command = {"ab", "c"};
  auto other = request;
  other.command = {"a", "bc"};
  EXPECT_NE(request_hash(changed), request_hash(other));
}

}  // namespace
}  // namespace mcore::engine
