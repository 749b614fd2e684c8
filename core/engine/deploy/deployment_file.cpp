#include "engine/deploy/deployment_file.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "engine/container/container_spec_json.hpp"
#include "engine/deploy/compose_interpolation.hpp"
#include "engine/container/flag_syntax.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {
namespace fs = std::filesystem;
// Ordered, so that problems and the free order of services follow the file.
using Json = nlohmann::ordered_json;

namespace {

// --- YAML to JSON ---------------------------------------------------------------------------------------

// A plain scalar typed as YAML 1.2's core schema does (as Compose reads it): "80:80" and "no" stay strings.
// Values are interpolated first, as Compose does, then typed.
Json yaml_scalar(const YAML::Node& node, const InterpolationVariables& variables) {
  const std::string text = interpolate(node.Scalar(), variables);
  if (node.Tag() != "?") return text;  // quoted or tagged
  static const std::regex null_pattern("^(~|null|Null|NULL)?$");
  static const std::regex int_pattern("^[-+]?[0-9]+$");
  static const std::regex float_pattern(R"(^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$)");
  if (std::regex_match(text, null_pattern)) return nullptr;
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  try {
    if (std::regex_match(text, int_pattern)) return std::stoll(text);
    if (std::regex_match(text, float_pattern)) return std::stod(text);
  } catch (const std::out_of_range&) {
  }
  return text;
}

Json yaml_to_json(const YAML::Node& node, const InterpolationVariables& variables) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar: return yaml_scalar(node, variables);
    case YAML::NodeType::Sequence: {
      Json list = Json::array();
      for (const auto& item : node) list.push_back(yaml_to_json(item, variables));
      return list;
    }
    case YAML::NodeType::Map: {
      Json map = Json::object();
      std::vector<Json> merged;  // "<<: *anchor": keys the map does not set itself
      for (const auto& entry : node) {
        const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "?";
        if (key == "<<" && entry.first.Tag() == "?") {
          merged.push_back(yaml_to_json(entry.second, variables));
        } else {
          map[key] = yaml_to_json(entry.second, variables);
        }
      }
      for (const auto& source : merged) {
        for (const auto& part : source.is_array() ? source : Json::array({source})) {
          if (!part.is_object()) continue;
          for (const auto& [key, value] : part.items()) {
            if (!map.contains(key)) map[key] = value;
          }
        }
      }
      return map;
    }
    default: return nullptr;
  }
}

Json parse_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error::from_errno("cannot read deployment file " + file.string(), "check the path given to -f");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    try {
      return Json::parse(text);
    } catch (const Json::exception& error) {  // parse_error, and out_of_range for a number like 3e3333
      std::string message = error.what();
      if (auto end = message.find("] "); message.starts_with("[json.exception") && end != std::string::npos) {
        message = message.substr(end + 2);
      }
      throw Error(file.string() + " is not valid JSON: " + message, 0,
                  "fix the syntax; a file not starting with '{' is read as Compose YAML");
    }
  }
  try {
    return yaml_to_json(YAML::Load(text), interpolation_variables(file.parent_path()));
  } catch (const Error& error) {
    throw Error(file.string() + ": " + error.what(), 0, error.hint());
  } catch (const YAML::Exception& error) {
    throw Error(file.string() + " is not valid YAML: line " + std::to_string(error.mark.line + 1) + ", column " +
                    std::to_string(error.mark.column + 1) + ": " + error.msg,
                0, "fix the syntax; a JSON file must start with '{'");
  }
}

// --- Small value checks ---------------------------------------------------------------------------------

std::string type_name(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null: return "nothing";
    case Json::value_t::string: return "a string";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::array: return "a list";
    case Json::value_t::object: return "a map";
    default: return "a number";
  }
}

