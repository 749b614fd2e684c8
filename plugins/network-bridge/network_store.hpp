#pragma once
// The bridge driver's networks, persisted in <data_root>/network/bridge/networks.json and changed only
// under a flock on networks.lock, so that two `network create` commands cannot both take one subnet.
// The default network "bridge" is recorded the first time it is used, with the subnet chosen then.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "exclusive_lock.hpp"

namespace mcore::bridge {

struct NetworkRecord {
  std::string name;
  std::string id;       // 64 hex digits
  std::string bridge;   // the bridge link's name
  std::string subnet;   // CIDR
  std::string gateway;  // the bridge's address
  std::string created;  // RFC 3339, UTC
  bool is_default = false;
  std::string subnet_note;  // why this subnet, when it is not the first choice ("" otherwise)
  bool direct_routing = false;  // created with gateway_mode_ipv4=nat-unprotected
};

class NetworkStore {
 public:
  explicit NetworkStore(std::filesystem::path dir);

  // Held for a read-modify-write of the list.
  ExclusiveLock lock() const;
  std::vector<NetworkRecord> read() const;
  // Deletes what a write killed before its rename left (takes the lock).
  void remove_unfinished_writes() const;
  // Writes the whole list atomically. Call with the lock held.
  void write(const std::vector<NetworkRecord>& networks) const;

 private:
  std::filesystem::path dir_;
};

}  // namespace mcore::bridge
