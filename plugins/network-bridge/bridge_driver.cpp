#include "bridge_driver.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>

#include "links.hpp"
#include "mcore/error.hpp"
#include "mcore/fd_io.hpp"
#include "mcore/unique_fd.hpp"
#include "mcore/user_namespace.hpp"
#include "new_network.hpp"
#include "port_reservation.hpp"

namespace mcore::bridge {
namespace fs = std::filesystem;

namespace {

constexpr const char* kDefaultNetwork = "bridge";

// The one option the driver takes, under Docker's name or short: gateway_mode_ipv4 "nat" (the default:
// from outside the host, only published ports are reachable) or "nat-unprotected" (containers'
// addresses may be routed to directly). Returns whether direct routing is allowed.
bool parse_gateway_mode(const std::map<std::string, std::string>& options) {
  bool direct_routing = false;
  for (const auto& [key, value] : options) {
    if (key != "gateway_mode_ipv4" && key != "com.docker.network.bridge.gateway_mode_ipv4") {
      throw Error("the bridge driver has no option \"" + key + "\"", 0,
                  "it takes --opt gateway_mode_ipv4=nat|nat-unprotected, besides --subnet and --gateway");
    }
    if (value != "nat" && value != "nat-unprotected") {
      throw Error("gateway_mode_ipv4 \"" + value + "\" is not supported", 0, "use nat or nat-unprotected");
    }
    direct_routing = value == "nat-unprotected";
  }
  return direct_routing;
}

}  // namespace

BridgeDriver::BridgeDriver(const HostContext& context)
    : logger_(context.logger ? context.logger->clone("bridge") : nullptr),
      config_(parse_bridge_config(context)),
      store_(context.data_root / "network" / "bridge"),
      state_dir_(context.state_root / "network" / "bridge") {
  // A user namespace's root (rootless mcore) can make no link or firewall rule on the host.
  if (!in_initial_user_namespace()) {
    throw Error(
        "the bridge network driver needs root: rootless mcore cannot create bridges, veth pairs or "
        "firewall rules on the host",
        0, "use --network none or --network host");
  }
}

Firewall& BridgeDriver::firewall() const {
  if (!firewall_) firewall_.emplace(config_.table);
  return *firewall_;
}

fs::path BridgeDriver::network_state(const NetworkRecord& network) const {
  return state_dir_ / "networks" / network.id;
}

fs::path BridgeDriver::published_marker(const std::string& container_id) const {
  return state_dir_ / "published" / container_id;
}

LeaseFile BridgeDriver::leases(const NetworkRecord& network) const {
  return LeaseFile(network_state(network), parse_subnet(network.subnet), parse_ipv4(network.gateway));
}

std::vector<NetworkRecord> BridgeDriver::networks_with_default() const {
  auto held = store_.lock();
  auto networks = store_.read();
  auto found = std::find_if(networks.begin(), networks.end(), [](const auto& n) { return n.is_default; });
  if (found != networks.end()) {
    // The config may have changed since the default network was recorded.
    const bool changed = found->bridge != config_.bridge || (!config_.subnet.empty() && found->subnet != config_.subnet);
    if (!changed) return networks;
    if (!leases(*found).leases().empty()) {
      throw Error("the config changes the default network (bridge " + config_.bridge + ", subnet " +
                      (config_.subnet.empty() ? "automatic" : config_.subnet) + ") while containers use it",
                  0, "stop the containers on network bridge, then retry");
    }
    firewall().remove_network(found->name, found->bridge);
    delete_link(found->bridge);
    std::error_code error;
    fs::remove_all(network_state(*found), error);
    networks.erase(found);
  }
  NetworkRecord record;
  record.name = kDefaultNetwork;
  record.id = random_network_id();
  record.bridge = config_.bridge;
  record.created = now_rfc3339();
  record.is_default = true;
  assign_subnet(record, config_.subnet, "", networks);
  networks.insert(networks.begin(), record);
  store_.write(networks);
  return networks;
}

NetworkRecord BridgeDriver::find(const std::string& name) const {
  for (auto& network : networks_with_default()) {
    if (network.name == name) return network;
  }
  throw Error("network " + name + " not found", 0, "create it with `mcore network create " + name + "`, or see `mcore network ls`");
}

NetworkInfo BridgeDriver::describe(const NetworkRecord& network) const {
  NetworkInfo info;
  info.name = network.name;
  info.id = network.id;
  info.driver = "bridge";
  info.subnet = network.subnet;
  info.gateway = network.gateway;
  info.created = network.created;
  info.is_default = network.is_default;
  info.subnet_note = network.subnet_note;
  info.details = {{"bridge", network.bridge}, {"mtu", config_.mtu}};
  std::error_code error;
  if (fs::exists(network_state(network) / "leases.json", error)) {
    for (const auto& [address, container] : leases(network).leases()) {
      info.containers[container] = format_ipv4(address) + "/" + std::to_string(parse_subnet(network.subnet).prefix);
    }
  }
  return info;
}

void BridgeDriver::bring_up(const NetworkRecord& network) const {
  const fs::path dir = network_state(network);
  // Named after the rules' generation: a network brought up by an older mcore gets today's rules.
  const fs::path marker = dir / "up-2";
  // sysfs rather than a netlink round trip: this runs at every attach.
  const fs::path link = fs::path("/sys/class/net") / network.bridge;
  if (::access(marker.c_str(), F_OK) == 0 && ::access(link.c_str(), F_OK) == 0) return;
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) throw Error("create " + dir.string(), error.value());
  ExclusiveLock held(dir / "up.lock");
  if (::access(marker.c_str(), F_OK) == 0 && ::access(link.c_str(), F_OK) == 0) return;
  const Ipv4Subnet subnet = parse_subnet(network.subnet);
  ensure_bridge({network.bridge, network.gateway + "/" + std::to_string(subnet.prefix), config_.mtu});
  // Published ports answer on 127.0.0.1: DNAT-ed loopback traffic must be routable out of the bridge.
  write_knob(fs::path("/proc/sys/net/ipv4/conf") / network.bridge / "route_localnet", "1");
  firewall().ensure_base();
  firewall().add_network({network.name, network.bridge, network.subnet, network.gateway, network.direct_routing});
  // Brought up again while rules are there: the state that named them (the marker, the leases) was
  // lost. A DNAT rule into the subnet without a lease behind it would misroute traffic to whoever
  // gets that address next.
  std::vector<std::string> leased;
  for (const auto& [address, container] : leases(network).leases()) leased.push_back(container);
  firewall().remove_stale_port_rules(network.subnet, leased);
  std::ofstream(marker).flush();
}