std::string message_of(const Error& error) {
  return error.hint().empty() ? std::string(error.what()) : std::string(error.what()) + " (" + error.hint() + ")";
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Compose keys mcore refuses by name, with what to do instead. "" means "remove it".
using Unsupported = std::map<std::string, std::string>;

const Unsupported& unsupported_top_level() {
  static const Unsupported keys = {{"include", "copy the included services into this file"}};
  return keys;
}
// Accepted and ignored: they only matter to the service keys refused below.
const std::set<std::string> ignored_top_level = {"version", "secrets", "configs"};

const Unsupported& unsupported_service_keys() {
  static const Unsupported keys = {
      {"build", "build the image first (mcore build is not available) and name it in `image`"},
      {"deploy", "use mem_limit, cpus and restart instead"},
      {"secrets", "mount the secret file with `volumes`, read-only"},
      {"configs", "mount the file with `volumes`, read-only"},
      {"profiles", "every service of the file is brought up; move optional ones to another file"},
      {"links", "services on a shared network reach each other by service name"},
      {"external_links", "services on a shared network reach each other by service name"},
      {"extends", "copy the settings into the service"},
      {"container_name", "mcore names containers <deployment>-<service>-1"},
      {"cap_add", ""},
      {"cap_drop", ""},
      {"privileged", ""},
      {"security_opt", ""},
      {"devices", ""},
      {"dns", ""},
      {"dns_search", ""},
      {"dns_opt", ""},
      {"extra_hosts", ""},
      {"expose", "publish ports with `ports`; services on a shared network reach every port"},
      {"labels", ""},
      {"logging", ""},
      {"network_mode", "use `networks`"},
      {"pid", ""},
      {"ipc", ""},
      {"init", ""},
      {"read_only", ""},
      {"shm_size", ""},
      {"stdin_open", ""},
      {"tty", ""},
      {"sysctls", ""},
      {"tmpfs", ""},
      {"ulimits", ""},
      {"userns_mode", ""},
      {"volumes_from", "declare a named volume and mount it in both services"},
      {"platform", ""},
      {"pull_policy", ""},
      {"stop_signal", ""},
      {"stop_grace_period", ""},
      {"domainname", ""},
      {"mac_address", ""},
      {"cgroup_parent", ""},
      {"group_add", ""},
      {"mem_reservation", "use mem_limit"},
      {"memswap_limit", "use mem_limit"},
      {"cpu_shares", "use cpus"},
      {"cpu_quota", "use cpus"},
      {"cpu_period", "use cpus"},
      {"cpuset", "use cpus"},
      {"oom_score_adj", ""},
      {"annotations", ""},
      {"develop", ""},
      {"scale", ""},
  };
  return keys;
}

std::vector<std::string> split_words(const std::string& text, std::string& error) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::exchange(word, {}));
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\'') {
      const auto end = text.find('\'', i + 1);
      if (end == std::string::npos) {
        error = "unterminated ' quote";
        return {};
      }
      word += text.substr(i + 1, end - i - 1);
      i = end;
    } else if (c == '"') {
      std::size_t j = i + 1;
      for (; j < text.size() && text[j] != '"'; ++j) {
        if (text[j] == '\\' && j + 1 < text.size() && std::string("\"\\$`").find(text[j + 1]) != std::string::npos) {
          ++j;
        }
        word += text[j];
      }
      if (j >= text.size()) {
        error = "unterminated \" quote";
        return {};
      }
      i = j;
    } else if (c == '\\' && i + 1 < text.size()) {
      word += text[++i];
    } else {
      word += c;
    }
  }
  if (in_word) words.push_back(word);
  return words;
}

// Go's time.ParseDuration, as Compose uses it: "1m30s", "500ms", "1.5s". Milliseconds, or nullopt.
std::optional<std::int64_t> parse_duration_ms(const std::string& text) {
  static const std::regex part(R"(([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h))");
  static const std::map<std::string, double> unit_ms = {{"ns", 1e-6}, {"us", 1e-3}, {"µs", 1e-3}, {"ms", 1.0},
                                                        {"s", 1e3},   {"m", 6e4},   {"h", 3.6e6}};
  if (text == "0") return 0;
  if (text.empty()) return std::nullopt;
  double total = 0;
  auto begin = text.cbegin();
  std::smatch match;
  while (begin != text.cend()) {
    if (!std::regex_search(begin, text.cend(), match, part, std::regex_constants::match_continuous)) {
      return std::nullopt;
    }
    total += std::stod(match[1].str()) * unit_ms.at(match[2].str());
    begin = match[0].second;
  }
  if (total > 2e9) return std::nullopt;
  return static_cast<std::int64_t>(total);
}

std::optional<std::uint32_t> ipv4(const std::string& text) {
  in_addr address{};
  if (::inet_pton(AF_INET, text.c_str(), &address) != 1) return std::nullopt;
  return ntohl(address.s_addr);
}

// A service's facts the whole-deployment checks need once every service is read.
struct ServiceFacts {
  std::string path;
  bool has_networks = false;
  std::vector<std::string> dependency_paths;  // beside DeploymentService::depends_on
};

struct PublishedPort {
  PortMapping port;
  std::string path;
};

class Validator {
 public:
  explicit Validator(fs::path directory) : directory_(std::move(directory)) {}

  DeploymentFile run(const Json& root) {
    if (!root.is_object()) {
      problem("(top level)", "expected a map of name, services, networks and volumes, found " + type_name(root));
      return std::move(result_);
    }
    collect_declared_names(root);
    for (const auto& [key, value] : root.items()) {
      if (key == "name") {
        read_name(value);
      } else if (key == "services") {
        read_services(value);
      } else if (key == "networks") {
        read_networks(value);
      } else if (key == "volumes") {
        read_volumes(value);
      } else if (!ignored_top_level.contains(key)) {
        other_key(key, key, unsupported_top_level(), {"name", "services", "networks", "volumes", "version"});
      }
    }
    if (!root.contains("services")) problem("services", "required: the services to run, at least one");
    if (!root.contains("name")) derive_name();
    add_default_network();
    return std::move(result_);
  }

 private:
  void problem(std::string path, std::string message) {
    result_.problems.push_back({std::move(path), std::move(message)});
  }

