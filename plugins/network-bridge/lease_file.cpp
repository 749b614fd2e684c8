#include "lease_file.hpp"

#include <fcntl.h>
#include <sys/file.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "mcore/atomic_file.hpp"
#include "mcore/error.hpp"
#include "mcore/unique_fd.hpp"

namespace mcore::bridge {
namespace fs = std::filesystem;

namespace {

// Held for one read-modify-write of the leases.
class LeaseLock {
 public:
  explicit LeaseLock(const fs::path& dir) : fd_(::open((dir / "leases.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    if (!fd_) throw Error::from_errno("open " + (dir / "leases.lock").string());
    int result;
    do {
      result = ::flock(fd_.get(), LOCK_EX);
    } while (result != 0 && errno == EINTR);
    if (result != 0) throw Error::from_errno("lock " + (dir / "leases.lock").string());
  }

 private:
  UniqueFd fd_;
};

}  // namespace

LeaseFile::LeaseFile(fs::path dir, Ipv4Subnet subnet, std::uint32_t gateway)
    : dir_(std::move(dir)), subnet_(subnet), gateway_(gateway) {}

std::map<std::uint32_t, std::string> LeaseFile::read() const {
  std::ifstream in(dir_ / "leases.json");
  std::map<std::uint32_t, std::string> leases;
  if (!in) return leases;
  std::stringstream text;
  text << in.rdbuf();
  auto json = nlohmann::json::parse(text.str(), nullptr, false);
  if (!json.is_object()) throw Error("damaged lease file " + (dir_ / "leases.json").string(), 0,
                                     "remove the network and create it again");
  for (const auto& [address, container] : json.items()) leases[parse_ipv4(address)] = container.get<std::string>();
  return leases;
}

void LeaseFile::write(const std::map<std::uint32_t, std::string>& leases) const {
  nlohmann::json json = nlohmann::json::object();
  for (const auto& [address, container] : leases) json[format_ipv4(address)] = container;
  write_file_atomic(dir_ / "leases.json", json.dump());
}

std::uint32_t LeaseFile::lease(const std::string& container_id) {
  LeaseLock lock(dir_);
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
  LeaseLock lock(dir_);
  auto leases = read();
  const auto before = leases.size();
  std::erase_if(leases, [&](const auto& entry) { return entry.second == container_id; });
  if (leases.size() != before) write(leases);
}

std::vector<std::string> LeaseFile::reclaim(const std::vector<std::string>& live) {
  LeaseLock lock(dir_);
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

std::map<std::uint32_t, std::string> LeaseFile::leases() const {
  LeaseLock lock(dir_);
  return read();
}

}  // namespace mcore::bridge
