// The bridge driver's address management: subnets as users type them, the host's routes, the choice of
// a free default subnet, and leases under concurrency.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

#include "ipv4.hpp"
#include "lease_file.hpp"
#include "mcore/error.hpp"
#include "test_support.hpp"

namespace mcore::bridge {
namespace {


TEST(Ipv4, ParsesAndFormatsSubnets) {
  const Ipv4Subnet subnet = parse_subnet("10.88.0.0/16");
  EXPECT_EQ(format_subnet(subnet), "10.88.0.0/16");
  EXPECT_EQ(format_ipv4(subnet.broadcast()), "10.88.255.255");
  EXPECT_TRUE(subnet.contains(parse_ipv4("10.88.3.4")));
  EXPECT_FALSE(subnet.contains(parse_ipv4("10.89.0.1")));
}

TEST(Ipv4, RefusesBadSubnetsWithTheReasonAndTheFix) {
  try {
    parse_subnet("10.88.0.1/16");
    ADD_FAILURE() << "accepted host bits";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("host bits are set"), std::string::npos) << error.what();
    EXPECT_EQ(error.hint(), "did you mean 10.88.0.0/16?");
  }
  EXPECT_NE(test::error_of([] { parse_subnet("10.88.0.0"); }).find("no prefix length"), std::string::npos);
  EXPECT_NE(test::error_of([] { parse_subnet("10.88.0.0/x"); }).find("bad prefix length"), std::string::npos);
  EXPECT_NE(test::error_of([] { parse_subnet("10.88.0.0/31"); }).find("/31 is not supported"), std::string::npos);
  EXPECT_NE(test::error_of([] { parse_subnet("10.888.0.0/16"); }).find("invalid subnet address"), std::string::npos);
  EXPECT_NE(test::error_of([] { parse_ipv4("fe80::1", "gateway"); }).find("invalid gateway \"fe80::1\""), std::string::npos);
}

TEST(Ipv4, OverlapIsSymmetricAndRespectsTheWiderPrefix) {
  const auto wide = parse_subnet("10.0.0.0/8");
  const auto inside = parse_subnet("10.88.0.0/16");
  const auto apart = parse_subnet("10.89.0.0/16");
  EXPECT_TRUE(wide.overlaps(inside));
  EXPECT_TRUE(inside.overlaps(wide));
  EXPECT_FALSE(inside.overlaps(apart));
  EXPECT_TRUE(parse_subnet("192.168.16.0/20").overlaps(parse_subnet("192.168.17.0/24")));
}

TEST(Ipv4, ReadsTheHostsRoutesWithoutTheDefaultRoute) {
  // /proc/net/route as the kernel writes it on a little-endian host.
  const std::string text =
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
      "eth0\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
      "eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
      "docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n";
  const auto routes = parse_proc_net_route(text);
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(format_subnet(routes[0]), "192.168.0.0/24");
  EXPECT_EQ(format_subnet(routes[1]), "172.17.0.0/16");
}

TEST(Ipv4, ChoosesTheFirstDefaultPoolThatCollidesWithNothing) {
  EXPECT_EQ(format_subnet(*choose_subnet({})), "172.17.0.0/16");
  EXPECT_EQ(format_subnet(*choose_subnet({parse_subnet("172.17.0.0/16"), parse_subnet("172.18.5.0/24")})),
            "172.19.0.0/16");
  // All of 172.16.0.0/12 taken: the 192.168 pools, skipping the one a /24 route sits in.
  EXPECT_EQ(format_subnet(*choose_subnet({parse_subnet("172.16.0.0/12"), parse_subnet("192.168.1.0/24")})),
            "192.168.16.0/20");
  EXPECT_FALSE(choose_subnet({parse_subnet("172.16.0.0/12"), parse_subnet("192.168.0.0/16")}));
}

class LeaseFileTest : public ::testing::Test {
 protected:
  LeaseFile leases(const std::string& cidr = "10.77.0.0/29") const {
    const auto subnet = parse_subnet(cidr);
    return LeaseFile(dir_.path(), subnet, subnet.network + 1);
  }
  test::TempDir dir_{"mcore-leases"};
};

TEST_F(LeaseFileTest, LeasesTheLowestFreeAddressOnceAndSkipsTheGateway) {
  auto file = leases();
  EXPECT_EQ(format_ipv4(file.lease("a")), "10.77.0.2");
  EXPECT_EQ(format_ipv4(file.lease("b")), "10.77.0.3");
  EXPECT_EQ(format_ipv4(file.lease("a")), "10.77.0.2") << "a second lease for the same container";
  file.release("a");
  file.release("a");
  EXPECT_EQ(format_ipv4(file.lease("c")), "10.77.0.2") << "a released address is leased again";
  // Persisted: another instance (another process) sees the same leases.
  EXPECT_EQ(leases().leases().size(), 2u);
}

TEST_F(LeaseFileTest, AFullSubnetIsRefusedWithAHint) {
  auto file = leases();  // /29: .1 is the gateway, .2-.6 for containers, .7 broadcast
  for (const char* id : {"a", "b", "c", "d", "e"}) file.lease(id);
  EXPECT_NE(test::error_of([&] { file.lease("f"); }).find("no free address in 10.77.0.0/29"), std::string::npos);
  EXPECT_EQ(file.leases().count(parse_ipv4("10.77.0.7")), 0u);
}

TEST_F(LeaseFileTest, ReclaimFreesTheAddressesOfContainersThatAreGone) {
  auto file = leases();
  file.lease("alive");
  file.lease("crashed");
  EXPECT_EQ(file.reclaim({"alive"}), std::vector<std::string>{"crashed"});
  const auto left = file.leases();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left.begin()->second, "alive");
}

TEST_F(LeaseFileTest, ReadingOrFreeingANetworkThatNeverLeasedMakesNothing) {
  const auto subnet = parse_subnet("10.77.0.0/29");
  const std::filesystem::path dir = dir_.path() / "networks" / "never-leased";
  LeaseFile file(dir, subnet, subnet.network + 1);
  EXPECT_TRUE(file.leases().empty());
  file.release("a");
  EXPECT_TRUE(file.reclaim({}).empty());
  EXPECT_FALSE(std::filesystem::exists(dir)) << "a read or a release created the lease directory";
  EXPECT_EQ(format_ipv4(file.lease("a")), "10.77.0.2");
  EXPECT_TRUE(std::filesystem::exists(dir / "leases.json"));
}

TEST_F(LeaseFileTest, ConcurrentProcessesNeverGetTheSameAddress) {
  constexpr int kProcesses = 20;
  std::vector<pid_t> children;
  for (int i = 0; i < kProcesses; ++i) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      try {
        leases("10.77.0.0/24").lease("c" + std::to_string(i));
        ::_exit(0);
      } catch (...) {
        ::_exit(1);
      }
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  const auto all = leases("10.77.0.0/24").leases();
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kProcesses));
  std::set<std::string> holders;
  for (const auto& [address, holder] : all) holders.insert(holder);
  EXPECT_EQ(holders.size(), static_cast<std::size_t>(kProcesses));
}

}  // namespace
}  // namespace mcore::bridge
