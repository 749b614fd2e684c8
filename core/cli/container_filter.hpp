#pragma once
// `mcore ps --filter KEY=VALUE`, read as Docker reads it: values of one key are alternatives (OR),
// different keys must all match (AND). Keys: status, name, id (Go-style regular expressions, searched,
// or an exact match), exited (an exit code), label (KEY or KEY=VALUE; every label filter must match).
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "engine/api/containers.hpp"

namespace mcore::cli {

class ContainerFilter {
 public:
  // Throws Error "invalid filter 'foo'" (Docker's words) for an unknown key or a bad value, naming the
  // keys and values that are accepted.
  static ContainerFilter parse(const std::vector<std::string>& filters);

  // A status filter lists stopped containers too, as -a does (Docker's rule).
  bool lists_stopped() const { return values_.count("status") > 0; }

  // Whether an observed record (observe_container) passes every key.
  bool matches(const engine::ContainerRecord& record) const;

 private:
  struct Pattern {
    std::string text;
    std::optional<std::regex> regex;  // nullopt when `text` is not a valid expression: exact match only
  };
  bool matches_any(const std::string& key, const std::vector<std::string>& candidates) const;

  std::map<std::string, std::vector<Pattern>> values_;
  std::vector<std::pair<std::string, std::optional<std::string>>> labels_;
};

}  // namespace mcore::cli
