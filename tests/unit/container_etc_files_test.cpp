// /etc/hosts and /etc/resolv.conf as mcore writes them into a container, and the flags they come from.
#include "engine/start/container_etc_files.hpp"

#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "mcore/error.hpp"
#include "test_support.hpp"

namespace mcore::engine {
namespace {

using test::error_of;

constexpr const char* kDockerHostsHead =
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\n"
    "ff00::0\tip6-mcastprefix\n"
    "ff02::1\tip6-allnodes\n"
    "ff02::2\tip6-allrouters\n";

constexpr const char* kDefaults =
    "# mcore: the host's resolvers are loopback-only; using public defaults\n"
    "nameserver 8.8.8.8\n"
    "nameserver 8.8.4.4\n";

// The hint of the Error `action` throws ("" and a test failure when it throws none).
std::string hint_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.hint();
  }
  ADD_FAILURE() << "expected an mcore::Error";
  return "";
}

std::string container_resolv(const std::string& host_text) {
  return resolv_conf(host_text, true, {}, {}, {});
}

// --- /etc/hosts ---------------------------------------------------------------------------------------

TEST(HostsFile, WithNothingElseIsDockersFixedHead) { EXPECT_EQ(hosts_file({}, {}, {}), kDockerHostsHead); }

TEST(HostsFile, ExtraThenOwnThenPeersOneLineEach) {
  const std::string text =
      hosts_file({{"10.0.0.5", {"db"}}, {"::1", {"six"}}}, {"172.18.0.2", {"3f2a9c1b0e7d", "web"}},
                 {{"172.18.0.3", {"cache", "redis"}}, {"172.18.0.4", {"queue"}}});
  EXPECT_EQ(text, std::string(kDockerHostsHead) +
                      "10.0.0.5\tdb\n"
                      "::1\tsix\n"
                      "172.18.0.2\t3f2a9c1b0e7d web\n"
                      "172.18.0.3\tcache redis\n"
                      "172.18.0.4\tqueue\n");
}

TEST(HostsFile, LeavesOutOwnWithoutAddressAndEntriesWithoutNames) {
  const std::string text =
      hosts_file({{"10.0.0.5", {}}}, {"", {"3f2a9c1b0e7d"}}, {{"172.18.0.3", {"cache"}}});
  EXPECT_EQ(text, std::string(kDockerHostsHead) + "172.18.0.3\tcache\n");
}

// --- --add-host ---------------------------------------------------------------------------------------

TEST(ParseAddHost, ColonOrEqualsBetweenNameAndIpv4) {
  const HostEntry colon = parse_add_host("db:10.0.0.5", "");
  EXPECT_EQ(colon.address, "10.0.0.5");
  EXPECT_EQ(colon.names, std::vector<std::string>{"db"});
  const HostEntry equals = parse_add_host("db=10.0.0.5", "");
  EXPECT_EQ(equals.address, "10.0.0.5");
  EXPECT_EQ(equals.names, std::vector<std::string>{"db"});
}

TEST(ParseAddHost, Ipv6BracketedOrBareKeptAsWritten) {
  EXPECT_EQ(parse_add_host("db:[::1]", "").address, "::1");
  EXPECT_EQ(parse_add_host("db:[2001:db8::5]", "").address, "2001:db8::5");
  EXPECT_EQ(parse_add_host("db:2001:db8::5", "").address, "2001:db8::5");
  EXPECT_EQ(parse_add_host("db=[fe80::1]", "").address, "fe80::1");
  EXPECT_EQ(parse_add_host("db:0:0:0:0:0:0:0:1", "").address, "0:0:0:0:0:0:0:1");
}

TEST(ParseAddHost, HostGatewayIsReplacedByTheGateway) {
  const HostEntry entry = parse_add_host("host.docker.internal:host-gateway", "172.17.0.1");
  EXPECT_EQ(entry.address, "172.17.0.1");
  EXPECT_EQ(entry.names, std::vector<std::string>{"host.docker.internal"});
}

