#include "cli/container_filter.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <string_view>

#include "mcore/error.hpp"

namespace mcore::cli {
namespace {

constexpr std::string_view kHint =
    "filter by status=created|running|paused|restarting|exited|dead, name=NAME, id=ID, exited=CODE or "
    "label=KEY[=VALUE]";

// Docker's keys that mcore does not implement (yet): refused with their own message, not as unknown.
constexpr std::array<std::string_view, 10> kDockerOnlyKeys = {"ancestor", "before",  "since",   "health",
                                                              "isolation", "is-task", "network", "publish",
                                                              "expose",   "volume"};

// "removing" is a state Docker accepts in filters; mcore never shows it, so it matches nothing.
constexpr std::array<std::string_view, 7> kStatuses = {"created",  "running", "paused", "restarting",
                                                       "removing", "exited",  "dead"};

[[noreturn]] void invalid(const std::string& what) {
  throw Error("invalid filter '" + what + "'", 0, std::string(kHint));
}

bool contains(auto list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace

ContainerFilter ContainerFilter::parse(const std::vector<std::string>& filters) {
  ContainerFilter filter;
  for (const auto& text : filters) {
    const auto equals = text.find('=');
    if (equals == std::string::npos) {
      throw Error("bad format of filter \"" + text + "\" (expected name=value)", 0, std::string(kHint));
    }
    const std::string key = text.substr(0, equals);
    std::string value = text.substr(equals + 1);
    Pattern pattern{value, std::nullopt};
    if (key == "status") {
      if (!contains(kStatuses, value)) invalid(text);
    } else if (key == "exited") {
      int code = 0;
      const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), code);
      if (value.empty() || error != std::errc() || end != value.data() + value.size()) invalid(text);
      pattern.text = std::to_string(code);  // "007" matches exit code 7
    } else if (key == "name" || key == "id") {
      try {
        pattern.regex.emplace(value, std::regex::ECMAScript | std::regex::optimize);
      } catch (const std::regex_error&) {
        // Docker skips a value that is not a valid expression; it can still match exactly.
      }
    } else if (key == "label") {
      // Docker: every label filter must match (AND), "KEY" alone asks only that the label exists.
      if (value.empty()) invalid(text);
      const auto separator = value.find('=');
      filter.labels_.push_back({value.substr(0, separator),
                                separator == std::string::npos ? std::nullopt
                                                               : std::optional(value.substr(separator + 1))});
      continue;
    } else if (contains(kDockerOnlyKeys, key)) {
      throw Error("the filter '" + key + "' is not supported by mcore yet", 0, std::string(kHint));
    } else {
      invalid(key);
    }
    filter.values_[key].push_back(std::move(pattern));
  }
  return filter;
}

bool ContainerFilter::matches_any(const std::string& key, const std::vector<std::string>& candidates) const {
  const auto found = values_.find(key);
  if (found == values_.end()) return true;
  for (const auto& pattern : found->second) {
    for (const auto& candidate : candidates) {
      if (candidate == pattern.text) return true;
      if (pattern.regex && std::regex_search(candidate, *pattern.regex)) return true;
    }
  }
  return false;
}

bool ContainerFilter::matches(const engine::ContainerRecord& record) const {
  // Docker's exited filter only sees containers that ran and stopped.
  const bool ran_and_stopped = record.state == engine::ContainerState::exited && !record.started_at.empty();
  std::vector<std::string> exit_codes;
  if (ran_and_stopped) exit_codes.push_back(std::to_string(record.exit_code));
  for (const auto& [key, value] : labels_) {
    const auto found = record.spec.labels.find(key);
    if (found == record.spec.labels.end() || (value && found->second != *value)) return false;
  }
  return matches_any("status", {to_string(record.state)}) &&
         matches_any("name", {record.name, "/" + record.name}) && matches_any("id", {record.id}) &&
         matches_any("exited", exit_codes);
}

}  // namespace mcore::cli
