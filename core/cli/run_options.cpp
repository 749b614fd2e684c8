#include "cli/run_options.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <regex>

#include "engine/container/flag_syntax.hpp"
#include "mcore/error.hpp"

namespace mcore::cli {
namespace fs = std::filesystem;

// The Docker value syntax shared with deployment files lives in the engine (engine/container/flag_syntax.hpp).
std::int64_t parse_size(const std::string& flag, const std::string& value) {
  return engine::parse_size(flag, value);
}

PortMapping parse_publish(const std::string& value) { return engine::parse_publish(value); }

PortMapping parse_exposed_port(const std::string& value) { return engine::parse_exposed_port(value); }

engine::VolumeSpec parse_volume(const std::string& value) { return engine::parse_volume(value); }

std::int64_t parse_cpus(const std::string& value, unsigned online_cpus) {
  char* end = nullptr;
  double cpus = std::strtod(value.c_str(), &end);
  if (value.empty() || end != value.c_str() + value.size() || !std::isfinite(cpus)) {
    throw Error("invalid value \"" + value + "\" for --cpus", 0, "use a number of CPUs such as 0.5 or 2");
  }
  auto nano = static_cast<std::int64_t>(std::llround(cpus * 1e9));
  if (nano < 10'000'000 || cpus > online_cpus) {
    throw Error("--cpus " + value + " is out of range", 0,
                "use a value from 0.01 to " + std::to_string(online_cpus) + ", the CPUs this host has online");
  }
  return nano;
}

engine::TmpfsSpec parse_tmpfs(const std::string& value) { return engine::parse_tmpfs(value); }

UserSpec parse_user(const std::string& value) {
  auto parts = engine::split_flag_value(value, ':');
  auto bad = [](const std::string& part) {
    return part.empty() || part.find_first_of(" \t\n/") != std::string::npos;
  };
  if (parts.size() > 2 || bad(parts[0]) || (parts.size() == 2 && bad(parts[1]))) {
    throw Error("invalid --user \"" + value + "\"", 0, "use name, uid, name:group or uid:gid");
  }
  UserSpec spec{parts[0], std::nullopt};
  if (parts.size() == 2) spec.group = parts[1];
  return spec;
}

std::vector<std::string> parse_env(const std::vector<std::string>& values) { return engine::parse_env(values); }

std::vector<std::string> read_env_file(const fs::path& file) { return engine::read_env_file(file); }

std::vector<std::string> finish_environment(std::vector<std::string> env, const std::string& hostname,
                                            bool tty) {
  std::vector<std::string> defaults = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                       "HOSTNAME=" + hostname};
  if (tty) defaults.push_back("TERM=xterm");
  defaults.insert(defaults.end(), env.begin(), env.end());
  // Later entries win; keep each key once, in first-seen order.
  std::vector<std::string> result;
  std::map<std::string, std::size_t> index;
  for (auto& entry : defaults) {
    std::string key = entry.substr(0, entry.find('='));
    if (auto it = index.find(key); it != index.end()) {
      result[it->second] = std::move(entry);
    } else {
      index.emplace(key, result.size());
      result.push_back(std::move(entry));
    }
  }
  return result;
}

SecurityOptions parse_security_options(const std::vector<std::string>& values) {
  SecurityOptions options;
  for (const auto& value : values) {
    auto separator = value.find_first_of("=:");
    std::string key = value.substr(0, separator);
    std::string argument = separator == std::string::npos ? "" : value.substr(separator + 1);
    if (key == "no-new-privileges") {
      if (argument.empty() || argument == "true") {
        options.no_new_privileges = true;
      } else if (argument == "false") {
        options.no_new_privileges = false;
      } else {
        throw Error("invalid --security-opt \"" + value + "\"", 0, "use no-new-privileges or no-new-privileges=false");
      }
    } else if (key == "seccomp" && !argument.empty()) {
      if (argument == "unconfined") {
        options.seccomp = engine::SeccompMode::unconfined;
      } else {
        options.seccomp = engine::SeccompMode::file;
        options.seccomp_file = argument;
      }
    } else {
      throw Error("unsupported --security-opt \"" + value + "\"", 0,
                  "use no-new-privileges, seccomp=unconfined or seccomp=/path/to/profile.json");
    }
  }
  return options;
}

void validate_container_name(const std::string& name) {
  static const std::regex pattern("^[a-zA-Z0-9][a-zA-Z0-9_.-]+$");
  if (!std::regex_match(name, pattern)) {
    throw Error("invalid container name \"" + name + "\"", 0,
                "use letters, digits, '_', '.' and '-', starting with a letter or digit, at least 2 characters");
  }
}

void validate_hostname(const std::string& hostname) {
  static const std::regex pattern(R"(^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$)");
  if (hostname.size() > 64 || !std::regex_match(hostname, pattern)) {
    throw Error("invalid hostname \"" + hostname + "\"", 0,
                "use letters, digits and '-' in dot-separated labels, at most 64 characters");
  }
}

}  // namespace mcore::cli
