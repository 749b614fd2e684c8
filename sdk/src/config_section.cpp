#include "mcore/config_section.hpp"

#include "mcore/error.hpp"

namespace mcore {

ConfigSection::ConfigSection(const nlohmann::json& section, std::string path)
    : section_(section.is_null() ? nlohmann::json::object() : section), path_(std::move(path)) {
  if (!section_.is_object()) {
    throw Error(path_ + ": expected an object, found " + section_.type_name(), 0,
                "write \"" + path_ + "\": { ... } in the config file");
  }
}

std::string ConfigSection::key_path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

const nlohmann::json* ConfigSection::find(const std::string& key) {
  seen_.insert(key);
  auto it = section_.find(key);
  if (it == section_.end() || it->is_null()) return nullptr;
  return &*it;
}

namespace {
[[noreturn]] void wrong_type(const std::string& path, const char* expected, const nlohmann::json& value) {
  throw Error(path + ": expected " + expected + ", found " + value.type_name(), 0,
              "fix the value of " + path + " in the config file");
}
}  // namespace

std::optional<std::string> ConfigSection::get_string(const std::string& key) {
  const auto* value = find(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) wrong_type(key_path(key), "a string", *value);
  return value->get<std::string>();
}

std::optional<bool> ConfigSection::get_bool(const std::string& key) {
  const auto* value = find(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_boolean()) wrong_type(key_path(key), "true or false", *value);
  return value->get<bool>();
}

std::optional<std::int64_t> ConfigSection::get_int(const std::string& key) {
  const auto* value = find(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_number_integer()) wrong_type(key_path(key), "an integer", *value);
  return value->get<std::int64_t>();
}

std::optional<std::vector<std::string>> ConfigSection::get_string_list(const std::string& key) {
  const auto* value = find(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_array()) wrong_type(key_path(key), "a list of strings", *value);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < value->size(); ++i) {
    const auto& item = (*value)[i];
    if (!item.is_string()) wrong_type(key_path(key) + "[" + std::to_string(i) + "]", "a string", item);
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::optional<ConfigSection> ConfigSection::get_section(const std::string& key) {
  const auto* value = find(key);
  if (value == nullptr) return std::nullopt;
  return ConfigSection(*value, key_path(key));
}

void ConfigSection::reject_unknown_keys() const {
  for (const auto& item : section_.items()) {
    if (!seen_.contains(item.key())) {
      throw Error(key_path(item.key()) + ": unknown key", 0,
                  "remove it from the config file or check its spelling");
    }
  }
}

}  // namespace mcore
