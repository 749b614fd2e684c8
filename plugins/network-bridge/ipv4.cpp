#include "ipv4.hpp"

#include <arpa/inet.h>

#include <sstream>

#include "mcore/error.hpp"

namespace mcore::bridge {

bool Ipv4Subnet::overlaps(const Ipv4Subnet& other) const {
  const std::uint32_t wider = prefix < other.prefix ? mask() : other.mask();
  return (network & wider) == (other.network & wider);
}

std::uint32_t parse_ipv4(const std::string& text, const std::string& what) {
  in_addr parsed{};
  if (::inet_pton(AF_INET, text.c_str(), &parsed) != 1) {
    throw Error("invalid " + what + " \"" + text + "\"", 0, "write an IPv4 address such as 10.88.0.1");
  }
  return ntohl(parsed.s_addr);
}

std::string format_ipv4(std::uint32_t address) {
  in_addr raw{htonl(address)};
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &raw, text, sizeof text);
  return text;
}

Ipv4Subnet parse_subnet(const std::string& cidr) {
  const auto slash = cidr.find('/');
  const std::string example = "write it as ADDRESS/PREFIX, such as 10.88.0.0/16";
  if (slash == std::string::npos) throw Error("invalid subnet \"" + cidr + "\": no prefix length", 0, example);
  const std::string length = cidr.substr(slash + 1);
  if (length.empty() || length.size() > 2 || length.find_first_not_of("0123456789") != std::string::npos) {
    throw Error("invalid subnet \"" + cidr + "\": bad prefix length \"" + length + "\"", 0, example);
  }
  Ipv4Subnet subnet;
  subnet.prefix = std::stoi(length);
  if (subnet.prefix < 8 || subnet.prefix > 30) {
    throw Error("invalid subnet \"" + cidr + "\": a prefix of /" + length + " is not supported", 0,
                "use a prefix from /8 to /30: smaller leaves no room for a gateway and a container");
  }
  const std::uint32_t address = parse_ipv4(cidr.substr(0, slash), "subnet address");
  subnet.network = address & subnet.mask();
  if (subnet.network != address) {
    throw Error("invalid subnet \"" + cidr + "\": host bits are set", 0,
                "did you mean " + format_subnet(subnet) + "?");
  }
  return subnet;
}

std::string format_subnet(const Ipv4Subnet& subnet) {
  return format_ipv4(subnet.network) + "/" + std::to_string(subnet.prefix);
}

std::vector<Ipv4Subnet> parse_proc_net_route(const std::string& text) {
  // Columns: Iface Destination Gateway Flags RefCnt Use Metric Mask ...; addresses in hex, as the
  // kernel stores them (network byte order read as a native integer).
  std::vector<Ipv4Subnet> routes;
  std::istringstream lines(text);
  std::string line;
  std::getline(lines, line);  // the header
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string iface, destination, gateway, flags, refcnt, use, metric, mask;
    if (!(fields >> iface >> destination >> gateway >> flags >> refcnt >> use >> metric >> mask)) continue;
    const std::uint32_t net = ntohl(static_cast<std::uint32_t>(std::stoul(destination, nullptr, 16)));
    const std::uint32_t bits = ntohl(static_cast<std::uint32_t>(std::stoul(mask, nullptr, 16)));
    if (bits == 0) continue;  // the default route
    Ipv4Subnet route;
    route.prefix = __builtin_popcount(bits);
    route.network = net & route.mask();
    routes.push_back(route);
  }
  return routes;
}

std::optional<Ipv4Subnet> choose_subnet(const std::vector<Ipv4Subnet>& taken) {
  auto free = [&](const Ipv4Subnet& candidate) {
    for (const auto& used : taken) {
      if (used.overlaps(candidate)) return false;
    }
    return true;
  };
  for (std::uint32_t second = 17; second <= 31; ++second) {
    Ipv4Subnet candidate{(172u << 24) | (second << 16), 16};
    if (free(candidate)) return candidate;
  }
  for (std::uint32_t third = 0; third < 256; third += 16) {
    Ipv4Subnet candidate{(192u << 24) | (168u << 16) | (third << 8), 20};
    if (free(candidate)) return candidate;
  }
  return std::nullopt;
}

}  // namespace mcore::bridge
