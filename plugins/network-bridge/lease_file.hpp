#pragma once
// IPAM for one network: which container holds which address, persisted in <dir>/leases.json and changed
// only under a flock on <dir>/leases.lock, so concurrent starts never get the same address and a crash
// leaves the old file or the new one. The directory comes with the first lease: reading the leases of
// a network that never had one, or freeing them, makes nothing.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "ipv4.hpp"

namespace mcore::bridge {

class LeaseFile {
 public:
  // `gateway` is never leased, nor the subnet's network and broadcast addresses.
  LeaseFile(std::filesystem::path dir, Ipv4Subnet subnet, std::uint32_t gateway);

  // The container's address: the one it holds already, else the lowest free one. Throws Error when the
  // subnet is full.
  std::uint32_t lease(const std::string& container_id);
  // Frees the container's address. Idempotent.
  void release(const std::string& container_id);
  // Frees the addresses of containers not in `live` (crash leftovers); returns their ids.
  std::vector<std::string> reclaim(const std::vector<std::string>& live);
  // Address -> container id.
  std::map<std::uint32_t, std::string> leases() const;

 private:
  std::map<std::uint32_t, std::string> read() const;
  void write(const std::map<std::uint32_t, std::string>& leases) const;

  std::filesystem::path dir_;
  Ipv4Subnet subnet_;
  std::uint32_t gateway_;
};

}  // namespace mcore::bridge
