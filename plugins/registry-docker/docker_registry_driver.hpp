#pragma once
// The "docker" registry driver: Docker Registry HTTP API v2 / OCI distribution over libcurl. Config keys
// are listed in README.md.
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "mcore/host_context.hpp"
#include "mcore/registry_driver.hpp"
#include "registry_client.hpp"

namespace mcore::registry {

class DockerRegistryDriver final : public RegistryDriver {
 public:
  // Reads the "registry" config section; throws Error on bad config. Opens no connection.
  explicit DockerRegistryDriver(const HostContext& context);

  ResolvedManifest resolve(const ImageReference& reference, const Platform& platform) override;
  void fetch_blob(const ImageReference& reference, const ContentDescriptor& blob, std::uint64_t offset,
                  ByteSink& sink) override;
  void login(const std::string& registry, const Credentials& credentials) override;
  bool logout(const std::string& registry) override;

 private:
  struct FetchedManifest {
    std::string media_type;
    std::string digest;
    std::string bytes;
  };

  // `auth_file`, else Docker's own default.
  std::filesystem::path docker_config_file() const;
  // Drops the cached clients of `registry`, whose credentials changed.
  void forget_clients(const std::string& registry);
  // Base URLs to try for `registry`, in order: Docker Hub's mirrors before Docker Hub itself.
  std::vector<std::string> endpoints(const std::string& registry) const;
  RegistryClient& client(const std::string& registry, const std::string& base_url);
  ResolvedManifest resolve_at(RegistryClient& client, const ImageReference& reference,
                              const Platform& platform);
  FetchedManifest fetch_manifest(RegistryClient& client, const ImageReference& reference,
                                 const std::string& name_or_digest, const std::string& expected_digest);

  std::shared_ptr<spdlog::logger> logger_;
  std::string auth_file_;
  int max_retries_ = 3;
  int retry_delay_ms_ = 500;
  std::vector<std::string> insecure_;
  std::vector<std::string> mirrors_;
  std::mutex mutex_;  // guards clients_
  // One client per endpoint so that Bearer tokens stay cached between calls.
  std::map<std::string, std::unique_ptr<RegistryClient>> clients_;
};

// True for "localhost" and the address literals of 127.0.0.0/8 and ::1, with or without a port; never for
// a name (127.0.0.1.example.com may resolve anywhere, and would be spoken to over plain HTTP).
bool is_loopback_registry(const std::string& registry);

}  // namespace mcore::registry
