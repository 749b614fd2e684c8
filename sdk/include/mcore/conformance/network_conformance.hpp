#pragma once
// The NetworkDriver conformance kit (root; cases skip otherwise). Every case runs in a network namespace
// and a mount namespace (with its own sysfs) that the kit creates for the test's thread and leaves at
// the end, so the driver's bridges, addresses and firewall tables never touch the host's networks and
// vanish with the namespace whatever happens. Containers are processes in namespaces of their own.
// Checked: remove_network, detach and prune are no-ops for unknown names and ids; create_network
// refuses a taken name, an overlapping subnet, a subnet overlapping a route and a malformed subnet,
// leaving nothing; list_networks follows create and remove; attach connects the namespace and detach
// removes exactly what attach made; a failed attach (port in use) leaves nothing; remove_network is
// refused while a container is attached; published ports are held (in held_sockets, or by a process
// of the driver's) until detach; prune spares the live.
//
//   NetworkTarget target{.name = "mine", .factory = plugin_factory(".../mcore-network-mine.so"),
//                        .config = [](const auto&) { return nlohmann::json{{"bridge", "mcconf0"}}; }};
//   INSTANTIATE_TEST_SUITE_P(Mine, NetworkConformance, ::testing::Values(target), TargetName());
#include <memory>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "mcore/conformance/kit.hpp"

namespace mcore::conformance {

struct NetworkTarget {
  std::string name{};
  DriverFactory factory{};  // required
  ConfigFactory config{};   // the "network" section: name the bridge and firewall table the driver uses
  // The network the driver pre-defines ("bridge"), which create_network must accept again; "" for none.
  std::string default_network{};
  AvailabilityCheck unavailable{};
  // Gives the private namespace an uplink, as a host has: a link with 192.0.2.1/24 and a default route
  // through 192.0.2.254 (TEST-NET-1: nothing answers, nothing leaves the namespace). For drivers that
  // copy the host's addresses and routes into the container (pasta).
  bool uplink = false;
};

void PrintTo(const NetworkTarget& target, std::ostream* out);

class NetworkConformance : public ::testing::TestWithParam<NetworkTarget> {
 public:
  struct State;

 protected:
  NetworkConformance();
  ~NetworkConformance() override;
  void SetUp() override;
  void TearDown() override;
  std::unique_ptr<State> state_;
};

namespace detail {
int link_network_conformance();
[[maybe_unused]] inline const int network_conformance_linked = link_network_conformance();
}  // namespace detail

}  // namespace mcore::conformance
