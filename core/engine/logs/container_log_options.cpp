// --log-driver and --log-opt of `mcore run` (declared in container_log.hpp), in Docker's words.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>

#include "engine/logs/container_log.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {

namespace {

// Docker's RAMInBytes, as its json-file driver reads max-size: "10m", "1.5g", "512k", "64mb", "100";
// binary units b, k, m, g, t, p, each optionally followed by "i" and/or "b".
std::uint64_t parse_max_size(const std::string& value) {
  const auto refuse = [&] {
    return Error("invalid --log-opt max-size=" + value, 0,
                 "give a positive size with an optional unit k, m or g, e.g. max-size=10m");
  };
  char* end = nullptr;
  const double number = std::strtod(value.c_str(), &end);
  if (value.empty() || !(value[0] >= '0' && value[0] <= '9') || !std::isfinite(number)) throw refuse();
  std::string unit(end);
  if (unit.starts_with(' ')) unit.erase(0, 1);
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  double scale = 1;
  static constexpr std::string_view kUnits = "kmgtp";
  if (!unit.empty() && kUnits.find(unit[0]) != std::string_view::npos) {
    scale = std::pow(1024.0, static_cast<double>(kUnits.find(unit[0]) + 1));
    unit.erase(0, 1);
    if (unit.starts_with('i')) unit.erase(0, 1);
  }
  if (!unit.empty() && unit != "b") throw refuse();
  const double bytes = std::floor(number * scale);
  if (bytes < 1 || bytes >= 9.2e18) throw refuse();
  return static_cast<std::uint64_t>(bytes);
}

unsigned parse_max_file(const std::string& value) {
  unsigned files = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), files);
  if (value.empty() || error != std::errc() || end != value.data() + value.size() || files < 1 ||
      files > kMaxLogFiles) {
    throw Error("invalid --log-opt max-file=" + value, 0,
                "give the number of log files to keep, 1 to " + std::to_string(kMaxLogFiles));
  }
  return files;
}

}  // namespace

void check_log_driver(const std::string& driver) {
  if (driver == "json-file") return;
  throw Error("log driver \"" + driver + "\" is not supported", 0,
              "mcore writes Docker's json-file logs only: leave out --log-driver or give json-file");
}

std::vector<std::string> with_log_defaults(const std::vector<std::string>& defaults,
                                           const std::vector<std::string>& own) {
  const auto key_of = [](const std::string& option) { return option.substr(0, option.find('=')); };
  std::vector<std::string> merged;
  for (const auto& option : defaults) {
    const bool overridden = std::any_of(own.begin(), own.end(), [&](const auto& mine) { return key_of(mine) == key_of(option); });
    if (!overridden) merged.push_back(option);
  }
  merged.insert(merged.end(), own.begin(), own.end());
  return merged;
}

LogOptions parse_log_options(const std::vector<std::string>& values) {
  LogOptions options;
  for (const auto& value : values) {
    const auto equals = value.find('=');
    if (equals == std::string::npos) {
      throw Error("invalid --log-opt \"" + value + "\": expected KEY=VALUE", 0,
                  "use --log-opt max-size=SIZE (e.g. 10m) and --log-opt max-file=N");
    }
    const std::string key = value.substr(0, equals);
    const std::string setting = value.substr(equals + 1);
    if (key == "max-size") {
      options.max_size = parse_max_size(setting);
    } else if (key == "max-file") {
      options.max_files = parse_max_file(setting);
    } else {
      throw Error("unknown log option \"" + key + "\" for the json-file log driver", 0,
                  "mcore's json-file log takes max-size and max-file");
    }
  }
  if (options.max_files > 1 && options.max_size == 0) {
    throw Error("--log-opt max-file=" + std::to_string(options.max_files) + " needs max-size", 0,
                "add --log-opt max-size=SIZE: files rotate when the current one reaches it");
  }
  return options;
}

}  // namespace mcore::engine
