#include "engine/start/container_network.hpp"

#include <string>

#include "engine/start/container_etc.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {

bool has_own_network_namespace(const ContainerSpec& spec) { return spec.network != NetworkMode::host; }

AttachedNetwork attach_container_network(Engine& engine, const ContainerRecord& record, pid_t init_pid) {
  NetworkAttachment attachment;
  attachment.container_id = record.id;
  attachment.container_name = record.name;
  attachment.network = record.spec.network_name;
  attachment.netns_path = "/proc/" + std::to_string(init_pid) + "/ns/net";
  attachment.ports = record.spec.ports;
  Endpoint endpoint = engine.network()->attach(attachment);
  AttachedNetwork attached;
  attached.endpoint.network = endpoint.network;
  attached.endpoint.address = endpoint.addresses.empty() ? "" : endpoint.addresses.front();
  attached.endpoint.gateway = endpoint.gateway;
  attached.endpoint.mac_address = endpoint.mac_address;
  attached.endpoint.ports = endpoint.ports;
  attached.endpoint.default_network = endpoint.default_network;
  attached.held_sockets = std::move(endpoint.held_sockets);
  return attached;
}

void detach_container_network(Engine& engine, const ContainerStore& store, ContainerRecord& record,
                              NetworkNamespace netns) {
  if (record.spec.network != NetworkMode::network) return;
  const std::string network = record.endpoint ? record.endpoint->network : record.spec.network_name;
  try {
    auto driver = engine.network();
    // Every driver of ABI 3 has release_exited (it came in 2.1).
    if (netns == NetworkNamespace::gone) {
      driver->release_exited(record.id, network);
    } else {
      driver->detach(record.id, network);
    }
  } catch (const Error& error) {
    engine.logger()->warn("container {}: leaving network {}: {}", record.id.substr(0, 12), network, error.what());
  }
  const std::optional<NetworkEndpoint> left = std::move(record.endpoint);
  record.endpoint.reset();
  if (left) {
    try {
      refresh_network_hosts(engine, store, *left, record.id);
    } catch (const Error& error) {
      engine.logger()->warn("network {}: updating hosts files: {}", network, error.what());
    }
  }
}

}  // namespace mcore::engine