  bool expect(const std::string& path, const Json& value, bool ok, const std::string& expected) {
    if (!ok) problem(path, "expected " + expected + ", found " + type_name(value));
    return ok;
  }

  // A key that is neither read nor ignored: refused by name when Compose has it, else a typo.
  void other_key(const std::string& path, const std::string& key, const Unsupported& unsupported,
                 const std::vector<std::string>& known) {
    if (key.starts_with("x-")) return;  // Compose extension fields
    if (auto it = unsupported.find(key); it != unsupported.end()) {
      problem(path, "not supported by mcore (" + (it->second.empty() ? "remove it" : it->second) + ")");
      return;
    }
    std::string message = "unknown key";
    for (const auto& candidate : known) {
      if (edit_distance(key, candidate) <= 2) {
        message += " (did you mean \"" + candidate + "\"?)";
        break;
      }
    }
    problem(path, message);
  }

  // Strings; numbers too, where Compose takes them for strings (ports: [8080], user: 1000).
  std::optional<std::string> text(const std::string& path, const Json& value) {
    if (value.is_string()) return value.get<std::string>();
    if (value.is_number_integer()) return std::to_string(value.get<std::int64_t>());
    if (value.is_number_float()) return value.dump();
    problem(path, "expected a string, found " + type_name(value));
    return std::nullopt;
  }

  std::optional<std::vector<std::string>> text_list(const std::string& path, const Json& value) {
    if (!expect(path, value, value.is_array(), "a list")) return std::nullopt;
    std::vector<std::string> items;
    bool ok = true;
    for (std::size_t i = 0; i < value.size(); ++i) {
      auto item = text(path + "[" + std::to_string(i) + "]", value[i]);
      ok = ok && item.has_value();
      if (item) items.push_back(*item);
    }
    if (!ok) return std::nullopt;
    return items;
  }

  // A list, or a map whose keys are the items (Compose's `networks` and `depends_on` both ways).
  std::vector<std::pair<std::string, const Json*>> names(const std::string& path, const Json& value) {
    std::vector<std::pair<std::string, const Json*>> entries;
    if (value.is_object()) {
      for (const auto& [key, item] : value.items()) entries.emplace_back(path + "." + key, &item);
    } else if (expect(path, value, value.is_array(), "a list or a map")) {
      for (std::size_t i = 0; i < value.size(); ++i) entries.emplace_back(path + "[" + std::to_string(i) + "]", &value[i]);
    }
    return entries;
  }

  void collect_declared_names(const Json& root) {
    for (const char* section : {"networks", "volumes"}) {
      if (!root.contains(section) || !root[section].is_object()) continue;
      auto& declared = section == std::string("networks") ? declared_networks_ : declared_volumes_;
      for (const auto& entry : root[section].items()) declared.insert(entry.key());
    }
  }

  bool check_object_name(const std::string& path, const std::string& name) {
    static const std::regex pattern("^[a-zA-Z0-9][a-zA-Z0-9_.-]*$");
    if (std::regex_match(name, pattern)) return true;
    problem(path, "invalid name \"" + name + "\" (use letters, digits, '_', '.' and '-', starting with a letter or digit)");
    return false;
  }

  // --- name ---

  void read_name(const Json& value) {
    static const std::regex pattern("^[a-z0-9][a-z0-9_-]*$");
    if (!expect("name", value, value.is_string(), "a string")) return;
    const auto name = value.get<std::string>();
    if (!std::regex_match(name, pattern)) {
      problem("name", "invalid deployment name \"" + name +
                          "\" (use lowercase letters, digits, '_' and '-', starting with a letter or digit)");
      return;
    }
    result_.deployment.name = name;
  }

