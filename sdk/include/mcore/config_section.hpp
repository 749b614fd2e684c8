#pragma once
// Typed, strict reading of a JSON config section: every key optional, a wrong type or an unknown key
// is an Error naming the key's full path ("resource.cgroup_parnt: unknown key").
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mcore {

class ConfigSection {
 public:
  // `path` is the section's own path ("resource"); `section` must be an object or null.
  ConfigSection(const nlohmann::json& section, std::string path);

  std::optional<std::string> get_string(const std::string& key);
  std::optional<bool> get_bool(const std::string& key);
  std::optional<std::int64_t> get_int(const std::string& key);
  std::optional<std::vector<std::string>> get_string_list(const std::string& key);
  // A nested object, returned as a section of its own (path "resource.limits").
  std::optional<ConfigSection> get_section(const std::string& key);

  const std::string& path() const { return path_; }
  std::string key_path(const std::string& key) const;
  // Throws Error naming the first key that no get_* call asked for. Call after reading every key.
  void reject_unknown_keys() const;

 private:
  const nlohmann::json* find(const std::string& key);
  nlohmann::json section_;
  std::string path_;
  std::set<std::string> seen_;
};

}  // namespace mcore