NetworkInfo BridgeDriver::create_network(const NetworkSpec& spec) {
  check_network_name(spec.name);
  const bool direct_routing = parse_gateway_mode(spec.options);
  networks_with_default();  // the default network first: a user network never takes its subnet
  NetworkRecord record;
  {
    auto held = store_.lock();
    auto networks = store_.read();
    for (const auto& network : networks) {
      if (network.name != spec.name) continue;
      if (network.is_default && spec.subnet.empty() && spec.gateway.empty()) return describe(network);
      throw Error("network " + spec.name + " already exists", 0, "choose another name, or remove it first");
    }
    record.name = spec.name;
    record.id = random_network_id();
    record.bridge = "br-mc" + record.id.substr(0, 10);
    record.created = now_rfc3339();
    record.direct_routing = direct_routing;
    assign_subnet(record, spec.subnet, spec.gateway, networks);
    networks.push_back(record);
    store_.write(networks);
  }
  try {
    bring_up(record);
  } catch (...) {
    remove_network(record.name);
    throw;
  }
  return describe(record);
}

void BridgeDriver::remove_network(const std::string& name) {
  auto held = store_.lock();
  auto networks = store_.read();
  auto found = std::find_if(networks.begin(), networks.end(), [&](const auto& n) { return n.name == name; });
  if (found == networks.end()) return;
  if (found->is_default) {
    throw Error("network " + name + " is the default network and cannot be removed", 0,
                "it is pre-defined; only networks made with `mcore network create` can be removed");
  }
  auto leased = leases(*found).leases();
  if (!leased.empty()) {
    std::string users;
    for (const auto& [address, container] : leased) users += (users.empty() ? "" : ", ") + container.substr(0, 12);
    throw Error("network " + name + " is in use by " + std::to_string(leased.size()) + " container(s): " + users, 0,
                "stop and remove them first (mcore rm -f ...)");
  }
  firewall().remove_network(found->name, found->bridge);
  delete_link(found->bridge);
  std::error_code error;
  fs::remove_all(network_state(*found), error);
  networks.erase(found);
  store_.write(networks);
}

std::vector<NetworkInfo> BridgeDriver::list_networks() const {
  std::vector<NetworkInfo> infos;
  for (const auto& network : networks_with_default()) infos.push_back(describe(network));
  return infos;
}

void BridgeDriver::enable_forwarding() const {
  if (!config_.ip_forward || read_file("/proc/sys/net/ipv4/ip_forward").rfind('1', 0) == 0) return;
  write_knob("/proc/sys/net/ipv4/ip_forward", "1");
  if (logger_) logger_->info("enabled IPv4 forwarding (net.ipv4.ip_forward=1) for NAT-ed container traffic");
}

