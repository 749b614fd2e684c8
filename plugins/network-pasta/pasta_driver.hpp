#pragma once
// The `pasta` network driver: each container's network namespace gets a tap interface served by its
// own pasta process (Debian's passt), which copies the host's addresses and routes into it and
// carries the container's traffic through ordinary sockets of the user running mcore. It needs no
// privilege on the host, so it is rootless mcore's network. Its default network is "pasta".
//
// User networks (`network create`, a deployment's networks) add what one pasta per container cannot
// give: containers that reach each other by address and by name. Each has a bridge in a network
// namespace of the driver's own (bridge_namespace.hpp), and each member a second interface, eth1,
// on it, with an address from the network's subnet; eth0 and its pasta still carry the traffic to
// and from the host and the published ports.
//
// pasta runs with -T none -U none and --no-map-gw: nothing bound to the host's loopback is reachable
// from the container, neither through its own loopback nor through the gateway address.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "bridge_namespace.hpp"
#include "lease_file.hpp"
#include "mcore/host_context.hpp"
#include "mcore/network_driver.hpp"
#include "network_store.hpp"

namespace mcore::pasta {

class PastaDriver final : public NetworkDriver {
 public:
  // Config section `network`: "binary" (default "pasta", looked up in PATH).
  explicit PastaDriver(const HostContext& context);

  // A user network with its subnet (given, or a free one) and its bridge.
  NetworkInfo create_network(const NetworkSpec& spec) override;
  // Refused for "pasta" and for a network that has members.
  void remove_network(const std::string& name) override;
  std::vector<NetworkInfo> list_networks() const override;
  // Starts the container's pasta (which forwards the published ports) and waits until it has set up
  // the namespace; on a user network, also leases an address and adds eth1 to the network's bridge.
  // Throws Error with what pasta said; nothing is left running then.
  Endpoint attach(const NetworkAttachment& attachment) override;
  // Stops the container's pasta, and gives back its address and link. Idempotent.
  void detach(const std::string& container_id, const std::string& network) override;
  // detach without the link, which went with the container's namespace.
  void release_exited(const std::string& container_id, const std::string& network) override;
  void prune(const std::vector<std::string>& live_container_ids) override;

 private:
  std::filesystem::path pid_file(const std::string& container_id) const;
  bridge::NetworkRecord find(const std::string& name) const;
  bridge::LeaseFile leases(const bridge::NetworkRecord& network) const;
  NetworkInfo describe(const bridge::NetworkRecord& network) const;
  // eth0 and its pasta, with the published ports.
  Endpoint start_pasta(const NetworkAttachment& attachment);
  void stop_pasta(const std::string& container_id);
  void join_bridge(const bridge::NetworkRecord& network, const NetworkAttachment& attachment,
                   Endpoint& endpoint);

  std::shared_ptr<spdlog::logger> logger_;
  std::string binary_ = "pasta";
  std::filesystem::path state_dir_;  // <state_root>/network/pasta: one pid file per container
  bridge::NetworkStore store_;       // <data_root>/network/pasta: the user networks
  BridgeNamespace bridges_;
};

}  // namespace mcore::pasta
