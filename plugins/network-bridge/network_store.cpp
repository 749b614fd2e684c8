#include "network_store.hpp"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "mcore/atomic_file.hpp"
#include "mcore/error.hpp"

namespace mcore::bridge {
namespace fs = std::filesystem;

NetworkStore::NetworkStore(fs::path dir) : dir_(std::move(dir)) {}

ExclusiveLock NetworkStore::lock() const {
  std::error_code error;
  fs::create_directories(dir_, error);
  if (error) throw Error("create " + dir_.string(), error.value());
  return ExclusiveLock(dir_ / "networks.lock");
}

std::vector<NetworkRecord> NetworkStore::read() const {
  std::vector<NetworkRecord> networks;
  std::ifstream in(dir_ / "networks.json");
  if (!in) return networks;
  std::stringstream text;
  text << in.rdbuf();
  auto json = nlohmann::json::parse(text.str(), nullptr, false);
  if (!json.is_array()) {
    throw Error("damaged network list " + (dir_ / "networks.json").string(), 0,
                "restore it from a backup, or remove it and create the networks again");
  }
  for (const auto& item : json) {
    NetworkRecord record;
    record.name = item.value("name", "");
    record.id = item.value("id", "");
    record.bridge = item.value("bridge", "");
    record.subnet = item.value("subnet", "");
    record.gateway = item.value("gateway", "");
    record.created = item.value("created", "");
    record.is_default = item.value("default", false);
    record.subnet_note = item.value("subnet_note", "");
    record.direct_routing = item.value("direct_routing", false);
    networks.push_back(std::move(record));
  }
  return networks;
}

void NetworkStore::write(const std::vector<NetworkRecord>& networks) const {
  nlohmann::json json = nlohmann::json::array();
  for (const auto& record : networks) {
    json.push_back({{"name", record.name},
                    {"id", record.id},
                    {"bridge", record.bridge},
                    {"subnet", record.subnet},
                    {"gateway", record.gateway},
                    {"created", record.created},
                    {"default", record.is_default},
                    {"subnet_note", record.subnet_note},
                    {"direct_routing", record.direct_routing}});
  }
  write_file_atomic(dir_ / "networks.json", json.dump(2));
}

}  // namespace mcore::bridge
