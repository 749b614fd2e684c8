#include "lease_file.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "exclusive_lock.hpp"
#include "mcore/atomic_file.hpp"
#include "mcore/error.hpp"
#include "mcore/fd_io.hpp"

namespace mcore::bridge {
namespace fs = std::filesystem;

LeaseFile::LeaseFile(fs::path dir, Ipv4Subnet subnet, std::uint32_t gateway)
    : dir_(std::move(dir)), subnet_(subnet), gateway_(gateway) {}

std::map<std::uint32_t, std::string> LeaseFile::read() const {
  std::map<std::uint32_t, std::string> leases;
  const auto text = read_file_if_exists(dir_ / "leases.json");
  if (!text) return leases;
  auto json = nlohmann::json::parse(*text, nullptr, false);
  const auto damaged = [&] {
    return Error("damaged lease file " + (dir_ / "leases.json").string(), 0, "remove the network and create it again");
  };
  if (!json.is_object()) throw damaged();
  for (const auto& [address, container] : json.items()) {
    if (!container.is_string()) throw damaged();
    try {
      leases[parse_ipv4(address)] = container.get<std::string>();
    } catch (const Error&) {
      throw damaged();
    }
  }
  return leases;
}

void LeaseFile::write(const std::map<std::uint32_t, std::string>& leases) const {
  nlohmann::json json = nlohmann::json::object();
  for (const auto& [address, container] : leases) json[format_ipv4(address)] = container;
  // Runtime state: gone with a reboot, so no fsync (the rename keeps a crash from tearing it).
  write_file_atomic(dir_ / "leases.json", json.dump(), {.sync_file = false});
}

std::uint32_t LeaseFile::lease(const std::string& container_id) {
  std::error_code error;
  fs::create_directories(dir_, error);
  if (error) throw Error("create " + dir_.string(), error.value());
  ExclusiveLock lock(dir_ / "leases.lock");
  auto leases = read();
  for (const auto& [address, holder] : leases) {
    if (holder == container_id) return address;
  }
  for (std::uint32_t address = subnet_.network + 1; address < subnet_.broadcast(); ++address) {
    if (address == gateway_ || leases.count(address)) continue;
    leases[address] = container_id;
    write(leases);
    return address;
  }
  throw Error("no free address in " + format_subnet(subnet_), 0,
              "remove stopped containers (mcore prune) or use a network with a larger subnet");
}

void LeaseFile::release(const std::string& container_id) {
  if (!fs::exists(dir_)) return;  // nothing was ever leased
  ExclusiveLock lock(dir_ / "leases.lock");
  auto leases = read();
  const auto before = leases.size();
  std::erase_if(leases, [&](const auto& entry) { return entry.second == container_id; });
  if (leases.size() != before) write(leases);
}

std::vector<std::string> LeaseFile::reclaim(const std::vector<std::string>& live) {
  if (!fs::exists(dir_)) return {};  // nothing was ever leased
  ExclusiveLock lock(dir_ / "leases.lock");
  auto leases = read();
  std::vector<std::string> freed;
  std::erase_if(leases, [&](const auto& entry) {
    if (std::find(live.begin(), live.end(), entry.second) != live.end()) return false;
    freed.push_back(entry.second);
    return true;
  });
  if (!freed.empty()) write(leases);
  return freed;
}

// No lock: every write replaces the file by a rename, so a reader sees the old leases or the new.
std::map<std::uint32_t, std::string> LeaseFile::leases() const { return read(); }

}  // namespace mcore::bridge
