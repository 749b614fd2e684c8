#include "cli/image_format.hpp"

#include <array>
#include <cmath>
#include <cstdio>

#include "mcore/error.hpp"
#include "mcore/image_reference.hpp"

namespace mcore::cli {

std::string human_size(double bytes) {
  static constexpr std::array<const char*, 9> kUnits = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
  std::size_t unit = 0;
  while (bytes >= 1000.0 && unit + 1 < kUnits.size()) {
    bytes /= 1000.0;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.3g%s", bytes, kUnits[unit]);
  return text;
}

std::optional<std::time_t> parse_rfc3339(const std::string& text) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  std::size_t at = static_cast<std::size_t>(consumed);
  if (at < text.size() && text[at] == '.') {
    ++at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') ++at;
  }
  long offset = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    int hours = 0;
    int minutes = 0;
    if (std::sscanf(text.c_str() + at + 1, "%2d:%2d", &hours, &minutes) != 2) return std::nullopt;
    offset = (text[at] == '-' ? -1 : 1) * (hours * 3600L + minutes * 60L);
    at += 6;
  } else {
    return std::nullopt;
  }
  if (at != text.size()) return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return timegm(&tm) - offset;
}

std::string human_duration_ago(std::int64_t seconds) {
  const auto plural = [](std::int64_t n, const char* unit) { return std::to_string(n) + " " + unit + " ago"; };
  if (seconds < 1) return "Less than a second ago";
  if (seconds == 1) return "1 second ago";
  if (seconds < 60) return plural(seconds, "seconds");
  const std::int64_t minutes = seconds / 60;
  if (minutes == 1) return "About a minute ago";
  if (minutes < 60) return plural(minutes, "minutes");
  const auto hours = static_cast<std::int64_t>(std::llround(static_cast<double>(seconds) / 3600.0));
  if (hours == 1) return "About an hour ago";
  if (hours < 48) return plural(hours, "hours");
  if (hours < 24 * 7 * 2) return plural(hours / 24, "days");
  if (hours < 24 * 30 * 2) return plural(hours / 24 / 7, "weeks");
  if (hours < 24 * 365 * 2) return plural(hours / 24 / 30, "months");
  return plural(seconds / 3600 / 24 / 365, "years");
}

std::string created_since(const std::string& created, std::time_t now) {
  const auto when = parse_rfc3339(created);
  if (!when) return "";
  return human_duration_ago(static_cast<std::int64_t>(now - *when));
}

std::string short_id(const std::string& id, bool no_trunc) {
  if (no_trunc) return id;
  const std::string hex = id.starts_with("sha256:") ? id.substr(7) : id;
  return hex.substr(0, 12);
}

std::string familiar(const std::string& name) {
  try {
    return familiar_name(parse_image_reference(name));
  } catch (const Error&) {
    return name;
  }
}

}  // namespace mcore::cli
