#include "engine/util/json_fields.hpp"

#include "mcore/error.hpp"

namespace mcore::engine {

using nlohmann::json;

const json* json_member(const json& object, std::string_view key) {
  auto found = object.find(key);
  if (found == object.end() || found->is_null()) return nullptr;
  return &*found;
}

std::string json_key_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string json_index_path(const std::string& parent, std::size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

void JsonFields::fail(const std::string& path, const std::string& problem) const {
  throw Error(path + ": " + problem, 0, hint_);
}

const std::string& JsonFields::string(const json& value, const std::string& path) const {
  if (!value.is_string()) fail(path, "expected a string");
  return value.get_ref<const std::string&>();
}

std::uint64_t JsonFields::unsigned_integer(const json& value, const std::string& path) const {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  if (value.is_number_integer() && value.get<std::int64_t>() >= 0) {
    return static_cast<std::uint64_t>(value.get<std::int64_t>());
  }
  fail(path, "expected a non-negative integer");
}

std::int64_t JsonFields::integer(const json& value, const std::string& path) const {
  if (value.is_number_unsigned() && value.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
    fail(path, "is too large");
  }
  if (!value.is_number_integer()) fail(path, "expected an integer");
  return value.get<std::int64_t>();
}

bool JsonFields::boolean(const json& value, const std::string& path) const {
  if (!value.is_boolean()) fail(path, "expected true or false");
  return value.get<bool>();
}

const json& JsonFields::array(const json& value, const std::string& path) const {
  if (!value.is_array()) fail(path, "expected an array");
  return value;
}

const json& JsonFields::object(const json& value, const std::string& path) const {
  if (!value.is_object()) fail(path, "expected an object");
  return value;
}

std::vector<std::string> JsonFields::strings(const json& value, const std::string& path) const {
  std::vector<std::string> strings;
  for (std::size_t i = 0; i < array(value, path).size(); ++i) {
    strings.push_back(string(value[i], json_index_path(path, i)));
  }
  return strings;
}

}  // namespace mcore::engine
