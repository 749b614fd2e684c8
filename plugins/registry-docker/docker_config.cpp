#include "docker_config.hpp"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <vector>

#include <openssl/evp.h>

#include "credential_store.hpp"
#include "mcore/error.hpp"

namespace mcore::registry {

namespace {

using nlohmann::json;

std::string base64_decode(const std::string& text, const std::string& origin) {
  std::string input;
  for (char c : text) {
    if (c != '\n' && c != '\r' && c != ' ') input += c;
  }
  while (input.size() % 4 != 0) input += '=';  // some tools drop the padding
  std::vector<unsigned char> out(input.size() / 4 * 3 + 1);
  const int length = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(input.data()),
                                     static_cast<int>(input.size()));
  if (length < 0) throw Error(origin + ": an \"auth\" value is not valid base64");
  std::size_t size = static_cast<std::size_t>(length);
  // EVP_DecodeBlock counts padding as zero bytes.
  for (auto it = input.rbegin(); it != input.rend() && *it == '=' && size > 0; ++it) --size;
  return std::string(reinterpret_cast<const char*>(out.data()), size);
}

bool is_docker_hub(std::string_view host) {
  return host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io";
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int length =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(length));
  return out;
}

std::string auth_key(std::string_view registry_or_url) {
  std::string_view text = registry_or_url;
  if (const auto scheme = text.find("://"); scheme != std::string_view::npos) text.remove_prefix(scheme + 3);
  text = text.substr(0, text.find('/'));
  std::string key(text);
  if (is_docker_hub(key)) return "docker.io";
  return key;
}

DockerConfig parse_docker_config(std::string_view text, const std::string& origin) {
  const auto document = json::parse(text.begin(), text.end(), nullptr, false);
  if (document.is_discarded() || !document.is_object()) {
    throw Error(origin + " is not a JSON object", 0, "fix or remove the file");
  }
  DockerConfig config;
  if (const auto auths = document.find("auths"); auths != document.end() && auths->is_object()) {
    for (const auto& [server, entry] : auths->items()) {
      if (!entry.is_object()) continue;
      Credentials credentials;
      if (const auto auth = entry.find("auth");
          auth != entry.end() && auth->is_string() && !auth->get<std::string>().empty()) {
        const auto decoded = base64_decode(auth->get<std::string>(), origin);
        const auto colon = decoded.find(':');
        if (colon == std::string::npos)
          throw Error(origin + ": the \"auth\" of " + server + " is not user:password");
        credentials.username = decoded.substr(0, colon);
        credentials.password = decoded.substr(colon + 1);
      }
      if (entry.contains("username") && entry["username"].is_string())
        credentials.username = entry["username"];
      if (entry.contains("password") && entry["password"].is_string())
        credentials.password = entry["password"];
      if (entry.contains("identitytoken") && entry["identitytoken"].is_string()) {
        credentials.identity_token = entry["identitytoken"];
      }
      if (credentials.username.empty() && credentials.password.empty() && credentials.identity_token.empty())
        continue;
      config.auths[auth_key(server)] = std::move(credentials);
    }
  }
  if (const auto helpers = document.find("credHelpers"); helpers != document.end() && helpers->is_object()) {
    for (const auto& [server, helper] : helpers->items()) {
      if (helper.is_string()) config.cred_helpers[auth_key(server)] = helper.get<std::string>();
    }
  }
  if (const auto store = document.find("credsStore"); store != document.end() && store->is_string()) {
    config.creds_store = store->get<std::string>();
  }
  return config;
}

DockerConfig load_docker_config(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return {};
    throw Error::from_errno("read " + path.string());
  }
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  return parse_docker_config(text, path.string());
}

std::filesystem::path default_docker_config_path() {
  if (const char* dir = std::getenv("DOCKER_CONFIG"); dir && *dir)
    return std::filesystem::path(dir) / "config.json";
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : "/root") / ".docker" / "config.json";
}

std::string docker_server_address(std::string_view registry_or_url) {
  auto key = auth_key(registry_or_url);
  // Docker Hub keeps its legacy URL in files and helpers.
  return key == "docker.io" ? "https://index.docker.io/v1/" : key;
}

std::string credential_helper_for(const DockerConfig& config, std::string_view registry_or_url) {
  const auto helper = config.cred_helpers.find(auth_key(registry_or_url));
  return helper != config.cred_helpers.end() ? helper->second : config.creds_store;
}

std::optional<Credentials> find_credentials(const DockerConfig& config, const std::string& registry) {
  const auto key = auth_key(registry);
  const auto server = docker_server_address(key);
  if (const auto helper = config.cred_helpers.find(key); helper != config.cred_helpers.end()) {
    return run_credential_helper(helper->second, server);
  }
  if (!config.creds_store.empty()) {
    if (auto found = run_credential_helper(config.creds_store, server)) return found;
  }
  if (const auto it = config.auths.find(key); it != config.auths.end()) return it->second;
  return std::nullopt;
}

}  // namespace mcore::registry
