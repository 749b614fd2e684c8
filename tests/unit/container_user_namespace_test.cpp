// --userns, --uidmap and --gidmap resolved into a container's maps, and what is refused before
// anything of the container exists.
#include "engine/container/container_user_namespace.hpp"

#include <string>

#include <gtest/gtest.h>

#include "mcore/error.hpp"
#include "test_support.hpp"

namespace mcore::engine {
namespace {

std::string refusal(const ContainerRequest& request, ContainerSpec spec = {},
                    std::string_view default_mode = "host") {
  try {
    resolve_user_namespace(request, default_mode, spec);
  } catch (const Error& error) {
    return std::string(error.what()) + " | " + error.hint();
  }
  return "no error";
}

TEST(ContainerUserNamespace, NoFlagsShareTheHostsNamespace) {
  ContainerSpec spec;
  EXPECT_FALSE(resolve_user_namespace({}, "host", spec));
  EXPECT_FALSE(has_own_user_namespace(spec));
  ContainerRequest host;
  host.userns = "host";
  EXPECT_FALSE(resolve_user_namespace(host, "auto", spec)) << "--userns=host wins over the config's auto";
  EXPECT_FALSE(has_own_user_namespace(spec));
}

TEST(ContainerUserNamespace, AUidMapAloneServesForTheGidsToo) {
  ContainerRequest request;
  request.uid_maps = {"0:100000:65536"};
  ContainerSpec spec;
  EXPECT_FALSE(resolve_user_namespace(request, "auto", spec)) << "maps given win over the config's auto";
  ASSERT_TRUE(has_own_user_namespace(spec));
  EXPECT_EQ(id_map_lines(spec.uid_map), std::vector<std::string>{"0:100000:65536"});
  EXPECT_EQ(id_map_lines(spec.gid_map), std::vector<std::string>{"0:100000:65536"});

  request.gid_maps = {"0:200000:10", "10:300000:5"};
  resolve_user_namespace(request, "host", spec);
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

TEST(ContainerUserNamespace, ConflictingFlagsAreRefused) {
  ContainerRequest request;
  request.uid_maps = {"0:100000:65536"};
  request.userns = "host";
  EXPECT_NE(refusal(request).find("conflicting options: --userns=host and --uidmap"), std::string::npos);
  request.userns = "auto";
  EXPECT_NE(refusal(request).find("conflicting options: --userns=auto and --uidmap"), std::string::npos)
      << refusal(request);
  request.userns = "bogus";
  EXPECT_NE(refusal(request).find("invalid --userns \"bogus\""), std::string::npos) << refusal(request);
}

TEST(ContainerUserNamespace, PrivateTakesTheGivenMapsOrChoosesARange) {
  ContainerRequest with_maps;
  with_maps.userns = "private";
  with_maps.uid_maps = {"0:200000:1000"};
  ContainerSpec spec;
  EXPECT_FALSE(resolve_user_namespace(with_maps, "host", spec));
  ASSERT_EQ(spec.uid_map.size(), 1U);
  EXPECT_EQ(spec.uid_map[0].host_id, 200000U);
  EXPECT_EQ(spec.gid_map.size(), 1U);

  ContainerRequest without_maps;
  without_maps.userns = "private";
  ContainerSpec chosen;
  EXPECT_TRUE(resolve_user_namespace(without_maps, "host", chosen));
}

TEST(ContainerUserNamespace, IdmapVolumesNeedAUserNamespace) {
  ContainerRequest request;
  request.volumes.push_back({"/srv/data", "/data", false, "", true});
  EXPECT_NE(refusal(request).find("volume /data: idmap needs a user namespace"), std::string::npos)
      << refusal(request);
  request.userns = "auto";
  ContainerSpec spec;
  EXPECT_TRUE(resolve_user_namespace(request, "host", spec));
  request.userns.reset();
  request.uid_maps = {"0:100000:65536"};
  EXPECT_FALSE(resolve_user_namespace(request, "host", spec));
  EXPECT_TRUE(has_own_user_namespace(spec));
}

TEST(ContainerUserNamespace, AutoIsChosenByTheFlagOrTheConfig) {
  ContainerSpec spec;
  ContainerRequest flag;
  flag.userns = "auto";
  EXPECT_TRUE(resolve_user_namespace(flag, "host", spec));
  EXPECT_TRUE(resolve_user_namespace({}, "auto", spec));
  EXPECT_FALSE(has_own_user_namespace(spec)) << "the range is allocate_auto_id_maps' to choose";
}

std::string allocation_error(const ContainerStore& store, const std::string& user, const std::string& subuid,
                             const std::string& subgid) {
  ContainerSpec spec;
  try {
    allocate_auto_id_maps(store, user, subuid, subgid, spec);
  } catch (const Error& error) {
    return std::string(error.what()) + " | " + error.hint();
  }
  return "no error";
}

// The records are the ledger: each new container gets the first range no record holds.
TEST(ContainerUserNamespace, AutoRangesAreDisjointAndComeBackWhenARecordGoes) {
  test::TempDir root;
  ContainerStore store(root.path());
  const std::string subuid = "other:100000:65536\nmcore:200000:131072\n";
  const std::string subgid = "mcore:300000:65536\nmcore:500000:65536\n";
  ContainerRecord first;
  first.id = new_container_id();
  first.name = "first";
  allocate_auto_id_maps(store, "mcore", subuid, subgid, first.spec);
  EXPECT_EQ(id_map_lines(first.spec.uid_map), std::vector<std::string>{"0:200000:65536"});
  EXPECT_EQ(id_map_lines(first.spec.gid_map), std::vector<std::string>{"0:300000:65536"});
  store.create(first);

  ContainerRecord second;
  second.id = new_container_id();
  second.name = "second";
  allocate_auto_id_maps(store, "mcore", subuid, subgid, second.spec);
  EXPECT_EQ(id_map_lines(second.spec.uid_map), std::vector<std::string>{"0:265536:65536"});
  EXPECT_EQ(id_map_lines(second.spec.gid_map), std::vector<std::string>{"0:500000:65536"});
  store.create(second);

  const std::string exhausted = allocation_error(store, "mcore", subuid, subgid);
  EXPECT_NE(exhausted.find("every range of 65536 ids in /etc/subuid for user mcore is taken"),
            std::string::npos)
      << exhausted;

  store.remove(first.id);
  ContainerSpec third;
  allocate_auto_id_maps(store, "mcore", subuid, subgid, third);
  EXPECT_EQ(id_map_lines(third.uid_map), std::vector<std::string>{"0:200000:65536"}) << "rm freed the range";
}

TEST(ContainerUserNamespace, AutoWithoutSubordinateIdsSaysHowToGrantThem) {
  test::TempDir root;
  ContainerStore store(root.path());
  const std::string missing = allocation_error(store, "nobody-here", "mcore:200000:65536\n", "");
  EXPECT_NE(missing.find("user nobody-here has no subordinate ids in /etc/subuid"), std::string::npos)
      << missing;
  EXPECT_NE(missing.find("usermod --add-subuids"), std::string::npos) << missing;
}

}  // namespace
}  // namespace mcore::engine
