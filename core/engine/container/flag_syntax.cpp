#include "engine/container/flag_syntax.hpp"

#include <arpa/inet.h>
#include <sys/mount.h>

#include <cctype>
#include <cmath>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>

#include "engine/volume/volume_store.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {
namespace fs = std::filesystem;

namespace {

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

void require_absolute(const std::string& flag, const std::string& path) {
  if (path.empty() || path.front() != '/') {
    throw Error(flag + ": the container path \"" + path + "\" is not absolute", 0,
                "write it from the container's root, e.g. /data");
  }
}

}  // namespace

std::vector<std::string> split_flag_value(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    auto end = text.find(separator, start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

std::int64_t parse_size(const std::string& flag, const std::string& value) {
  static const std::regex pattern(R"(^([0-9]+(?:\.[0-9]+)?)\s*([kmgtp]?)b?$)", std::regex::icase);
  std::smatch match;
  if (!std::regex_match(value, match, pattern)) {
    throw Error("invalid size \"" + value + "\" for " + flag, 0,
                "use a number with an optional unit b, k, m, g or t, e.g. 512m");
  }
  double number = std::stod(match[1].str());
  static const std::map<std::string, double> units = {
      {"", 1.0}, {"k", 1024.0}, {"m", 1024.0 * 1024}, {"g", 1024.0 * 1024 * 1024},
      {"t", 1024.0 * 1024 * 1024 * 1024}, {"p", 1024.0 * 1024 * 1024 * 1024 * 1024}};
  double bytes = number * units.at(lower(match[2].str()));
  if (bytes >= 9.2e18) throw Error("size \"" + value + "\" for " + flag + " is too large");
  return static_cast<std::int64_t>(bytes);
}

namespace {

std::uint16_t port_number(const std::string& text, const std::string& value, bool zero_allowed) {
  const bool digits = !text.empty() && text.size() <= 5 && text.find_first_not_of("0123456789") == std::string::npos;
  const unsigned long number = digits ? std::stoul(text) : 0;
  if (!digits || number > 65535 || (number == 0 && !zero_allowed)) {
    const bool range = text.find('-') != std::string::npos;
    throw Error("invalid port \"" + text + "\" in -p " + value, 0,
                range ? "port ranges are not supported; publish each port with its own -p"
                      : "use [IP:][HOST_PORT:]CONTAINER_PORT[/tcp|/udp] with ports from 1 to 65535");
  }
  return static_cast<std::uint16_t>(number);
}

// Splits off "/tcp" or "/udp".
std::string take_protocol(std::string& text, const std::string& value) {
  const auto slash = text.rfind('/');
  if (slash == std::string::npos) return "tcp";
  std::string protocol = text.substr(slash + 1);
  text.resize(slash);
  if (protocol != "tcp" && protocol != "udp") {
    throw Error("unsupported protocol \"" + protocol + "\" in -p " + value, 0, "publish tcp or udp ports");
  }
  return protocol;
}

}  // namespace

PortMapping parse_publish(const std::string& value) {
  std::string text = value;
  PortMapping port;
  port.protocol = take_protocol(text, value);
  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    const auto colon = text.find(':', start);
    parts.push_back(text.substr(start, colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (parts.size() > 3) {
    throw Error("invalid -p " + value, 0, "use [IP:][HOST_PORT:]CONTAINER_PORT[/tcp|/udp]; IPv6 host addresses are not supported");
  }
  port.container_port = port_number(parts.back(), value, false);
  if (parts.size() >= 2) {
    const std::string& host_port = parts[parts.size() - 2];
    port.host_port = host_port.empty() ? 0 : port_number(host_port, value, false);
  }
  if (parts.size() == 3) {
    port.host_ip = parts[0];
    in_addr parsed{};
    if (::inet_pton(AF_INET, port.host_ip.c_str(), &parsed) != 1) {
      throw Error("invalid host address \"" + port.host_ip + "\" in -p " + value, 0,
                  "give an IPv4 address of this host, e.g. -p 127.0.0.1:8080:80");
    }
    if (port.host_ip == "0.0.0.0") port.host_ip.clear();
  }
  return port;
}

PortMapping parse_exposed_port(const std::string& value) {
  std::string text = value;
  PortMapping port;
  port.protocol = take_protocol(text, value);
  port.container_port = port_number(text, value, false);
  return port;
}

VolumeSpec parse_volume(const std::string& value) {
  auto parts = split_flag_value(value, ':');
  if (parts.empty() || parts.size() > 3) {
    throw Error("invalid volume \"" + value + "\"", 0,
                "use -v /host/path:/container/path[:ro][,idmap], -v NAME:/path or -v /path");
  }
  VolumeSpec volume;
  if (parts.size() == 1) {
    // -v /path: an anonymous volume, created at run.
    require_absolute("-v " + value, parts[0]);
    volume.container_path = parts[0];
    return volume;
  }
  if (!parts[0].empty() && parts[0].front() == '/') {
    volume.host_path = parts[0];
  } else {
    check_volume_name(parts[0]);
    volume.volume = parts[0];
  }
  require_absolute("-v " + value, parts[1]);
  volume.container_path = parts[1];
  if (parts.size() == 3) {
    for (const auto& option : split_flag_value(parts[2], ',')) {
      if (option == "ro" || option == "rw") {
        volume.read_only = option == "ro";
      } else if (option == "idmap") {
        volume.idmap = true;
      } else {
        throw Error("invalid volume option \"" + option + "\" in \"" + value + "\"", 0,
                    "use ro, rw or idmap, separated by commas");
      }
    }
  }
  std::error_code error;
  if (!volume.host_path.empty() && !fs::exists(volume.host_path, error)) {
    throw Error("volume source " + volume.host_path.string() + " does not exist", ENOENT,
                "create it first or fix the path in -v");
  }
  return volume;
}

TmpfsSpec parse_tmpfs(const std::string& value) {
  auto colon = value.find(':');
  TmpfsSpec tmpfs;
  tmpfs.container_path = value.substr(0, colon);
  require_absolute("--tmpfs " + value, tmpfs.container_path);
  tmpfs.flags = MS_NOEXEC | MS_NOSUID | MS_NODEV;
  if (colon == std::string::npos) return tmpfs;
  static const std::map<std::string, std::pair<unsigned long, bool>> flag_options = {
      {"ro", {MS_RDONLY, true}},       {"rw", {MS_RDONLY, false}},      {"noexec", {MS_NOEXEC, true}},
      {"exec", {MS_NOEXEC, false}},    {"nosuid", {MS_NOSUID, true}},   {"suid", {MS_NOSUID, false}},
      {"nodev", {MS_NODEV, true}},     {"dev", {MS_NODEV, false}},      {"noatime", {MS_NOATIME, true}},
      {"atime", {MS_NOATIME, false}},  {"sync", {MS_SYNCHRONOUS, true}}, {"async", {MS_SYNCHRONOUS, false}}};
  std::string data;
  for (const auto& option : split_flag_value(value.substr(colon + 1), ',')) {
    if (option.empty()) continue;
    if (auto it = flag_options.find(option); it != flag_options.end()) {
      if (it->second.second) {
        tmpfs.flags |= it->second.first;
      } else {
        tmpfs.flags &= ~it->second.first;
      }
    } else if (option.starts_with("size=") || option.starts_with("mode=") || option.starts_with("uid=") ||
               option.starts_with("gid=") || option.starts_with("nr_inodes=")) {
      data += (data.empty() ? "" : ",") + option;
    } else {
      throw Error("unknown --tmpfs option \"" + option + "\"", 0,
                  "use ro, rw, [no]exec, [no]suid, [no]dev, size=, mode=, uid=, gid=");
    }
  }
  tmpfs.data = data;
  return tmpfs;
}

std::vector<std::string> parse_env(const std::vector<std::string>& values) {
  std::vector<std::string> env;
  for (const auto& value : values) {
    if (value.empty() || value.front() == '=') {
      throw Error("invalid environment variable \"" + value + "\"", 0, "use -e KEY=VALUE or -e KEY");
    }
    if (value.find('=') != std::string::npos) {
      env.push_back(value);
    } else if (const char* inherited = std::getenv(value.c_str()); inherited != nullptr) {
      env.push_back(value + "=" + inherited);
    }
  }
  return env;
}

std::vector<std::string> read_env_file(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw Error("cannot read env file " + file.string(), errno, "check the path given to --env-file");
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    auto start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    lines.push_back(line.substr(start));
  }
  try {
    return parse_env(lines);
  } catch (Error& error) {
    throw error.add_context("env file " + file.string());
  }
}

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

UserSpec parse_user(const std::string& value) {
  auto parts = split_flag_value(value, ':');
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
        options.seccomp = SeccompMode::unconfined;
      } else {
        options.seccomp = SeccompMode::file;
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

}  // namespace mcore::engine
