// The bridge driver's firewall rules against the kernel's nftables, in a table of the test's own: rules
// appear with their owner and go exactly with it, and nothing outside the table changes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "firewall.hpp"
#include "mcore/error.hpp"
#include "test_support.hpp"

namespace mcore::bridge {
namespace {

class BridgeFirewallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    table_ = "mcore_test_" + std::to_string(::getpid());
    others_before_ = ruleset_without_ours();
    firewall_ = std::make_unique<Firewall>(table_);
  }
  void TearDown() override {
    if (firewall_) firewall_->remove_table();
    if (!table_.empty()) {
      EXPECT_EQ(ruleset_without_ours(), others_before_) << "a rule outside our table changed";
    }
  }

  // `nft -j list ruleset` without our table's objects.
  nlohmann::json ruleset_without_ours() const {
    auto listed = test::run_command({"/usr/sbin/nft", "-j", "list", "ruleset"});
    auto json = nlohmann::json::parse(listed.out.empty() ? "{}" : listed.out, nullptr, false);
    nlohmann::json kept = nlohmann::json::array();
    for (const auto& item : json.value("nftables", nlohmann::json::array())) {
      if (item.contains("metainfo")) continue;
      const auto& object = item.begin().value();
      if (object.is_object() && object.value("table", object.value("name", "")) == table_) continue;
      kept.push_back(item);
    }
    return kept;
  }

  // Our table's rules as nft prints them, one line each.
  std::string rules() const {
    return test::run_command({"/usr/sbin/nft", "list", "table", "ip", table_}).out;
  }

  // The set of mcore's bridges as nft prints it.
  std::string set_elements() const {
    return test::run_command({"/usr/sbin/nft", "list", "set", "ip", table_, "bridges"}).out;
  }

  static std::size_t mentions(const std::string& text, const std::string& word) {
    std::size_t count = 0;
    for (auto at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) ++count;
    return count;
  }

  std::string table_;
  nlohmann::json others_before_;
  std::unique_ptr<Firewall> firewall_;
};

TEST_F(BridgeFirewallTest, TheBaseIsCreatedOnceWithNatChains) {
  firewall_->ensure_base();
  firewall_->ensure_base();
  const std::string listed = rules();
  for (const char* hook : {"hook prerouting priority dstnat", "hook output priority -100",
                           "hook postrouting priority srcnat", "hook forward priority filter",
                           "hook input priority filter", "hook prerouting priority raw", "set bridges"}) {
    EXPECT_NE(listed.find(hook), std::string::npos) << hook << " in\n" << listed;
  }
  EXPECT_TRUE(firewall_->owners().empty());
}

TEST_F(BridgeFirewallTest, ANetworkMasqueradesWhatLeavesItsSubnetAndIsReplacedNotDuplicated) {
  firewall_->ensure_base();
  const NetworkRules front{"front", "mctb0", "10.233.7.0/24", "10.233.7.1"};
  firewall_->add_network(front);
  const std::size_t once = mentions(rules(), "net:front");
  firewall_->add_network(front);
  const std::string listed = rules();
  EXPECT_NE(listed.find("ip saddr 10.233.7.0/24 oifname != \"mctb0\" masquerade comment \"net:front\""),
            std::string::npos)
      << listed;
  // Isolation: what enters from this network's bridge is not forwarded to another of mcore's bridges.
  EXPECT_NE(listed.find("iifname \"mctb0\" oifname != \"mctb0\" oifname @bridges ct status ! dnat drop comment \"net:front\""),
            std::string::npos)
      << listed;
  // No container reaches the host's loopback services, and from outside only published ports.
  EXPECT_NE(listed.find("iifname \"mctb0\" ip daddr 127.0.0.0/8 ct status ! dnat drop comment \"net:front\""),
            std::string::npos)
      << listed;
  EXPECT_NE(listed.find("iifname != \"mctb0\" ip daddr 10.233.7.0/24 ip daddr != 10.233.7.1 drop comment \"net:front\""),
            std::string::npos)
      << listed;
  EXPECT_EQ(mentions(listed, "net:front"), once) << "rules were added twice:\n" << listed;
  EXPECT_NE(set_elements().find("\"mctb0\""), std::string::npos) << set_elements();
  EXPECT_EQ(firewall_->owners(), std::vector<std::string>{"net:front"});
  firewall_->remove_network("front", "mctb0");
  firewall_->remove_network("front", "mctb0");
  EXPECT_EQ(rules().find("net:front"), std::string::npos);
  EXPECT_EQ(set_elements().find("mctb0"), std::string::npos) << set_elements();
}

TEST_F(BridgeFirewallTest, ANetworkAllowingDirectRoutingKeepsItsOtherRules) {
  firewall_->ensure_base();
  firewall_->add_network({"routed", "mctb1", "10.233.8.0/24", "10.233.8.1", true});
  const std::string listed = rules();
  // The only rule that names the subnet as a destination is the drop in raw prerouting.
  EXPECT_EQ(listed.find("ip daddr 10.233.8.0/24"), std::string::npos) << listed;
  EXPECT_NE(listed.find("ip saddr 10.233.8.0/24"), std::string::npos) << listed;
  EXPECT_NE(listed.find("iifname \"mctb1\" ip daddr 127.0.0.0/8 ct status ! dnat drop"), std::string::npos) << listed;
  firewall_->remove_network("routed", "mctb1");
  EXPECT_EQ(rules().find("net:routed"), std::string::npos);
}