TEST(ParseAddHost, HostGatewayWithoutAGatewayIsRefused) {
  const std::string message = error_of([] { parse_add_host("host.docker.internal:host-gateway", ""); });
  EXPECT_NE(message.find("host.docker.internal:host-gateway"), std::string::npos) << message;
  EXPECT_NE(message.find("no host gateway"), std::string::npos) << message;
}

TEST(ParseAddHost, BadIpNamesValueAndForm) {
  for (const char* bad : {"db:10.0.0", "db:10.0.0.256", "db:example.com", "db:", "db:[]", "db:[10.0.0.5",
                          "db:fe80::1%eth0", "db: 10.0.0.5"}) {
    const std::string message = error_of([&] { parse_add_host(bad, "172.17.0.1"); });
    EXPECT_NE(message.find("invalid IP address"), std::string::npos) << bad << ": " << message;
    EXPECT_NE(message.find(std::string("--add-host \"") + bad + "\""), std::string::npos) << message;
    EXPECT_NE(hint_of([&] { parse_add_host(bad, ""); }).find("name:ip"), std::string::npos) << bad;
  }
}

TEST(ParseAddHost, MissingSeparatorIsRefused) {
  const std::string message = error_of([] { parse_add_host("db10.0.0.5", ""); });
  EXPECT_NE(message.find("invalid --add-host \"db10.0.0.5\""), std::string::npos) << message;
  EXPECT_NE(message.find("no ':'"), std::string::npos) << message;
  EXPECT_NE(hint_of([] { parse_add_host("db10.0.0.5", ""); }).find("name:ip"), std::string::npos);
}

TEST(ParseAddHost, EmptyOrUnwritableNameIsRefused) {
  for (const char* bad : {":10.0.0.5", "=10.0.0.5", "my db:10.0.0.5", "db\n1.2.3.4 evil:10.0.0.5",
                          "d#b:10.0.0.5", "a:b=10.0.0.5"}) {
    const std::string message = error_of([&] { parse_add_host(bad, ""); });
    EXPECT_NE(message.find("bad host name"), std::string::npos) << bad << ": " << message;
  }
}

// --- --dns --------------------------------------------------------------------------------------------

TEST(CheckDnsServer, AcceptsIpv4AndIpv6) {
  EXPECT_NO_THROW(check_dns_server("8.8.8.8"));
  EXPECT_NO_THROW(check_dns_server("2001:4860:4860::8888"));
}

TEST(CheckDnsServer, RefusesAnythingElseNamingIt) {
  for (const char* bad : {"", "dns.google", "8.8.8", "[::1]", "8.8.8.8:53"}) {
    const std::string message = error_of([&] { check_dns_server(bad); });
    EXPECT_NE(message.find(std::string("invalid --dns value \"") + bad + "\""), std::string::npos) << message;
  }
}

// --- /etc/resolv.conf ---------------------------------------------------------------------------------

TEST(ResolvConf, DropsLoopbackResolversKeepsTheRest) {
  EXPECT_EQ(container_resolv("# from DHCP\n"
                             "nameserver 127.0.0.1\n"
                             "nameserver 10.0.0.2\n"
                             "nameserver ::1\n"
                             "nameserver 127.1.2.3\n"
                             "nameserver ::ffff:127.0.0.1\n"
                             "nameserver 2001:db8::53\n"
                             "search corp.example\n"
                             "sortlist 10.0.0.0/255.0.0.0\n"
                             "options ndots:2\n"),
            "# from DHCP\n"
            "nameserver 10.0.0.2\n"
            "nameserver 2001:db8::53\n"
            "search corp.example\n"
            "sortlist 10.0.0.0/255.0.0.0\n"
            "options ndots:2\n");
}

