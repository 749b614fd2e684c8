// --userns, --uidmap and --gidmap resolved into a container's maps, and what is refused before
// anything of the container exists.
#include "engine/container/container_user_namespace.hpp"

#include <string>

#include <gtest/gtest.h>

#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

std::string refusal(const ContainerRequest& request, ContainerSpec spec = {}) {
  try {
    resolve_user_namespace(request, spec);
  } catch (const Error& error) {
    return std::string(error.what()) + " | " + error.hint();
  }
  return "no error";
}

TEST(ContainerUserNamespace, NoFlagsShareTheHostsNamespace) {
  ContainerSpec spec;
  resolve_user_namespace({}, spec);
  EXPECT_FALSE(has_own_user_namespace(spec));
  ContainerRequest host;
  host.userns = "host";
  resolve_user_namespace(host, spec);
  EXPECT_FALSE(has_own_user_namespace(spec));
}

TEST(ContainerUserNamespace, AUidMapAloneServesForTheGidsToo) {
  ContainerRequest request;
  request.uid_maps = {"0:100000:65536"};
  ContainerSpec spec;
  resolve_user_namespace(request, spec);
  ASSERT_TRUE(has_own_user_namespace(spec));
  EXPECT_EQ(id_map_lines(spec.uid_map), std::vector<std::string>{"0:100000:65536"});
  EXPECT_EQ(id_map_lines(spec.gid_map), std::vector<std::string>{"0:100000:65536"});

  request.gid_maps = {"0:200000:10", "10:300000:5"};
  resolve_user_namespace(request, spec);
  EXPECT_EQ(id_map_lines(spec.gid_map), (std::vector<std::string>{"0:200000:10", "10:300000:5"}));
}

TEST(ContainerUserNamespace, BadMapsAreRefusedNamingTheFlag) {
  ContainerRequest request;
  request.uid_maps = {"0:100000:65536", "100:300000:10"};
  EXPECT_NE(refusal(request).find("--uidmap"), std::string::npos) << refusal(request);
  request.uid_maps = {"1:100000:65536"};
  EXPECT_NE(refusal(request).find("--uidmap does not map the container's root (id 0)"), std::string::npos)
      << refusal(request);
  request.uid_maps = {"0:100000:65536"};
  request.gid_maps = {"0:100000"};
  EXPECT_NE(refusal(request).find("--gidmap 0:100000: expected three fields"), std::string::npos)
      << refusal(request);
  ContainerRequest only_gids;
  only_gids.gid_maps = {"0:100000:65536"};
  EXPECT_NE(refusal(only_gids).find("--gidmap needs a --uidmap"), std::string::npos) << refusal(only_gids);
}

TEST(ContainerUserNamespace, ConflictsAndWhatIsNotBuiltYetAreRefused) {
  ContainerRequest request;
  request.uid_maps = {"0:100000:65536"};
  request.userns = "host";
  EXPECT_NE(refusal(request).find("conflicting options: --userns=host and --uidmap"), std::string::npos);
  request.userns = "auto";
  EXPECT_NE(refusal(request).find("--userns=auto is not supported yet"), std::string::npos)
      << refusal(request);
  request.userns = "bogus";
  EXPECT_NE(refusal(request).find("invalid --userns \"bogus\""), std::string::npos) << refusal(request);
  request.userns.reset();
  ContainerSpec privileged;
  privileged.privileged = true;
  EXPECT_NE(refusal(request, privileged).find("--privileged cannot be combined with --uidmap"),
            std::string::npos);
  ContainerSpec host_network;
  host_network.network = NetworkMode::host;
  EXPECT_NE(refusal(request, host_network).find("--network host cannot be combined with --uidmap"),
            std::string::npos);
}

}  // namespace
}  // namespace mcore::engine
