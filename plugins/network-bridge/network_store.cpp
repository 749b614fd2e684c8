#include "network_store.hpp"


#include <nlohmann/json.hpp>

#include "mcore/atomic_file.hpp"
#include "mcore/error.hpp"
#include "mcore/fd_io.hpp"

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
  const fs::path file = dir_ / "networks.json";
  const auto text = read_file_if_exists(file);
  if (!text) return networks;
  const auto damaged = [&](const std::string& what) {
    return Error("damaged network list " + file.string() + ": " + what, 0,
                 "restore it from a backup, or remove it and create the networks again");
  };
  auto json = nlohmann::json::parse(*text, nullptr, false);
  if (!json.is_array()) throw damaged("not a JSON list");
  // Every field is checked before it is used: the file is read by every attach, and a wrong type must
  // be a clear error, not an exception of the JSON library.
  const auto string_field = [&](const nlohmann::json& item, const char* key, bool required) {
    const auto found = item.find(key);
    if (found == item.end()) {
      if (required) throw damaged(std::string("a network has no \"") + key + "\"");
      return std::string();
    }
    if (!found->is_string()) throw damaged(std::string("a network's \"") + key + "\" is not a string");
    return found->get<std::string>();
  };
  const auto bool_field = [&](const nlohmann::json& item, const char* key) {
    const auto found = item.find(key);
    if (found == item.end()) return false;
    if (!found->is_boolean()) throw damaged(std::string("a network's \"") + key + "\" is not true or false");
    return found->get<bool>();
  };
  for (const auto& item : json) {
    if (!item.is_object()) throw damaged("an entry is not an object");
    NetworkRecord record;
    record.name = string_field(item, "name", true);
    record.id = string_field(item, "id", true);
    record.bridge = string_field(item, "bridge", true);
    record.subnet = string_field(item, "subnet", true);
    record.gateway = string_field(item, "gateway", true);
    record.created = string_field(item, "created", false);
    record.is_default = bool_field(item, "default");
    record.subnet_note = string_field(item, "subnet_note", false);
    record.direct_routing = bool_field(item, "direct_routing");
    networks.push_back(std::move(record));
  }
  return networks;
}

void NetworkStore::remove_unfinished_writes() const {
  const ExclusiveLock held = lock();
  remove_atomic_write_leftovers(dir_);
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