TEST(ResolvConf, SystemdResolvedStubAloneGivesDefaults) {
  EXPECT_EQ(
      container_resolv("# This is /run/systemd/resolve/stub-resolv.conf managed by man:systemd-resolved(8).\n"
                       "nameserver 127.0.0.53\n"
                       "options edns0 trust-ad\n"
                       "search .\n"),
      std::string("# This is /run/systemd/resolve/stub-resolv.conf managed by man:systemd-resolved(8).\n") +
          kDefaults +
          "options edns0 trust-ad\n"
          "search .\n");
}

TEST(ResolvConf, NoNameserversAtAllGivesDefaults) {
  EXPECT_EQ(container_resolv(""), kDefaults);
  EXPECT_EQ(container_resolv("search corp.example"), std::string("search corp.example\n") + kDefaults);
}

TEST(ResolvConf, DnsReplacesEveryNameserverWhereTheFirstWas) {
  EXPECT_EQ(resolv_conf("# head\n"
                        "nameserver 10.0.0.2\n"
                        "search corp.example\n"
                        "nameserver 127.0.0.53\n",
                        true, {"1.1.1.1", "2606:4700:4700::1111"}, {}, {}),
            "# head\n"
            "nameserver 1.1.1.1\n"
            "nameserver 2606:4700:4700::1111\n"
            "search corp.example\n");
}

TEST(ResolvConf, DnsWithoutHostNameserversIsAppendedWithoutDefaults) {
  EXPECT_EQ(resolv_conf("search corp.example\n", true, {"1.1.1.1"}, {}, {}),
            "search corp.example\n"
            "nameserver 1.1.1.1\n");
}

TEST(ResolvConf, SearchReplacesSearchAndDomainLines) {
  EXPECT_EQ(resolv_conf("domain old.example\n"
                        "nameserver 10.0.0.2\n"
                        "search a.example b.example\n",
                        true, {}, {"new.example", "other.example"}, {}),
            "search new.example other.example\n"
            "nameserver 10.0.0.2\n");
  EXPECT_EQ(resolv_conf("nameserver 10.0.0.2\n", true, {}, {"new.example"}, {}),
            "nameserver 10.0.0.2\n"
            "search new.example\n");
}

TEST(ResolvConf, SearchDotRemovesSearchDomains) {
  EXPECT_EQ(
      resolv_conf("nameserver 10.0.0.2\nsearch corp.example\ndomain corp.example\n", true, {}, {"."}, {}),
      "nameserver 10.0.0.2\n");
}

TEST(ResolvConf, OptionsReplaceOptionsLines) {
  EXPECT_EQ(resolv_conf("options ndots:2\n"
                        "nameserver 10.0.0.2\n"
                        "options rotate\n",
                        true, {}, {}, {"ndots:5", "timeout:1"}),
            "options ndots:5 timeout:1\n"
            "nameserver 10.0.0.2\n");
  EXPECT_EQ(resolv_conf("nameserver 10.0.0.2", true, {}, {}, {"edns0"}),
            "nameserver 10.0.0.2\n"
            "options edns0\n");
}

TEST(ResolvConf, HostNetworkKeepsTheHostsTextUnchanged) {
  const std::string host = "# stub\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n";
  EXPECT_EQ(resolv_conf(host, false, {}, {}, {}), host);
  EXPECT_EQ(resolv_conf("nameserver 127.0.0.53", false, {}, {}, {}), "nameserver 127.0.0.53\n");
}

TEST(ResolvConf, HostNetworkAppliesFlagsButKeepsLoopbackResolvers) {
  EXPECT_EQ(resolv_conf("nameserver 127.0.0.53\nsearch lan\n", false, {}, {"corp.example"}, {"ndots:3"}),
            "nameserver 127.0.0.53\n"
            "search corp.example\n"
            "options ndots:3\n");
  EXPECT_EQ(resolv_conf("nameserver 127.0.0.53\n", false, {"10.0.0.2"}, {}, {}), "nameserver 10.0.0.2\n");
}

}  // namespace
}  // namespace mcore::engine
