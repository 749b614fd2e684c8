#pragma once
// A container's network from the engine's side: which namespaces it gets, and joining its network
// through the network driver between clone and the start barrier, and leaving it when it exits.
#include <sys/types.h>

#include <vector>

#include "engine/container/container_store.hpp"
#include "engine/context/engine.hpp"
#include "mcore/unique_fd.hpp"

namespace mcore::engine {

// Every mode but --network=host gives the container a network namespace of its own.
bool has_own_network_namespace(const ContainerSpec& spec);

struct AttachedNetwork {
  NetworkEndpoint endpoint;
  std::vector<UniqueFd> held_sockets;  // the published ports' reservations, for the supervisor to keep
};

// Connects the network namespace of `init_pid` to the record's network. Throws Error (the driver's)
// with nothing left attached.
AttachedNetwork attach_container_network(Engine& engine, const ContainerRecord& record, pid_t init_pid);

// Whether the container's network namespace still exists when it leaves its network.
enum class NetworkNamespace { may_live, gone };

// Undoes the attach of `record` (its lease, links and rules), clears its endpoint and refreshes the
// hosts files of its peers. With NetworkNamespace::gone (its init exited) the driver leaves the links
// to the kernel's teardown of the namespace (NetworkDriver::release_exited). Idempotent; logs what
// fails instead of throwing, as exit paths must go on.
void detach_container_network(Engine& engine, const ContainerStore& store, ContainerRecord& record,
                              NetworkNamespace netns = NetworkNamespace::may_live);

}  // namespace mcore::engine
