// Container records survive the trip to disk and back: the network fields `run` decides and the
// endpoint a running container holds.
#include <gtest/gtest.h>

#include "engine/container/container_spec_json.hpp"
#include "engine/container/container_store.hpp"

namespace mcore::engine {
namespace {

TEST(ContainerRecordJson, NetworkSettingsRoundTrip) {
  ContainerRecord record;
  record.id = std::string(64, 'e');
  record.name = "web";
  record.spec.network = NetworkMode::network;
  record.spec.network_name = "front";
  record.spec.ports = {{"127.0.0.1", 8080, 80, "tcp"}, {"", 0, 53, "udp"}};
  record.spec.dns = {"192.0.2.53"};
  record.spec.dns_search = {"example.test"};
  record.spec.dns_options = {"ndots:2"};
  record.spec.extra_hosts = {"db:192.0.2.40"};
  record.endpoint = NetworkEndpoint{"front", "10.89.0.5/24", "10.89.0.1", "02:42:0a:59:00:05",
                                    {{"127.0.0.1", 8080, 80, "tcp"}, {"", 40001, 53, "udp"}}};
  record.endpoint->default_network = true;
  const ContainerRecord back = ContainerRecord::from_json(nlohmann::json::parse(record.to_json().dump()));
  ASSERT_TRUE(back.endpoint);
  EXPECT_TRUE(back.endpoint->default_network) << "whether peers resolve by name is kept with the record";
  EXPECT_EQ(back.spec.network, NetworkMode::network);
  EXPECT_EQ(back.spec.network_name, "front");
  ASSERT_EQ(back.spec.ports.size(), 2u);
  EXPECT_EQ(back.spec.ports[0].host_ip, "127.0.0.1");
  EXPECT_EQ(back.spec.ports[1].host_port, 0);
  EXPECT_EQ(back.spec.ports[1].protocol, "udp");
  EXPECT_EQ(back.spec.dns, record.spec.dns);
  EXPECT_EQ(back.spec.dns_search, record.spec.dns_search);
  EXPECT_EQ(back.spec.dns_options, record.spec.dns_options);
  EXPECT_EQ(back.spec.extra_hosts, record.spec.extra_hosts);
  ASSERT_TRUE(back.endpoint);
  EXPECT_EQ(back.endpoint->address, "10.89.0.5/24");
  EXPECT_EQ(back.endpoint->mac_address, "02:42:0a:59:00:05");
  EXPECT_EQ(back.endpoint->ports[1].host_port, 40001);
}

TEST(ContainerRecordJson, TheModesThatAreNotNetworks) {
  for (auto mode : {NetworkMode::none, NetworkMode::host}) {
    ContainerSpec spec;
    spec.network = mode;
    EXPECT_EQ(spec_from_json(spec_to_json(spec)).network, mode);
  }
  // Records from before networks existed say nothing: no network namespace but lo.
  EXPECT_EQ(spec_from_json(nlohmann::json::object()).network, NetworkMode::none);
  ContainerRecord detached;
  EXPECT_FALSE(ContainerRecord::from_json(detached.to_json()).endpoint);
}

TEST(ContainerRecordJson, UserNamespaceMapsRoundTrip) {
  ContainerRecord record;
  record.id = std::string(64, 'f');
  record.spec.uid_map = {{0, 100000, 65536}};
  record.spec.gid_map = {{0, 200000, 1000}, {1000, 300000, 1}};
  const ContainerRecord back = ContainerRecord::from_json(nlohmann::json::parse(record.to_json().dump()));
  ASSERT_TRUE(has_own_user_namespace(back.spec));
  EXPECT_EQ(id_map_lines(back.spec.uid_map), std::vector<std::string>{"0:100000:65536"});
  EXPECT_EQ(id_map_lines(back.spec.gid_map), (std::vector<std::string>{"0:200000:1000", "1000:300000:1"}));

  ContainerRecord host;
  host.id = std::string(64, 'a');
  const ContainerRecord host_back = ContainerRecord::from_json(nlohmann::json::parse(host.to_json().dump()));
  EXPECT_FALSE(has_own_user_namespace(host_back.spec)) << "a record without maps shares the host's namespace";
}

}  // namespace
}  // namespace mcore::engine
