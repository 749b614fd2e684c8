#pragma once
// Network drivers connect a container's network namespace to a network, keep address leases, and publish
// ports. They own every link, lease and firewall rule they create and remove exactly those.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mcore/plugin.hpp"
#include "mcore/unique_fd.hpp"

namespace mcore {

struct PortMapping {
  std::string host_ip;              // "" for every host address
  std::uint16_t host_port = 0;      // 0: the driver picks a free port
  std::uint16_t container_port = 0;
  std::string protocol = "tcp";     // "tcp" or "udp"
};

struct NetworkSpec {
  std::string name;
  std::string subnet;   // CIDR; "" lets the driver choose one free of the host's routes
  std::string gateway;  // "" for the subnet's first address
  std::map<std::string, std::string> options;
};

// What the engine knows of a network: every field it uses is typed here, and each driver fills all of
// them. `details` is for people only: the engine shows it (`network inspect` Options, `mcore info`)
// and never reads a key of it.
struct NetworkInfo {
  std::string name;
  std::string id;                 // unique and stable for the network's life; `network rm/inspect` take a prefix
  std::string driver;
  std::string subnet;             // CIDR
  std::string gateway;
  std::string created;            // RFC 3339; "" when unknown
  bool is_default = false;        // the driver's default network: never removed by `network prune`, and
                                  // its members do not resolve each other by name (Docker's bridge)
  std::string subnet_note;        // why the subnet is not the driver's first choice; "" when it is
  std::map<std::string, std::string> containers;  // attached now: container id -> address (CIDR)
  nlohmann::json details = nlohmann::json::object();  // the driver's own facts (bridge name, MTU, ...)
};

struct NetworkAttachment {
  std::string container_id;
  std::string container_name;
  std::string network;                 // network name
  std::filesystem::path netns_path;    // the container's namespace, e.g. /proc/<pid>/ns/net
  std::vector<PortMapping> ports;
  std::vector<std::string> aliases;    // extra names peers may resolve
};

struct Endpoint {
  std::string network;
  bool default_network = false;        // the network is the driver's default (NetworkInfo::is_default)
  std::string interface_name;          // inside the container, e.g. "eth0"
  std::string mac_address;
  std::vector<std::string> addresses;  // CIDR notation
  std::string gateway;
  int mtu = 0;
  std::vector<PortMapping> ports;      // as published, with chosen host ports filled in
  std::vector<std::string> dns_servers;
  // Sockets bound to the published host ports. The engine keeps them open for as long as the container
  // runs (its supervisor holds them), so no other process can take a published port meanwhile.
  std::vector<UniqueFd> held_sockets;
};

class NetworkDriver : public Driver {
 public:
  ~NetworkDriver() override;

  // Creates a network. Throws Error when the name exists or the subnet overlaps another network or a
  // host route. Creating the driver's default network again is not an error.
  virtual NetworkInfo create_network(const NetworkSpec& spec) = 0;

  // Removes a network. Throws Error while containers are attached. Idempotent for unknown names.
  virtual void remove_network(const std::string& name) = 0;

  virtual std::vector<NetworkInfo> list_networks() const = 0;

  // Connects the namespace to the network: interface, address lease, routes, published ports. Called
  // before the container's command runs. On failure everything it did is undone before it throws;
  // a host port that is in use (by any process, or another container) is such a failure.
  virtual Endpoint attach(const NetworkAttachment& attachment) = 0;

  // Undoes attach: releases the lease, removes links and rules. Idempotent.
  virtual void detach(const std::string& container_id, const std::string& network) = 0;

  // Removes leases, links and rules of containers not listed in `live_container_ids` (crash leftovers).
  virtual void prune(const std::vector<std::string>& live_container_ids) = 0;

  // ABI 2.1. detach for a container whose network namespace is gone (its last process exited): the
  // kernel removes what lived in the namespace, a veth pair included, as it tears the namespace down,
  // so the driver gives back only what the kernel does not (leases, rules, files). Deleting such a
  // link by hand would wait for that teardown (about 10 ms). The default is detach. Idempotent.
  virtual void release_exited(const std::string& container_id, const std::string& network) {
    detach(container_id, network);
  }
};

}  // namespace mcore
