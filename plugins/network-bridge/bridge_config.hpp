#pragma once
// The bridge driver's section of the config file ("network"), every key optional:
//   {"bridge": "mcore0", "subnet": "172.17.0.0/16", "mtu": 1500, "ip_forward": true, "table": "mcore"}
#include <string>

#include "mcore/host_context.hpp"

namespace mcore::bridge {

struct BridgeConfig {
  std::string bridge = "mcore0";  // the default network's bridge
  std::string subnet;             // the default network's subnet; "" picks one free of the host's routes
  int mtu = 1500;                 // of the bridges and every container's eth0
  bool ip_forward = true;         // enable net.ipv4.ip_forward, as Docker does, so NAT-ed traffic leaves
  std::string table = "mcore";    // the nftables table (ip family) that holds every rule mcore adds
};

// Throws Error naming the key at fault (unknown key, wrong type, bad value).
BridgeConfig parse_bridge_config(const HostContext& context);

}  // namespace mcore::bridge
