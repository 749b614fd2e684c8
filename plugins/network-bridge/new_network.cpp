#include "new_network.hpp"

#include <sys/random.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "ipv4.hpp"
#include "mcore/error.hpp"
#include "mcore/fd_io.hpp"

namespace mcore::bridge {
namespace {

std::vector<Ipv4Subnet> host_routes() { return parse_proc_net_route(read_file("/proc/net/route")); }

// What `subnet` would collide with: another network (by name) or a host route. "" when nothing.
std::string collision(const Ipv4Subnet& subnet, const std::vector<NetworkRecord>& networks,
                      const std::vector<Ipv4Subnet>& routes, const std::string& except = "") {
  for (const auto& network : networks) {
    if (network.name != except && parse_subnet(network.subnet).overlaps(subnet)) {
      return "network " + network.name + " (" + network.subnet + ")";
    }
  }
  for (const auto& route : routes) {
    if (route.overlaps(subnet)) return "the host route to " + format_subnet(route);
  }
  return "";
}

}  // namespace

std::string random_network_id() {
  unsigned char bytes[32];
  if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    throw Error::from_errno("read random bytes for a network id");
  }
  std::string id;
  char hex[3];
  for (unsigned char byte : bytes) {
    std::snprintf(hex, sizeof hex, "%02x", byte);
    id += hex;
  }
  return id;
}

std::string now_rfc3339() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// Docker's name rule for networks; the names of the network modes are not network names.
void check_network_name(const std::string& name) {
  const bool valid =
      !name.empty() && std::isalnum(static_cast<unsigned char>(name[0])) &&
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
          std::string::npos;
  if (!valid) {
    throw Error("invalid network name \"" + name + "\"", 0,
                "use letters, digits, '_', '.' and '-', starting with a letter or digit");
  }
  if (name == "host" || name == "none") {
    throw Error("\"" + name + "\" is a network mode, not a network name", 0, "choose another name");
  }
}

void assign_subnet(NetworkRecord& record, const std::string& subnet_text, const std::string& gateway_text,
                   const std::vector<NetworkRecord>& networks) {
  const auto routes = host_routes();
  Ipv4Subnet subnet;
  if (!subnet_text.empty()) {
    try {
      subnet = parse_subnet(subnet_text);
    } catch (const Error& error) {
      throw Error("subnet " + subnet_text + ": " + error.what(), 0, error.hint());
    }
    if (auto taken = collision(subnet, networks, routes, record.name); !taken.empty()) {
      throw Error("subnet " + format_subnet(subnet) + " overlaps " + taken, 0,
                  "choose another --subnet, or leave it out to get a free one");
    }
  } else {
    std::vector<Ipv4Subnet> taken = routes;
    for (const auto& network : networks) {
      if (network.name != record.name) taken.push_back(parse_subnet(network.subnet));
    }
    auto chosen = choose_subnet(taken);
    if (!chosen) {
      throw Error("every default address pool overlaps a host route or another network", 0,
                  "give the network a subnet of its own with --subnet");
    }
    subnet = *chosen;
    const Ipv4Subnet first = parse_subnet("172.17.0.0/16");
    if (!(subnet == first)) {
      record.subnet_note =
          format_subnet(first) + " overlaps " + collision(first, networks, routes, record.name);
    }
  }
  std::uint32_t gateway = subnet.network + 1;
  if (!gateway_text.empty()) {
    gateway = parse_ipv4(gateway_text, "gateway");
    if (!subnet.contains(gateway) || gateway == subnet.network || gateway == subnet.broadcast()) {
      throw Error("gateway " + gateway_text + " is not a host address of " + format_subnet(subnet), 0,
                  "give an address inside the subnet, e.g. " + format_ipv4(subnet.network + 1));
    }
  }
  record.subnet = format_subnet(subnet);
  record.gateway = format_ipv4(gateway);
}

}  // namespace mcore::bridge
