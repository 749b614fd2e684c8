#pragma once
// Docker's client config (~/.docker/config.json): stored credentials in `auths` and the credential
// helpers (`credHelpers` per registry, `credsStore` for all) that Docker and Podman share.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "mcore/registry_driver.hpp"

namespace mcore::registry {

struct DockerConfig {
  std::map<std::string, Credentials> auths;  // keyed by registry host as normalised by auth_key
  std::map<std::string, std::string> cred_helpers;
  std::string creds_store;
};

// Parses config.json text; `auth` is base64("user:password"), `identitytoken` an OAuth refresh token.
// Throws Error naming `origin` on malformed JSON or base64.
DockerConfig parse_docker_config(std::string_view text, const std::string& origin);

// Reads `path`; a missing file is an empty config.
DockerConfig load_docker_config(const std::filesystem::path& path);

// $DOCKER_CONFIG/config.json, else $HOME/.docker/config.json.
std::filesystem::path default_docker_config_path();

// The key config.json uses for `registry`: Docker Hub is "https://index.docker.io/v1/" in files, but
// "docker.io", "index.docker.io" and "registry-1.docker.io" all normalise to "docker.io"; other keys
// lose their scheme and path ("https://host:5000/v2/" → "host:5000").
std::string auth_key(std::string_view registry_or_url);

// The name Docker files `registry`'s credentials under, in `auths` and with credential helpers:
// "https://index.docker.io/v1/" for Docker Hub, else auth_key's "host[:port]".
std::string docker_server_address(std::string_view registry_or_url);

// The credential helper `registry` uses: its credHelpers entry, else credsStore; "" for `auths`.
std::string credential_helper_for(const DockerConfig& config, std::string_view registry_or_url);

// The credentials for `registry`: its credential helper, else credsStore, else `auths`; nullopt when
// there are none. Runs docker-credential-<helper> get.
std::optional<Credentials> find_credentials(const DockerConfig& config, const std::string& registry);

// Standard padded base64, as `auth` values and Basic authorization use it.
std::string base64_encode(std::string_view bytes);

}  // namespace mcore::registry
