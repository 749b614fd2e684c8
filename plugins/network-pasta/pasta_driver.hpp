#pragma once
// The `pasta` network driver: each container's network namespace gets a tap interface served by its
// own pasta process (Debian's passt), which copies the host's addresses and routes into it and
// carries the container's traffic through ordinary sockets of the user running mcore. It needs no
// privilege on the host, so it is rootless mcore's network. There is one network, "pasta".
//
// pasta runs with -T none -U none and --no-map-gw: nothing bound to the host's loopback is reachable
// from the container, neither through its own loopback nor through the gateway address.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "mcore/host_context.hpp"
#include "mcore/network_driver.hpp"

namespace mcore::pasta {

class PastaDriver final : public NetworkDriver {
 public:
  // Config section `network`: "binary" (default "pasta", looked up in PATH).
  explicit PastaDriver(const HostContext& context);

  // Refused: there is one network.
  NetworkInfo create_network(const NetworkSpec& spec) override;
  // Refused for "pasta"; nothing to do for other names.
  void remove_network(const std::string& name) override;
  std::vector<NetworkInfo> list_networks() const override;
  // Starts the container's pasta (which forwards the published ports) and waits until it has set up
  // the namespace. Throws Error with what pasta said; nothing is left running then.
  Endpoint attach(const NetworkAttachment& attachment) override;
  // Stops the container's pasta. Idempotent.
  void detach(const std::string& container_id, const std::string& network) override;
  void prune(const std::vector<std::string>& live_container_ids) override;

 private:
  std::filesystem::path pid_file(const std::string& container_id) const;

  std::shared_ptr<spdlog::logger> logger_;
  std::string binary_ = "pasta";
  std::filesystem::path state_dir_;  // <state_root>/network/pasta: one pid file per container
};

}  // namespace mcore::pasta
