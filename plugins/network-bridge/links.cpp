#include "links.hpp"

#include <net/if.h>
#include <sched.h>

#include <cstdio>
#include <exception>
#include <memory>
#include <thread>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>

#include "mcore/error.hpp"

namespace mcore::bridge {
namespace {

template <typename T, void (*Free)(T*)>
struct Release {
  void operator()(T* object) const { Free(object); }
};
using Socket = std::unique_ptr<nl_sock, Release<nl_sock, nl_socket_free>>;
using Link = std::unique_ptr<rtnl_link, Release<rtnl_link, rtnl_link_put>>;
using Addr = std::unique_ptr<nl_addr, Release<nl_addr, nl_addr_put>>;
using Address = std::unique_ptr<rtnl_addr, Release<rtnl_addr, rtnl_addr_put>>;
using Route = std::unique_ptr<rtnl_route, Release<rtnl_route, rtnl_route_put>>;

void check(int result, const std::string& what) {
  if (result < 0) throw Error(what + ": " + nl_geterror(result));
}

Socket connect_route() {
  Socket socket(nl_socket_alloc());
  if (!socket) throw Error("allocate a netlink socket");
  check(nl_connect(socket.get(), NETLINK_ROUTE), "connect to rtnetlink");
  return socket;
}

Link find_link(nl_sock* socket, const std::string& name) {
  rtnl_link* link = nullptr;
  if (rtnl_link_get_kernel(socket, 0, name.c_str(), &link) < 0) return nullptr;
  return Link(link);
}

Addr parse_address(const std::string& text) {
  nl_addr* address = nullptr;
  check(nl_addr_parse(text.c_str(), AF_INET, &address), "parse the address " + text);
  return Addr(address);
}

void set_up(nl_sock* socket, rtnl_link* link, const std::string& name) {
  Link change(rtnl_link_alloc());
  rtnl_link_set_flags(change.get(), IFF_UP);
  check(rtnl_link_change(socket, link, change.get(), 0), "set " + name + " up");
}

void add_address(nl_sock* socket, int ifindex, const std::string& cidr, const std::string& name) {
  Address address(rtnl_addr_alloc());
  rtnl_addr_set_ifindex(address.get(), ifindex);
  Addr local = parse_address(cidr);  // its prefix length becomes the address's
  check(rtnl_addr_set_local(address.get(), local.get()), "set the address " + cidr);
  const int result = rtnl_addr_add(socket, address.get(), 0);
  if (result == -NLE_EXIST) return;
  check(result, "add the address " + cidr + " to " + name);
}

void add_default_route(nl_sock* socket, int ifindex, const std::string& gateway) {
  Route route(rtnl_route_alloc());
  rtnl_route_set_family(route.get(), AF_INET);
  Addr everywhere = parse_address("0.0.0.0/0");
  check(rtnl_route_set_dst(route.get(), everywhere.get()), "set the default route's destination");
  rtnl_nexthop* hop = rtnl_route_nh_alloc();
  if (hop == nullptr) throw Error("allocate a next hop");
  Addr via = parse_address(gateway);
  rtnl_route_nh_set_gateway(hop, via.get());
  rtnl_route_nh_set_ifindex(hop, ifindex);
  rtnl_route_add_nexthop(route.get(), hop);  // the route owns it now
  check(rtnl_route_add(socket, route.get(), NLM_F_CREATE | NLM_F_EXCL), "add the default route via " + gateway);
}

void configure_inside(const VethSpec& spec) {
  in_network_namespace(spec.netns_fd, [&spec] {
    Socket socket = connect_route();
    if (Link loopback = find_link(socket.get(), "lo")) set_up(socket.get(), loopback.get(), "lo");
    Link inner = find_link(socket.get(), spec.interface);
    if (!inner) throw Error(spec.interface + " is missing from the container's network namespace");
    const int index = rtnl_link_get_ifindex(inner.get());
    add_address(socket.get(), index, spec.address_cidr, spec.interface);
    set_up(socket.get(), inner.get(), spec.interface);
    if (!spec.gateway.empty()) add_default_route(socket.get(), index, spec.gateway);
  });
}

}  // namespace

std::string container_veth_name(const std::string& container_id) {
  return "mcv" + container_id.substr(0, 12);
}

std::string container_mac(std::uint32_t address) {
  char text[18];
  std::snprintf(text, sizeof text, "02:42:%02x:%02x:%02x:%02x", address >> 24, (address >> 16) & 0xff,
                (address >> 8) & 0xff, address & 0xff);
  return text;
}

void in_network_namespace(int netns_fd, const std::function<void()>& work) {
  std::exception_ptr failure;
  std::thread worker([&] {
    try {
      if (::setns(netns_fd, CLONE_NEWNET) != 0) throw Error::from_errno("enter a network namespace");
      work();
    } catch (...) {
      failure = std::current_exception();
    }
  });
  worker.join();
  if (failure) std::rethrow_exception(failure);
}

void ensure_bridge(const BridgeSpec& spec) {
  Socket socket = connect_route();
  Link bridge = find_link(socket.get(), spec.name);
  if (!bridge) {
    Link created(rtnl_link_bridge_alloc());
    if (!created) throw Error("allocate a bridge link");
    rtnl_link_set_name(created.get(), spec.name.c_str());
    if (spec.mtu > 0) rtnl_link_set_mtu(created.get(), spec.mtu);
    const int result = rtnl_link_add(socket.get(), created.get(), NLM_F_CREATE | NLM_F_EXCL);
    if (result != -NLE_EXIST) check(result, "create the bridge " + spec.name);  // or another start made it
    bridge = find_link(socket.get(), spec.name);
    if (!bridge) throw Error("the bridge " + spec.name + " disappeared as it was created");
  }
  add_address(socket.get(), rtnl_link_get_ifindex(bridge.get()), spec.gateway_cidr, spec.name);
  set_up(socket.get(), bridge.get(), spec.name);
}

void add_container_veth(const VethSpec& spec) {
  Socket socket = connect_route();
  Link bridge = find_link(socket.get(), spec.bridge);
  if (!bridge) throw Error("the bridge " + spec.bridge + " does not exist");

  Link veth(rtnl_link_veth_alloc());
  if (!veth) throw Error("allocate a veth link");
  rtnl_link_set_name(veth.get(), spec.host_name.c_str());
  rtnl_link_set_mtu(veth.get(), spec.mtu);
  rtnl_link_set_master(veth.get(), rtnl_link_get_ifindex(bridge.get()));
  // Created straight in the container's namespace, so its name only has to be free there.
  Link peer(rtnl_link_veth_get_peer(veth.get()));
  rtnl_link_set_name(peer.get(), spec.interface.c_str());
  rtnl_link_set_mtu(peer.get(), spec.mtu);
  rtnl_link_set_ns_fd(peer.get(), spec.netns_fd);
  if (!spec.mac_address.empty()) {
    nl_addr* mac = nullptr;
    check(nl_addr_parse(spec.mac_address.c_str(), AF_LLC, &mac), "parse the MAC address " + spec.mac_address);
    Addr owned(mac);
    rtnl_link_set_addr(peer.get(), owned.get());
  }
  check(rtnl_link_add(socket.get(), veth.get(), NLM_F_CREATE | NLM_F_EXCL), "create the veth pair " + spec.host_name);

  try {
    Link host = find_link(socket.get(), spec.host_name);
    if (!host) throw Error("the veth " + spec.host_name + " disappeared as it was created");
    set_up(socket.get(), host.get(), spec.host_name);
    configure_inside(spec);
  } catch (...) {
    delete_link(spec.host_name);
    throw;
  }
}

void delete_link(const std::string& name) {
  Socket socket = connect_route();
  Link link(rtnl_link_alloc());
  rtnl_link_set_name(link.get(), name.c_str());
  const int result = rtnl_link_delete(socket.get(), link.get());
  if (result == -NLE_NODEV || result == -NLE_OBJ_NOTFOUND) return;
  check(result, "delete the link " + name);
}

bool link_exists(const std::string& name) {
  Socket socket = connect_route();
  return find_link(socket.get(), name) != nullptr;
}

}  // namespace mcore::bridge
