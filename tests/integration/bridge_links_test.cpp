// The bridge driver's links against the real kernel: a bridge with its gateway address and a veth pair
// into a network namespace this test creates. Traffic goes only from that namespace to the bridge's own
// address on this host.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "ipv4.hpp"
#include "links.hpp"
#include "mcore/error.hpp"
#include "mcore/unique_fd.hpp"
#include "test_support.hpp"

namespace mcore::bridge {
namespace {

class BridgeLinksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    const std::string tag = std::to_string(::getpid() % 100000);
    bridge_ = "mctb" + tag;
    veth_ = "mctv" + tag;
    // A /24 in 10.233.0.0/16 that no host route covers.
    const auto routes = parse_proc_net_route(test::read_text("/proc/net/route"));
    for (std::uint32_t third = 0; third < 256 && subnet_.prefix == 0; ++third) {
      Ipv4Subnet candidate{(10u << 24) | (233u << 16) | (third << 8), 24};
      if (std::none_of(routes.begin(), routes.end(), [&](const auto& route) { return route.overlaps(candidate); })) {
        subnet_ = candidate;
      }
    }
    ASSERT_NE(subnet_.prefix, 0) << "10.233.0.0/16 is all routed on this host";
    gateway_ = format_ipv4(subnet_.network + 1);
    address_ = format_ipv4(subnet_.network + 2);

    // A process in a network namespace of its own holds the namespace for the test.
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    holder_ = ::fork();
    if (holder_ == 0) {
      ::close(ready[0]);
      if (::unshare(CLONE_NEWNET) != 0) ::_exit(1);
      (void)!::write(ready[1], "x", 1);
      ::pause();
      ::_exit(0);
    }
    ::close(ready[1]);
    char byte;
    ASSERT_EQ(::read(ready[0], &byte, 1), 1);
    ::close(ready[0]);
    netns_path_ = "/proc/" + std::to_string(holder_) + "/ns/net";
    netns_ = UniqueFd(::open(netns_path_.c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(netns_);
  }

  void TearDown() override {
    if (!veth_.empty()) delete_link(veth_);
    if (!bridge_.empty()) delete_link(bridge_);
    if (holder_ > 0) {
      ::kill(holder_, SIGKILL);
      ::waitpid(holder_, nullptr, 0);
    }
  }

  BridgeSpec bridge_spec() const { return {bridge_, gateway_ + "/24", 1500}; }
  VethSpec veth_spec() const { return {veth_, bridge_, netns_.get(), address_ + "/24", gateway_, "eth0", "", 1500}; }

  test::CommandResult inside(std::vector<std::string> command) const {
    command.insert(command.begin(), {"/usr/bin/nsenter", "--net=" + netns_path_});
    return test::run_command(command);
  }

  std::string bridge_, veth_, gateway_, address_, netns_path_;
  Ipv4Subnet subnet_;
  pid_t holder_ = -1;
  UniqueFd netns_;
};

TEST_F(BridgeLinksTest, TheBridgeIsCreatedOnceWithItsGatewayAddressAndUp) {
  ensure_bridge(bridge_spec());
  ensure_bridge(bridge_spec());  // a second start finds it ready
  auto shown = test::run_command({"/usr/sbin/ip", "-4", "-o", "addr", "show", "dev", bridge_});
  EXPECT_NE(shown.out.find("inet " + gateway_ + "/24"), std::string::npos) << shown.out;
  auto link = test::run_command({"/usr/sbin/ip", "-o", "link", "show", "dev", bridge_});
  EXPECT_NE(link.out.find(",UP"), std::string::npos) << link.out;
}

TEST_F(BridgeLinksTest, TheContainerEndGetsItsAddressRouteAndMtuAndReachesTheGateway) {
  ensure_bridge(bridge_spec());
  add_container_veth(veth_spec());
  auto host_end = test::run_command({"/usr/sbin/ip", "-o", "link", "show", "dev", veth_});
  EXPECT_NE(host_end.out.find("master " + bridge_), std::string::npos) << host_end.out;
  auto address = inside({"/usr/sbin/ip", "-4", "-o", "addr", "show", "dev", "eth0"});
  EXPECT_NE(address.out.find("inet " + address_ + "/24"), std::string::npos) << address.out << address.err;
  auto routes = inside({"/usr/sbin/ip", "-4", "route", "show", "default"});
  EXPECT_NE(routes.out.find("default via " + gateway_ + " dev eth0"), std::string::npos) << routes.out;
  auto mtu = inside({"/usr/sbin/ip", "-o", "link", "show", "dev", "eth0"});
  EXPECT_NE(mtu.out.find("mtu 1500"), std::string::npos) << mtu.out;
  auto loopback = inside({"/usr/sbin/ip", "-o", "link", "show", "dev", "lo"});
  EXPECT_NE(loopback.out.find("UP"), std::string::npos) << loopback.out;
  auto ping = inside({"/bin/busybox", "ping", "-c", "1", "-W", "3", gateway_});
  EXPECT_EQ(ping.exit_code, 0) << ping.out << ping.err;
}

TEST_F(BridgeLinksTest, DeletingTheHostEndRemovesBothEndsAndIsIdempotent) {
  ensure_bridge(bridge_spec());
  add_container_veth(veth_spec());
  ASSERT_TRUE(link_exists(veth_));
  delete_link(veth_);
  EXPECT_FALSE(link_exists(veth_));
  EXPECT_NE(inside({"/usr/sbin/ip", "link", "show", "dev", "eth0"}).exit_code, 0) << "the container end outlived its peer";
  EXPECT_NO_THROW(delete_link(veth_));
}

TEST_F(BridgeLinksTest, AFailureInsideTheNamespaceLeavesNoPairBehind) {
  ensure_bridge(bridge_spec());
  VethSpec spec = veth_spec();
  spec.gateway = "10.99.99.1";  // outside the subnet: the kernel refuses the route
  const std::string error = test::error_of([&] { add_container_veth(spec); });
  EXPECT_NE(error.find("add the default route via 10.99.99.1"), std::string::npos) << error;
  EXPECT_FALSE(link_exists(veth_));
  EXPECT_NE(inside({"/usr/sbin/ip", "link", "show", "dev", "eth0"}).exit_code, 0);
}

TEST_F(BridgeLinksTest, AMissingBridgeIsNamed) {
  const std::string error = test::error_of([&] { add_container_veth(veth_spec()); });
  EXPECT_NE(error.find("the bridge " + bridge_ + " does not exist"), std::string::npos) << error;
  EXPECT_FALSE(link_exists(veth_));
}

}  // namespace
}  // namespace mcore::bridge