TEST_F(BridgeFirewallTest, PublishedPortsAreRemovedExactlyWithTheirContainer) {
  firewall_->ensure_base();
  firewall_->publish("aaa", {{"", 8080, "10.233.7.2", 80, "tcp", ""}, {"127.0.0.1", 5353, "10.233.7.2", 53, "udp", ""}});
  firewall_->publish("bbb", {{"", 8081, "10.233.7.3", 80, "tcp", "10.233.7.0/24"},
                             {"", 8082, "10.233.7.3", 80, "tcp", "10.233.7.0/24"}});
  std::string listed = rules();
  // Only traffic addressed to the host itself is redirected, never the host's own outgoing connections.
  // The comment names the owner, the host port taken and the address it leads to.
  EXPECT_NE(listed.find("fib daddr type local tcp dport 8080 dnat to 10.233.7.2:80 comment "
                        "\"ctr:aaa port:tcp/8080@* to:10.233.7.2\""),
            std::string::npos)
      << listed;
  EXPECT_NE(listed.find("ip daddr 127.0.0.1 udp dport 5353 dnat to 10.233.7.2:53"), std::string::npos) << listed;
  EXPECT_NE(listed.find("ip saddr 127.0.0.0/8 ip daddr 10.233.7.2 tcp dport 80 masquerade"), std::string::npos)
      << listed;
  // Hairpin: members of the network reach the port through the host, DNAT-ed connections only.
  const std::string hairpin = "ip saddr 10.233.7.0/24 ip daddr 10.233.7.3 tcp dport 80 ct status dnat masquerade";
  EXPECT_NE(listed.find(hairpin), std::string::npos) << listed;
  EXPECT_EQ(listed.find(hairpin), listed.rfind(hairpin)) << "two host ports of one container port, one masquerade\n"
                                                        << listed;
  auto owners = firewall_->owners();
  std::sort(owners.begin(), owners.end());
  EXPECT_EQ(owners, (std::vector<std::string>{"ctr:aaa", "ctr:bbb"}));

  firewall_->unpublish("aaa");
  firewall_->unpublish("aaa");
  listed = rules();
  EXPECT_EQ(listed.find("ctr:aaa"), std::string::npos) << listed;
  EXPECT_NE(listed.find("tcp dport 8081 dnat to 10.233.7.3:80 comment \"ctr:bbb port:tcp/8081@* to:10.233.7.3\""),
            std::string::npos)
      << listed;
}

TEST_F(BridgeFirewallTest, PublishingAPortReplacesEveryRuleOfItsStaleOwner) {
  firewall_->ensure_base();
  firewall_->publish("dead", {{"", 8080, "10.233.7.2", 80, "tcp", ""}, {"", 9090, "10.233.7.2", 90, "tcp", ""}});
  firewall_->publish("other", {{"127.0.0.1", 7070, "10.233.7.4", 70, "tcp", ""}});
  // Taking 127.0.0.1:8080 means nobody holds *:8080: the dead owner goes, all of its rules.
  firewall_->publish("alive", {{"127.0.0.1", 8080, "10.233.7.3", 80, "tcp", ""}});
  const std::string listed = rules();
  EXPECT_EQ(listed.find("ctr:dead"), std::string::npos) << listed;
  EXPECT_NE(listed.find("ctr:alive port:tcp/8080@127.0.0.1"), std::string::npos) << listed;
  EXPECT_NE(listed.find("ctr:other"), std::string::npos) << "another host port's owner was touched:\n" << listed;
  // Another address of the same port is another socket: both stay.
  firewall_->publish("second", {{"10.9.9.9", 8080, "10.233.7.5", 80, "tcp", ""}});
  EXPECT_NE(rules().find("ctr:alive"), std::string::npos) << rules();
}

TEST_F(BridgeFirewallTest, RulesIntoASubnetWithoutALeaseGoWhenItIsBroughtUpAgain) {
  firewall_->ensure_base();
  firewall_->publish("leased", {{"", 8080, "10.233.7.2", 80, "tcp", ""}});
  firewall_->publish("lost", {{"", 8081, "10.233.7.3", 80, "tcp", ""}});
  firewall_->publish("elsewhere", {{"", 8082, "10.233.9.3", 80, "tcp", ""}});
  firewall_->remove_stale_port_rules("10.233.7.0/24", {"leased"});
  const std::string listed = rules();
  EXPECT_NE(listed.find("ctr:leased"), std::string::npos) << listed;
  EXPECT_EQ(listed.find("ctr:lost"), std::string::npos) << listed;
  EXPECT_NE(listed.find("ctr:elsewhere"), std::string::npos) << listed;
}

TEST_F(BridgeFirewallTest, BadInputIsRefusedAndLeavesNoRule) {
  firewall_->ensure_base();
  EXPECT_NE(test::error_of([&] { firewall_->publish("ccc", {{"", 80, "10.233.7.4", 80, "sctp", ""}}); })
                .find("unsupported protocol \"sctp\""),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { firewall_->publish("ccc", {{"", 81, "10.233.7.4", 80, "tcp", ""}, {"", 80, "not-an-ip", 80, "tcp", ""}}); })
                .find("nftables refused"),
            std::string::npos);
  EXPECT_TRUE(firewall_->owners().empty()) << rules();
}

TEST_F(BridgeFirewallTest, RemovingTheTableIsIdempotent) {
  firewall_->ensure_base();
  firewall_->remove_table();
  firewall_->remove_table();
  EXPECT_EQ(test::run_command({"/usr/sbin/nft", "list", "table", "ip", table_}).exit_code, 1);
}

}  // namespace
}  // namespace mcore::bridge