Endpoint BridgeDriver::attach(const NetworkAttachment& attachment) {
  const NetworkRecord network = find(attachment.network);
  bring_up(network);
  enable_forwarding();
  const Ipv4Subnet subnet = parse_subnet(network.subnet);
  LeaseFile addresses = leases(network);
  const std::uint32_t address = addresses.lease(attachment.container_id);
  const std::string address_text = format_ipv4(address);
  const std::string veth = container_veth_name(attachment.container_id);
  Endpoint endpoint;
  endpoint.network = network.name;
  endpoint.default_network = network.is_default;
  endpoint.interface_name = "eth0";
  endpoint.mac_address = container_mac(address);
  endpoint.addresses = {address_text + "/" + std::to_string(subnet.prefix)};
  endpoint.gateway = network.gateway;
  endpoint.mtu = config_.mtu;
  bool linked = false;
  bool published = false;
  try {
    // Ports first: a port in use is the likeliest failure and the cheapest to undo.
    for (PortMapping port : attachment.ports) {
      ReservedPort reserved = reserve_port(port.host_ip, port.host_port, port.protocol);
      port.host_port = reserved.port;
      endpoint.held_sockets.push_back(std::move(reserved.socket));
      endpoint.ports.push_back(port);
    }
    UniqueFd netns(::open(attachment.netns_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!netns) throw Error::from_errno("open the container's network namespace " + attachment.netns_path.string());
    add_container_veth({veth, network.bridge, netns.get(), endpoint.addresses.front(), network.gateway, "eth0",
                        endpoint.mac_address, config_.mtu});
    linked = true;
    if (!endpoint.ports.empty()) {
      // Recorded before the first rule, so that whatever a crash leaves is found again.
      const fs::path marker = published_marker(attachment.container_id);
      fs::create_directories(marker.parent_path());
      std::ofstream(marker) << network.name << "\n";
      published = true;
      std::vector<PublishedPort> rules;
      for (const auto& port : endpoint.ports) {
        rules.push_back({port.host_ip, port.host_port, address_text, port.container_port, port.protocol, network.subnet});
      }
      firewall().publish(attachment.container_id, rules);
    }
  } catch (...) {
    try {
      if (published) {
        firewall().unpublish(attachment.container_id);
        ::unlink(published_marker(attachment.container_id).c_str());
      }
      if (linked) delete_link(veth);
      addresses.release(attachment.container_id);
    } catch (const Error& error) {
      if (logger_) logger_->warn("container {}: undoing a failed attach: {}", attachment.container_id.substr(0, 12), error.what());
    }
    throw;
  }
  return endpoint;
}

void BridgeDriver::detach(const std::string& container_id, const std::string& network_name) {
  // Usually gone already: a veth pair dies with the container's network namespace.
  const fs::path veth = fs::path("/sys/class/net") / container_veth_name(container_id);
  if (::access(veth.c_str(), F_OK) == 0) delete_link(container_veth_name(container_id));
  release_exited(container_id, network_name);
}

// The veth pair goes with the namespace: deleting it here would wait for the kernel's teardown.
void BridgeDriver::release_exited(const std::string& container_id, const std::string& network_name) {
  // Reads need no lock: the list is only ever replaced whole.
  std::optional<NetworkRecord> network;
  for (auto& record : store_.read()) {
    if (record.name == network_name) network = record;
  }
  const fs::path marker = published_marker(container_id);
  if (::access(marker.c_str(), F_OK) == 0) {
    firewall().unpublish(container_id);
    ::unlink(marker.c_str());
  }
  if (network) leases(*network).release(container_id);
}

void BridgeDriver::prune(const std::vector<std::string>& live) {
  const auto is_live = [&](const std::string& id) { return std::find(live.begin(), live.end(), id) != live.end(); };
  store_.remove_unfinished_writes();
  for (const auto& network : store_.read()) {
    std::error_code error;
    if (!fs::exists(network_state(network) / "leases.json", error)) continue;
    for (const auto& id : leases(network).reclaim(live)) {
      delete_link(container_veth_name(id));
      if (logger_) logger_->info("released the address of container {} on {}", id.substr(0, 12), network.name);
    }
  }
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(state_dir_ / "published", error)) {
    const std::string id = entry.path().filename().string();
    if (is_live(id)) continue;
    firewall().unpublish(id);
    fs::remove(entry.path(), error);
  }
  // Rules a crash left between writing a marker's removal and the rule's: found by their comments.
  if (!fs::exists(state_dir_, error)) return;
  for (const auto& owner : firewall().owners()) {
    if (owner.rfind("ctr:", 0) == 0 && !is_live(owner.substr(4))) firewall().unpublish(owner.substr(4));
  }
}

}  // namespace mcore::bridge