  void derive_name() {
    const std::string directory = directory_.filename().string();
    std::string name;
    for (char c : directory) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
      if (alnum || (!name.empty() && (c == '_' || c == '-'))) name += c;
    }
    if (name.empty()) {
      problem("name", "required here: the directory name \"" + directory + "\" does not make a deployment name");
      return;
    }
    result_.deployment.name = name;
  }

  // --- services ---

  void read_services(const Json& value) {
    if (!expect("services", value, value.is_object(), "a map of service names to services")) return;
    if (value.empty()) problem("services", "expected at least one service, found none");
    for (const auto& [name, service] : value.items()) {
      const std::string path = "services." + name;
      check_object_name(path, name);
      read_service(name, path, service);
    }
    check_dependencies();
    order_services();
  }

  void read_service(const std::string& name, const std::string& path, const Json& value) {
    DeploymentService service;
    service.name = name;
    ServiceFacts facts;
    facts.path = path;
    if (!expect(path, value, value.is_object(), "a map")) {
      add_service(std::move(service), std::move(facts));
      return;
    }
    std::vector<std::string> env_files;
    std::vector<std::string> environment;
    for (const auto& [key, item] : value.items()) {
      const std::string key_path = path + "." + key;
      if (key == "image") {
        if (expect(key_path, item, item.is_string(), "a string")) service.image = item.get<std::string>();
      } else if (key == "command") {
        service.command = read_command(key_path, item);
      } else if (key == "entrypoint") {
        service.entrypoint = read_command(key_path, item);
      } else if (key == "environment") {
        environment = read_environment(key_path, item);
      } else if (key == "env_file") {
        env_files = read_env_files(key_path, item);
      } else if (key == "ports") {
        read_ports(key_path, item, service);
      } else if (key == "volumes") {
        read_mounts(key_path, item, service);
      } else if (key == "networks") {
        facts.has_networks = true;
        read_service_networks(key_path, item, service);
      } else if (key == "depends_on") {
        read_depends_on(key_path, item, service, facts);
      } else if (key == "restart") {
        read_restart(key_path, item, service);
      } else if (key == "mem_limit") {
        read_memory(key_path, item, service);
      } else if (key == "cpus") {
        read_cpus(key_path, item, service);
      } else if (key == "pids_limit") {
        if (expect(key_path, item, item.is_number_integer(), "an integer")) service.pids_limit = item.get<std::int64_t>();
      } else if (key == "user") {
        service.user = text(key_path, item);
      } else if (key == "working_dir") {
        service.working_dir = text(key_path, item);
        if (service.working_dir && !service.working_dir->starts_with("/")) {
          problem(key_path, "\"" + *service.working_dir + "\" is not an absolute path inside the container");
        }
      } else if (key == "hostname") {
        if (expect(key_path, item, item.is_string(), "a string")) service.hostname = item.get<std::string>();
      } else if (key == "healthcheck") {
        service.healthcheck = read_healthcheck(key_path, item);
      } else {
        other_key(key_path, key, unsupported_service_keys(),
                  {"image", "command", "entrypoint", "environment", "env_file", "ports", "volumes", "networks",
                   "depends_on", "restart", "mem_limit", "cpus", "pids_limit", "user", "working_dir", "hostname",
                   "healthcheck"});
      }
    }
    if (!value.contains("image")) problem(path + ".image", "required: the image to run");
    // Env files first, then `environment`: a later entry for a key wins when the container's environment is
    // finished (cli::finish_environment), as with --env-file and -e.
    service.environment = std::move(env_files);
    service.environment.insert(service.environment.end(), environment.begin(), environment.end());
    add_service(std::move(service), std::move(facts));
  }

  void add_service(DeploymentService service, ServiceFacts facts) {
    result_.deployment.services.push_back(std::move(service));
    facts_.push_back(std::move(facts));
  }

  std::optional<std::vector<std::string>> read_command(const std::string& path, const Json& value) {
    if (value.is_string()) {
      std::string error;
      auto words = split_words(value.get<std::string>(), error);
      if (!error.empty()) {
        problem(path, error + " (quote as a shell does, or give a list)");
        return std::nullopt;
      }
      return words;
    }
    if (!value.is_array()) {
      problem(path, "expected a string or a list, found " + type_name(value));
      return std::nullopt;
    }
    return text_list(path, value);
  }

  std::vector<std::string> read_environment(const std::string& path, const Json& value) {
    std::vector<std::string> entries;  // KEY=VALUE or KEY, for parse_env
    if (value.is_object()) {
      for (const auto& [key, item] : value.items()) {
        if (item.is_null()) {
          entries.push_back(key);
        } else if (item.is_boolean()) {
          entries.push_back(key + "=" + (item.get<bool>() ? "true" : "false"));
        } else if (auto text_value = text(path + "." + key, item)) {
          entries.push_back(key + "=" + *text_value);
        }
      }
    } else if (auto list = text_list(path, value)) {
      entries = *list;
    }
    std::vector<std::string> environment;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      try {
        for (auto& entry : parse_env({entries[i]})) environment.push_back(std::move(entry));
      } catch (const Error& error) {
        problem(value.is_object() ? path : path + "[" + std::to_string(i) + "]", message_of(error));
      }
    }
    return environment;
  }

  std::vector<std::string> read_env_files(const std::string& path, const Json& value) {
    std::vector<std::pair<std::string, const Json*>> files;
    if (value.is_string()) {
      files.emplace_back(path, &value);
    } else if (expect(path, value, value.is_array(), "a string or a list")) {
      for (std::size_t i = 0; i < value.size(); ++i) files.emplace_back(path + "[" + std::to_string(i) + "]", &value[i]);
    }
    std::vector<std::string> environment;
    for (const auto& [item_path, item] : files) {
      // Compose's long form: {path: FILE, required: false}.
      std::optional<std::string> name;
      bool required = true;
      if (item->is_object()) {
        for (const auto& [key, field] : item->items()) {
          if (key == "path") {
            if (expect(item_path + ".path", field, field.is_string(), "a string")) name = field.get<std::string>();
          } else if (key == "required") {
            if (expect(item_path + ".required", field, field.is_boolean(), "a boolean")) required = field.get<bool>();
          } else {
            other_key(item_path + "." + key, key, {}, {"path", "required"});
          }
        }
        if (!item->contains("path")) problem(item_path + ".path", "required: the env file to read");
      } else if (item->is_string()) {
        name = item->get<std::string>();
      } else {
        problem(item_path, "expected a string, found " + type_name(*item));
      }
      if (!name) continue;
      const fs::path file = (directory_ / *name).lexically_normal();
      std::error_code error;
      if (!fs::exists(file, error)) {
        if (required) problem(item_path, "env file " + file.string() + " does not exist");
        continue;
      }
      try {
        for (auto& entry : read_env_file(file)) environment.push_back(std::move(entry));
      } catch (const Error& error) {
        problem(item_path, error.what());
      }
    }
    return environment;
  }

  void read_ports(const std::string& path, const Json& value, DeploymentService& service) {
    if (!expect(path, value, value.is_array(), "a list")) return;
    for (std::size_t i = 0; i < value.size(); ++i) {
      const std::string item_path = path + "[" + std::to_string(i) + "]";
      if (value[i].is_object()) {
        problem(item_path, "not supported by mcore: the long port syntax (write \"[IP:]HOST_PORT:CONTAINER_PORT[/udp]\")");
        continue;
      }
      auto spec = text(item_path, value[i]);
      if (!spec) continue;
      try {
        check_port_unused({parse_publish(*spec), item_path});
        service.ports.push_back(*spec);
      } catch (const Error& error) {
        problem(item_path, message_of(error));
      }
    }
  }

  void check_port_unused(PublishedPort published) {
    const PortMapping& port = published.port;
    if (port.host_port == 0) return;
    for (const auto& other : published_) {
      const PortMapping& used = other.port;
      const bool same_address = used.host_ip == port.host_ip || used.host_ip.empty() || port.host_ip.empty();
      if (used.host_port == port.host_port && used.protocol == port.protocol && same_address) {
        problem(published.path, "host port " + std::to_string(port.host_port) + "/" + port.protocol +
                                    " is already published by " + other.path);
        return;
      }
    }
    published_.push_back(std::move(published));
  }

  void read_mounts(const std::string& path, const Json& value, DeploymentService& service) {
    if (!expect(path, value, value.is_array(), "a list")) return;
    for (std::size_t i = 0; i < value.size(); ++i) {
      const std::string item_path = path + "[" + std::to_string(i) + "]";
      if (value[i].is_object()) {
        problem(item_path, "not supported by mcore: the long volume syntax (write \"SOURCE:/path[:ro]\")");
        continue;
      }
      if (!expect(item_path, value[i], value[i].is_string(), "a string")) continue;
      std::string spec = value[i].get<std::string>();
      const auto colon = spec.find(':');
      const std::string source = spec.substr(0, colon);
      if (source.starts_with("~")) {
        problem(item_path, "a source in the home directory (~) is not supported (write it relative to the file or absolute)");
        continue;
      }
      if (colon != std::string::npos && source.starts_with(".")) {
        std::string absolute = (directory_ / source).lexically_normal().string();
        while (absolute.size() > 1 && absolute.ends_with('/')) absolute.pop_back();
        spec = absolute + spec.substr(colon);
      }
      try {
        const VolumeSpec volume = parse_volume(spec);
        if (!volume.volume.empty() && !declared_volumes_.contains(volume.volume)) {
          problem(item_path, "volume \"" + volume.volume + "\" is not declared (add it under the top-level volumes)");
          continue;
        }
        service.volumes.push_back(spec);
      } catch (const Error& error) {
        problem(item_path, message_of(error));
      }
    }
  }

  void read_service_networks(const std::string& path, const Json& value, DeploymentService& service) {
    for (const auto& [item_path, item] : names(path, value)) {
      std::string name;
      if (value.is_object()) {
        name = item_path.substr(path.size() + 1);
        if (item->is_object()) {
          for (const auto& [key, field] : item->items()) {
            other_key(item_path + "." + key, key, {{"aliases", ""}, {"ipv4_address", ""}, {"ipv6_address", ""},
                                                   {"priority", ""}, {"link_local_ips", ""}, {"mac_address", ""}},
                      {});
          }
        } else if (!item->is_null()) {
          problem(item_path, "expected nothing or a map, found " + type_name(*item));
        }
      } else if (expect(item_path, *item, item->is_string(), "a string")) {
        name = item->get<std::string>();
      } else {
        continue;
      }
      if (!declared_networks_.contains(name) && name != "default") {
        problem(item_path, "network \"" + name + "\" is not declared (add it under the top-level networks)");
        continue;
      }
      service.networks.push_back(name);
    }
  }

  void read_depends_on(const std::string& path, const Json& value, DeploymentService& service, ServiceFacts& facts) {
    for (const auto& [item_path, item] : names(path, value)) {
      ServiceDependency dependency;
      if (value.is_object()) {
        dependency.service = item_path.substr(path.size() + 1);
        if (!expect(item_path, *item, item->is_object() || item->is_null(), "a map")) continue;
        if (item->is_object()) {
          for (const auto& [key, field] : item->items()) {
            if (key == "condition") {
              static const std::set<std::string> conditions = {"service_started", "service_healthy",
                                                               "service_completed_successfully"};
              if (!expect(item_path + ".condition", field, field.is_string(), "a string")) continue;
              dependency.condition = field.get<std::string>();
              if (!conditions.contains(dependency.condition)) {
                problem(item_path + ".condition",
                        "unknown condition \"" + dependency.condition +
                            "\" (use service_started, service_healthy or service_completed_successfully)");
              }
            } else {
              other_key(item_path + "." + key, key, {{"restart", ""}, {"required", ""}}, {"condition"});
            }
          }
        }
      } else if (expect(item_path, *item, item->is_string(), "a string")) {
        dependency.service = item->get<std::string>();
      } else {
        continue;
      }
      service.depends_on.push_back(std::move(dependency));
      facts.dependency_paths.push_back(item_path);
    }
  }

  void read_restart(const std::string& path, const Json& value, DeploymentService& service) {
    if (!expect(path, value, value.is_string(), "a string")) return;
    try {
      parse_restart_policy(value.get<std::string>());
      service.restart = value.get<std::string>();
    } catch (const Error& error) {
      problem(path, message_of(error));
    }
  }

  void read_memory(const std::string& path, const Json& value, DeploymentService& service) {
    auto size = text(path, value);
    if (!size) return;
    try {
      parse_size("mem_limit", *size);
      service.memory = size;
    } catch (const Error& error) {
      problem(path, message_of(error));
    }
  }

  void read_cpus(const std::string& path, const Json& value, DeploymentService& service) {
    std::optional<double> cpus;
    if (value.is_number()) {
      cpus = value.get<double>();
    } else if (value.is_string()) {
      const std::string number = value.get<std::string>();
      char* end = nullptr;
      const double parsed = std::strtod(number.c_str(), &end);
      if (!number.empty() && end == number.c_str() + number.size()) cpus = parsed;
    }
    if (!cpus || !(*cpus > 0)) {
      problem(path, "expected a number of CPUs greater than 0 such as 0.5, found " +
                        (value.is_string() ? "\"" + value.get<std::string>() + "\"" : value.dump()));
      return;
    }
    service.cpus = cpus;
  }

  std::optional<int> read_duration(const std::string& path, const Json& value) {
    if (!expect(path, value, value.is_string(), "a duration string such as \"1m30s\"")) return std::nullopt;
    auto ms = parse_duration_ms(value.get<std::string>());
    if (!ms) {
      problem(path, "invalid duration \"" + value.get<std::string>() + "\" (use a number with a unit: 500ms, 2s, 1m30s, 1h)");
      return std::nullopt;
    }
    return static_cast<int>(*ms);
  }

  std::optional<ServiceHealthcheck> read_healthcheck(const std::string& path, const Json& value) {
    if (!expect(path, value, value.is_object(), "a map")) return std::nullopt;
    ServiceHealthcheck check;
    bool disabled = false;
    for (const auto& [key, item] : value.items()) {
      const std::string key_path = path + "." + key;
      if (key == "test") {
        if (item.is_string()) {
          check.test = {"CMD-SHELL", item.get<std::string>()};
        } else if (auto test = text_list(key_path, item)) {
          check.test = *test;
          const std::string kind = test->empty() ? "" : test->front();
          if (kind == "NONE") {
            disabled = true;
          } else if (kind != "CMD" && kind != "CMD-SHELL") {
            problem(key_path, "expected a list starting with CMD, CMD-SHELL or NONE");
          } else if (test->size() < 2 || (kind == "CMD-SHELL" && test->size() != 2)) {
            problem(key_path, kind == "CMD" ? "CMD needs the command after it" : "CMD-SHELL needs one shell command after it");
          }
        }
      } else if (key == "interval" || key == "timeout" || key == "start_period") {
        auto ms = read_duration(key_path, item);
        if (!ms) continue;
        if (key != "start_period" && *ms <= 0) {
          problem(key_path, "must be longer than 0");
          continue;
        }
        (key == "interval" ? check.interval_ms : key == "timeout" ? check.timeout_ms : check.start_period_ms) = *ms;
      } else if (key == "retries") {
        if (!expect(key_path, item, item.is_number_integer(), "an integer")) continue;
        if (item.get<std::int64_t>() < 0 || item.get<std::int64_t>() > 1'000'000) {
          problem(key_path, "expected a number of retries from 0 up, found " + item.dump());
          continue;
        }
        check.retries = static_cast<int>(item.get<std::int64_t>());
      } else if (key == "disable") {
        if (expect(key_path, item, item.is_boolean(), "a boolean")) disabled = disabled || item.get<bool>();
      } else {
        other_key(key_path, key, {{"start_interval", ""}},
                  {"test", "interval", "timeout", "start_period", "retries", "disable"});
      }
    }
    if (disabled) return std::nullopt;
    if (!value.contains("test")) {
      problem(path + ".test", "required: mcore does not run the image's HEALTHCHECK; give the command");
      return std::nullopt;
    }
    return check;
  }

  // --- across services ---

  std::optional<std::size_t> service_index(const std::string& name) const {
    const auto& services = result_.deployment.services;
    for (std::size_t i = 0; i < services.size(); ++i) {
      if (services[i].name == name) return i;
    }
    return std::nullopt;
  }

  void check_dependencies() {
    const auto& services = result_.deployment.services;
    for (std::size_t i = 0; i < services.size(); ++i) {
      for (std::size_t d = 0; d < services[i].depends_on.size(); ++d) {
        const auto& dependency = services[i].depends_on[d];
        const std::string& path = facts_[i].dependency_paths[d];
        auto target = service_index(dependency.service);
        if (!target) {
          problem(path, "unknown service \"" + dependency.service + "\"");
        } else if (dependency.condition == "service_healthy" && !services[*target].healthcheck) {
          problem(path, "service_healthy needs a healthcheck on service \"" + dependency.service + "\"");
        }
      }
    }
    // Each cycle is reported once, at the first service of it in file order.
    std::vector<int> state(services.size(), 0);  // 0 new, 1 on the path, 2 done
    std::vector<std::size_t> stack;
    std::function<void(std::size_t)> visit = [&](std::size_t i) {
      state[i] = 1;
      stack.push_back(i);
      for (const auto& dependency : services[i].depends_on) {
        auto target = service_index(dependency.service);
        if (!target) continue;
        if (state[*target] == 1) {
          const auto start = std::find(stack.begin(), stack.end(), *target);
          std::string cycle;
          for (auto it = start; it != stack.end(); ++it) cycle += services[*it].name + " -> ";
          problem(facts_[*target].path + ".depends_on", cycle + services[*target].name);
        } else if (state[*target] == 0) {
          visit(*target);
        }
      }
      stack.pop_back();
      state[i] = 2;
    };
    for (std::size_t i = 0; i < services.size(); ++i) {
      if (state[i] == 0) visit(i);
    }
  }

  // Dependencies first; otherwise file order. Services in a cycle keep file order at the end.
  void order_services() {
    auto& services = result_.deployment.services;
    std::vector<DeploymentService> ordered;
    std::vector<bool> placed(services.size(), false);
    std::set<std::string> placed_names;
    for (bool progress = true; progress;) {
      progress = false;
      for (std::size_t i = 0; i < services.size() && !progress; ++i) {
        if (placed[i]) continue;
        const bool ready = std::all_of(services[i].depends_on.begin(), services[i].depends_on.end(), [&](const auto& d) {
          return placed_names.contains(d.service) || !service_index(d.service);
        });
        if (!ready) continue;
        placed[i] = progress = true;
        placed_names.insert(services[i].name);
        ordered.push_back(services[i]);
      }
    }
    for (std::size_t i = 0; i < services.size(); ++i) {
      if (!placed[i]) ordered.push_back(services[i]);
    }
    services = std::move(ordered);
  }

  // --- networks and volumes ---

  void read_networks(const Json& value) {
    if (!expect("networks", value, value.is_object() || value.is_null(), "a map of network names")) return;
    if (value.is_null()) return;
    for (const auto& [name, network] : value.items()) {
      const std::string path = "networks." + name;
      check_object_name(path, name);
      DeploymentNetwork result{name, "", ""};
      if (expect(path, network, network.is_object() || network.is_null(), "nothing or a map") && network.is_object()) {
        for (const auto& [key, item] : network.items()) {
          const std::string key_path = path + "." + key;
          if (key == "driver") {
            if (expect(key_path, item, item.is_string(), "a string") && item.get<std::string>() != "bridge") {
              problem(key_path, "driver \"" + item.get<std::string>() + "\" is not supported by mcore (use bridge or leave it out)");
            }
          } else if (key == "subnet" || key == "gateway") {
            if (expect(key_path, item, item.is_string(), "a string")) {
              (key == "subnet" ? result.subnet : result.gateway) = item.get<std::string>();
            }
          } else if (key == "ipam") {
            read_ipam(key_path, item, result);
          } else {
            other_key(key_path, key,
                      {{"external", "mcore creates the deployment's networks itself; remove it"},
                       {"internal", ""}, {"attachable", ""}, {"labels", ""}, {"driver_opts", ""},
                       {"enable_ipv6", ""}, {"name", "mcore names it <deployment>_<network>"}},
                      {"driver", "subnet", "gateway", "ipam"});
          }
        }
        check_subnet(path, result);
      }
      result_.deployment.networks.push_back(std::move(result));
    }
  }

  void read_ipam(const std::string& path, const Json& value, DeploymentNetwork& network) {
    if (!expect(path, value, value.is_object(), "a map")) return;
    for (const auto& [key, item] : value.items()) {
      const std::string key_path = path + "." + key;
      if (key == "driver") {
        if (expect(key_path, item, item.is_string(), "a string") && item.get<std::string>() != "default") {
          problem(key_path, "IPAM driver \"" + item.get<std::string>() + "\" is not supported by mcore (leave it out)");
        }
      } else if (key == "config") {
        if (!expect(key_path, item, item.is_array(), "a list")) continue;
        if (item.size() > 1) problem(key_path, "mcore gives a network one subnet; list at most one");
        if (item.empty()) continue;
        const std::string entry_path = key_path + "[0]";
        if (!expect(entry_path, item[0], item[0].is_object(), "a map")) continue;
        for (const auto& [field, setting] : item[0].items()) {
          if (field == "subnet" || field == "gateway") {
            if (expect(entry_path + "." + field, setting, setting.is_string(), "a string")) {
              (field == "subnet" ? network.subnet : network.gateway) = setting.get<std::string>();
            }
          } else {
            other_key(entry_path + "." + field, field, {{"ip_range", ""}, {"aux_addresses", ""}}, {"subnet", "gateway"});
          }
        }
      } else {
        other_key(key_path, key, {{"options", ""}}, {"driver", "config"});
      }
    }
  }

  void check_subnet(const std::string& path, const DeploymentNetwork& network) {
    std::optional<std::uint32_t> base;
    int prefix = -1;
    if (!network.subnet.empty()) {
      const auto slash = network.subnet.find('/');
      const std::string length = slash == std::string::npos ? "" : network.subnet.substr(slash + 1);
      if (!length.empty() && length.size() <= 2 && length.find_first_not_of("0123456789") == std::string::npos) {
        prefix = std::stoi(length);
      }
      base = ipv4(network.subnet.substr(0, slash));
      if (!base || prefix < 8 || prefix > 30) {
        problem(path + ".subnet", "invalid subnet \"" + network.subnet +
                                      "\" (use an IPv4 CIDR from /8 to /30 such as 10.90.0.0/24)");
        return;
      }
    }
    if (network.gateway.empty()) return;
    const auto gateway = ipv4(network.gateway);
    if (!gateway) {
      problem(path + ".gateway", "invalid gateway \"" + network.gateway + "\" (use an IPv4 address)");
    } else if (!base) {
      problem(path + ".gateway", "a gateway needs the subnet it belongs to");
    } else if (const std::uint32_t mask = ~std::uint32_t{0} << (32 - prefix); (*gateway & mask) != (*base & mask)) {
      problem(path + ".gateway", "gateway " + network.gateway + " is outside subnet " + network.subnet);
    }
  }

  void add_default_network() {
    bool used = false;
    auto& services = result_.deployment.services;
    for (auto& service : services) {
      if (service.networks.empty()) {
        // Also a service whose `networks` listed nothing usable: it is on the default network.
        service.networks.push_back("default");
      }
      used = used || std::find(service.networks.begin(), service.networks.end(), "default") != service.networks.end();
    }
    auto& networks = result_.deployment.networks;
    const bool declared = std::any_of(networks.begin(), networks.end(), [](const auto& n) { return n.name == "default"; });
    if (used && !declared) networks.push_back({"default", "", ""});
  }

  void read_volumes(const Json& value) {
    if (!expect("volumes", value, value.is_object() || value.is_null(), "a map of volume names")) return;
    if (value.is_null()) return;
    for (const auto& [name, volume] : value.items()) {
      const std::string path = "volumes." + name;
      check_object_name(path, name);
      if (expect(path, volume, volume.is_object() || volume.is_null(), "nothing or a map") && volume.is_object()) {
        for (const auto& [key, item] : volume.items()) {
          const std::string key_path = path + "." + key;
          if (key == "driver") {
            if (expect(key_path, item, item.is_string(), "a string") && item.get<std::string>() != "local") {
              problem(key_path, "driver \"" + item.get<std::string>() + "\" is not supported by mcore (use local or leave it out)");
            }
          } else {
            other_key(key_path, key,
                      {{"external", "mcore creates the deployment's volumes itself; mount an existing volume by "
                                    "declaring it here and copying its data, or bind-mount a host path"},
                       {"driver_opts", ""}, {"labels", ""}, {"name", "mcore names it <deployment>_<volume>"}},
                      {"driver"});
          }
        }
      }
      result_.deployment.volumes.push_back({name});
    }
  }

  fs::path directory_;
  DeploymentFile result_;
  std::vector<ServiceFacts> facts_;  // beside result_.deployment.services, in file order until ordered
  std::vector<PublishedPort> published_;
  std::set<std::string> declared_networks_;
  std::set<std::string> declared_volumes_;
};

}  // namespace

DeploymentFile read_deployment(const fs::path& file) {
  const Json root = parse_file(file);
  return Validator(fs::absolute(file).parent_path()).run(root);
}

Deployment load_deployment(const fs::path& file) {
  DeploymentFile read = read_deployment(file);
  if (read.problems.empty()) return std::move(read.deployment);
  std::string message = file.string() + ": " + std::to_string(read.problems.size()) +
                        (read.problems.size() == 1 ? " problem" : " problems");
  for (const auto& problem : read.problems) message += "\n  " + problem.path + ": " + problem.message;
  throw Error(message, 0, "fix them and check again with: mcore config validate -f " + file.string());
}

}  // namespace mcore::engine
