#pragma once
// The bridge driver's links, through libnl-route: the bridge with its gateway address, a veth pair per
// container with one end in the container's network namespace, and that end's address, MTU and default
// route. Every call is idempotent where the driver's contract needs it (bridge creation, deletion).
#include <cstdint>
#include <functional>
#include <string>

namespace mcore::bridge {

struct BridgeSpec {
  std::string name;          // e.g. "mcore0"
  std::string gateway_cidr;  // the bridge's own address with the subnet's prefix, e.g. "172.17.0.1/16"
  int mtu = 1500;
};

// Creates the bridge when missing, gives it its address when it lacks it, and sets it up.
void ensure_bridge(const BridgeSpec& bridge);

struct VethSpec {
  std::string host_name;      // the host end, attached to the bridge, e.g. "veth1a2b3c4d"
  std::string bridge;         // its master
  int netns_fd = -1;          // the container's network namespace (an open /proc/<pid>/ns/net)
  std::string address_cidr;   // the container's address, e.g. "172.17.0.2/16"
  std::string gateway;        // the default route's gateway, e.g. "172.17.0.1"; "" for no default route
  std::string interface = "eth0";
  std::string mac_address;    // of `interface`; "" lets the kernel pick one
  int mtu = 1500;
};

// Creates the pair, attaches the host end to the bridge and sets it up; inside the namespace names the
// other end `interface`, gives it its address and MTU, sets it and lo up, and adds the default route
// (when the spec has a gateway).
// On failure the pair is deleted before the Error is thrown.
void add_container_veth(const VethSpec& veth);

// The host end of a container's pair is named after the container, so that detach and prune find it
// without any state.
std::string container_veth_name(const std::string& container_id);

// Docker's MAC scheme: 02:42 and the four bytes of the address, stable for an address.
std::string container_mac(std::uint32_t address);

// Runs `work` on a thread of its own moved into the network namespace `netns_fd`, and rethrows what it
// threw: setns(CLONE_NEWNET) moves only the calling thread, which then ends.
void in_network_namespace(int netns_fd, const std::function<void()>& work);

// Deletes a link by name (for a veth, both ends go). Nothing happens when it does not exist.
void delete_link(const std::string& name);

bool link_exists(const std::string& name);

}  // namespace mcore::bridge
