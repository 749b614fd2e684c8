#pragma once
// IPv4 addresses and subnets as the bridge driver needs them: parsing what users type (with errors that
// say what is wrong), overlap tests, and the host's routes from /proc/net/route.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mcore::bridge {

struct Ipv4Subnet {
  std::uint32_t network = 0;  // host byte order, host bits zero
  int prefix = 0;             // 0..32

  std::uint32_t mask() const { return prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix); }
  std::uint32_t broadcast() const { return network | ~mask(); }
  bool contains(std::uint32_t address) const { return (address & mask()) == network; }
  bool overlaps(const Ipv4Subnet& other) const;
  bool operator==(const Ipv4Subnet&) const = default;
};

// "10.1.2.3" -> host byte order; throws Error naming `what` ("gateway", "--ip") on bad text.
std::uint32_t parse_ipv4(const std::string& text, const std::string& what = "address");
std::string format_ipv4(std::uint32_t address);

// "10.88.0.0/16"; refuses a prefix outside 8..30 (no room for a gateway and a container) and host bits
// that are set ("10.88.0.1/16": the subnet is 10.88.0.0/16), with the fix in the message.
Ipv4Subnet parse_subnet(const std::string& cidr);
std::string format_subnet(const Ipv4Subnet& subnet);

// The destinations of the host's IPv4 routes, from the text of /proc/net/route; the default route
// (0.0.0.0/0) is left out, since every subnet overlaps it.
std::vector<Ipv4Subnet> parse_proc_net_route(const std::string& text);

// Docker's default address pools in order (172.17.0.0/16 .. 172.31.0.0/16, then 192.168.0.0/20 ..
// 192.168.240.0/20): the first that overlaps nothing in `taken`, nullopt when all do.
std::optional<Ipv4Subnet> choose_subnet(const std::vector<Ipv4Subnet>& taken);

}  // namespace mcore::bridge
