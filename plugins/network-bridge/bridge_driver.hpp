#pragma once
// The bridge network driver: networks are Linux bridges with a gateway address, containers join them
// through veth pairs, addresses come from per-network lease files, and NAT, published ports and the
// isolation between networks are rules in mcore's own nftables table.
//
// State: <data_root>/network/bridge/networks.json (the networks); <state_root>/network/bridge/
// networks/<id>/ (leases and the "up-2" marker of a network whose bridge and rules are in place since
// boot) and published/<container id> (present while the container may have port rules).
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "bridge_config.hpp"
#include "firewall.hpp"
#include "lease_file.hpp"
#include "mcore/host_context.hpp"
#include "mcore/network_driver.hpp"
#include "network_store.hpp"

namespace mcore::bridge {

class BridgeDriver final : public NetworkDriver {
 public:
  explicit BridgeDriver(const HostContext& context);

  NetworkInfo create_network(const NetworkSpec& spec) override;
  void remove_network(const std::string& name) override;
  std::vector<NetworkInfo> list_networks() const override;
  Endpoint attach(const NetworkAttachment& attachment) override;
  void detach(const std::string& container_id, const std::string& network) override;
  void release_exited(const std::string& container_id, const std::string& network) override;
  void prune(const std::vector<std::string>& live_container_ids) override;

 private:
  // The networks with the default one recorded (its subnet chosen) when it is not yet. Takes the lock.
  std::vector<NetworkRecord> networks_with_default() const;
  NetworkRecord find(const std::string& name) const;  // throws Error naming an unknown network
  // Bridge, its address, route_localnet and the network's rules, once per boot.
  void bring_up(const NetworkRecord& network) const;
  // net.ipv4.ip_forward=1 unless the config says ip_forward: false; checked at every attach, as
  // something else may have turned it off.
  void enable_forwarding() const;
  LeaseFile leases(const NetworkRecord& network) const;
  std::filesystem::path network_state(const NetworkRecord& network) const;
  std::filesystem::path published_marker(const std::string& container_id) const;
  Firewall& firewall() const;
  NetworkInfo describe(const NetworkRecord& network) const;

  std::shared_ptr<spdlog::logger> logger_;
  BridgeConfig config_;
  NetworkStore store_;
  std::filesystem::path state_dir_;
  mutable std::optional<Firewall> firewall_;  // opened on first need: most attaches publish nothing
};

}  // namespace mcore::bridge
