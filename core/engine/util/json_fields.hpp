#pragma once
// Reading a JSON document field by field, every error naming the field's JSON path
// ("process.args[2]: expected a string") and ending with the document's own hint (which format, where
// it is documented). Used by the documents users hand mcore: seccomp profiles, OCI bundles' config.json.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mcore::engine {

// The member, or nullptr when it is absent or null (Docker and OCI clients write null for empty lists).
const nlohmann::json* json_member(const nlohmann::json& object, std::string_view key);

// "parent.key" ("key" at the top), and "parent[index]".
std::string json_key_path(const std::string& parent, std::string_view key);
std::string json_index_path(const std::string& parent, std::size_t index);

class JsonFields {
 public:
  explicit JsonFields(std::string hint) : hint_(std::move(hint)) {}

  // Throws Error "<path>: <problem>" with the hint.
  [[noreturn]] void fail(const std::string& path, const std::string& problem) const;

  // The value as that type, or fail(path, "expected ...").
  const std::string& string(const nlohmann::json& value, const std::string& path) const;
  std::uint64_t unsigned_integer(const nlohmann::json& value, const std::string& path) const;
  std::int64_t integer(const nlohmann::json& value, const std::string& path) const;
  bool boolean(const nlohmann::json& value, const std::string& path) const;
  const nlohmann::json& array(const nlohmann::json& value, const std::string& path) const;
  const nlohmann::json& object(const nlohmann::json& value, const std::string& path) const;
  std::vector<std::string> strings(const nlohmann::json& value, const std::string& path) const;

 private:
  std::string hint_;
};

}  // namespace mcore::engine
