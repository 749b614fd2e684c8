#include "docker_registry_driver.hpp"

#include <arpa/inet.h>
#include <sys/utsname.h>

#include <algorithm>

#include <curl/curl.h>

#include "credential_store.hpp"
#include "docker_config.hpp"
#include "manifest.hpp"
#include "mcore/config_section.hpp"
#include "mcore/error.hpp"

namespace mcore::registry {

namespace {

constexpr std::size_t kMaxManifestSize = 4 << 20;  // Docker's own limit
constexpr const char* kDockerHubUrl = "https://registry-1.docker.io";

std::string host_without_port(const std::string& registry) {
  if (!registry.empty() && registry.front() == '[') return registry.substr(1, registry.find(']') - 1);
  const auto colon = registry.find(':');
  return colon == std::string::npos ? registry : registry.substr(0, colon);
}

std::string pull_scope(const ImageReference& reference) {
  return "repository:" + reference.repository + ":pull";
}

// "docker.io" or "host[:port]" of what users pass to login and logout, URLs included.
std::string registry_of(const std::string& server) {
  auto registry = auth_key(server);
  if (registry.empty()) {
    throw Error("\"" + server + "\" is not a registry", 0,
                "name one as host[:port], e.g. docker.io or localhost:5000");
  }
  return registry;
}

Platform host_platform() {
  Platform platform;
  utsname name{};
  uname(&name);
  const std::string machine = name.machine;
  if (machine == "x86_64")
    platform.architecture = "amd64";
  else if (machine == "aarch64")
    platform = {"linux", "arm64", "v8"};
  else if (machine == "armv7l")
    platform = {"linux", "arm", "v7"};
  else if (machine == "i686" || machine == "i386")
    platform.architecture = "386";
  else
    platform.architecture = machine;
  return platform;
}

// Counts what reaches the caller's sink, so a mirror that failed midway is not retried from scratch.
class CountingSink final : public ByteSink {
 public:
  explicit CountingSink(ByteSink& sink) : sink_(sink) {}
  void write(std::span<const std::byte> bytes) override {
    sink_.write(bytes);
    written_ += bytes.size();
  }
  std::uint64_t written() const { return written_; }

 private:
  ByteSink& sink_;
  std::uint64_t written_ = 0;
};

}  // namespace

bool is_loopback_registry(const std::string& registry) {
  const auto host = host_without_port(registry);
  if (host == "localhost") return true;
  // Only an address literal is known to be loopback: a name such as 127.0.0.1.example.com resolves anywhere.
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return ::inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

DockerRegistryDriver::DockerRegistryDriver(const HostContext& context)
    : logger_(context.logger ? context.logger->clone("registry-docker")
                             : std::make_shared<spdlog::logger>("registry-docker")) {
  ConfigSection config(context.config, context.config_path.empty() ? "registry" : context.config_path);
  auth_file_ = config.get_string("auth_file").value_or("");
  if (const auto retries = config.get_int("max_retries")) {
    if (*retries < 0 || *retries > 100)
      throw Error(config.key_path("max_retries") + ": must be between 0 and 100");
    max_retries_ = static_cast<int>(*retries);
  }
  if (const auto delay = config.get_int("retry_delay_ms")) {
    if (*delay < 0 || *delay > 60000)
      throw Error(config.key_path("retry_delay_ms") + ": must be between 0 and 60000");
    retry_delay_ms_ = static_cast<int>(*delay);
  }
  insecure_ = config.get_string_list("insecure").value_or(std::vector<std::string>{});
  mirrors_ = config.get_string_list("mirrors").value_or(std::vector<std::string>{});
  for (const auto& mirror : mirrors_) {
    if (mirror.rfind("http://", 0) != 0 && mirror.rfind("https://", 0) != 0) {
      throw Error(config.key_path("mirrors") + ": \"" + mirror + "\" is not an http:// or https:// URL");
    }
  }
  config.reject_unknown_keys();
  curl_global_init(CURL_GLOBAL_DEFAULT);
}

std::filesystem::path DockerRegistryDriver::docker_config_file() const {
  return auth_file_.empty() ? default_docker_config_path() : std::filesystem::path(auth_file_);
}

void DockerRegistryDriver::forget_clients(const std::string& registry) {
  std::lock_guard lock(mutex_);
  for (const auto& url : endpoints(registry)) clients_.erase(url);
}

std::vector<std::string> DockerRegistryDriver::endpoints(const std::string& registry) const {
  if (registry == "docker.io") {
    auto urls = mirrors_;
    urls.push_back(kDockerHubUrl);
    return urls;
  }
  const bool plain =
      is_loopback_registry(registry) ||
      std::find(insecure_.begin(), insecure_.end(), registry) != insecure_.end() ||
      std::find(insecure_.begin(), insecure_.end(), host_without_port(registry)) != insecure_.end();
  return {(plain ? "http://" : "https://") + registry};
}

RegistryClient& DockerRegistryDriver::client(const std::string& registry, const std::string& base_url) {
  std::lock_guard lock(mutex_);
  auto& slot = clients_[base_url];
  if (!slot) {
    const auto config = load_docker_config(docker_config_file());
    ClientOptions options;
    options.registry = registry;
    options.base_url = base_url;
    // A mirror gets its own credentials, never Docker Hub's.
    const bool mirror = registry == "docker.io" && base_url != kDockerHubUrl;
    options.credentials = find_credentials(config, mirror ? auth_key(base_url) : registry);
    options.max_retries = max_retries_;
    options.retry_delay = std::chrono::milliseconds(retry_delay_ms_);
    options.logger = logger_;
    slot = std::make_unique<RegistryClient>(std::move(options));
  }
  return *slot;
}

ResolvedManifest DockerRegistryDriver::resolve(const ImageReference& reference, const Platform& platform) {
  const auto wanted = platform.architecture.empty() ? host_platform() : platform;
  const auto urls = endpoints(reference.registry);
  for (std::size_t i = 0;; ++i) {
    try {
      return resolve_at(client(reference.registry, urls[i]), reference, wanted);
    } catch (const Error& error) {
      if (i + 1 == urls.size()) throw;
      logger_->warn("mirror {} failed, trying the next: {}", urls[i], error.what());
    }
  }
}

ResolvedManifest DockerRegistryDriver::resolve_at(RegistryClient& client, const ImageReference& reference,
                                                  const Platform& platform) {
  const auto top = fetch_manifest(
      client, reference, reference.digest.empty() ? reference.tag : reference.digest, reference.digest);
  ResolvedManifest resolved;
  if (is_manifest_media_type(top.media_type)) {
    resolved.manifest = {top.media_type,
                         top.digest,
                         static_cast<std::int64_t>(top.bytes.size()),
                         {},
                         nlohmann::json::object()};
    resolved.manifest_bytes = top.bytes;
    return resolved;
  }
  std::vector<IndexEntry> entries;
  try {
    entries = parse_index(top.bytes);
  } catch (Error& error) {
    throw error.add_context("image " + to_string(reference));
  }
  const auto& entry = select_platform(entries, platform);
  auto child = fetch_manifest(client, reference, entry.descriptor.digest, entry.descriptor.digest);
  if (!is_manifest_media_type(child.media_type)) {
    throw Error("image " + to_string(reference) + ": the index entry for " + to_string(platform) +
                " is not an image manifest but " + child.media_type);
  }
  if (static_cast<std::int64_t>(child.bytes.size()) != entry.descriptor.size) {
    throw Error("image " + to_string(reference) + ": manifest " + entry.descriptor.digest + " has " +
                std::to_string(child.bytes.size()) + " bytes, the index says " +
                std::to_string(entry.descriptor.size));
  }
  resolved.manifest = entry.descriptor;
  resolved.manifest.media_type = child.media_type;
  resolved.manifest_bytes = std::move(child.bytes);
  resolved.index_digest = top.digest;
  return resolved;
}

DockerRegistryDriver::FetchedManifest DockerRegistryDriver::fetch_manifest(
    RegistryClient& client, const ImageReference& reference, const std::string& name_or_digest,
    const std::string& expected_digest) {
  const auto path = "/v2/" + reference.repository + "/manifests/" + name_or_digest;
  const auto response = client.get(path, {"Accept: " + manifest_accept_header()}, pull_scope(reference),
                                   nullptr, 0, kMaxManifestSize);
  const auto shown =
      reference.digest.empty() && name_or_digest == reference.tag
          ? familiar_name(reference)
          : familiar_name(ImageReference{reference.registry, reference.repository, "", name_or_digest});
  if (response.status == 404) {
    const auto detail = registry_error_text(response.body);
    throw Error("manifest for " + shown + " not found: " + (detail.empty() ? "manifest unknown" : detail), 0,
                "check the image name and tag");
  }
  if (response.status != 200) {
    const auto detail = registry_error_text(response.body);
    throw Error("registry " + reference.registry + " answered HTTP " + std::to_string(response.status) +
                " for the manifest of " + shown + (detail.empty() ? "" : ": " + detail));
  }
  FetchedManifest fetched;
  fetched.bytes = response.body;
  try {
    fetched.media_type = detect_media_type(response.header("content-type"), fetched.bytes);
    if (is_manifest_media_type(fetched.media_type)) parse_image_manifest(fetched.bytes);
  } catch (Error& error) {
    throw error.add_context("registry " + reference.registry + " answered garbage for the manifest of " +
                            shown);
  }
  if (!is_manifest_media_type(fetched.media_type) && !is_index_media_type(fetched.media_type)) {
    throw Error("the manifest of " + shown + " has unsupported media type " + fetched.media_type);
  }
  fetched.digest = expected_digest.empty() ? response.header("docker-content-digest") : expected_digest;
  if (fetched.digest.empty()) {
    // Without Docker-Content-Digest a tag's bytes cannot be checked against anything but themselves.
    fetched.digest = sha256_digest(fetched.bytes);
    logger_->debug("{} sent no Docker-Content-Digest for {}", reference.registry, shown);
  }
  verify_digest(fetched.bytes, fetched.digest, "manifest of " + shown);
  return fetched;
}

void DockerRegistryDriver::fetch_blob(const ImageReference& reference, const ContentDescriptor& blob,
                                      std::uint64_t offset, ByteSink& sink) {
  // Registries answer a Range past the end with a broken response; say what is wrong instead.
  if (blob.size > 0 && offset >= static_cast<std::uint64_t>(blob.size)) {
    if (offset == static_cast<std::uint64_t>(blob.size)) return;
    throw Error("cannot resume blob " + blob.digest + " at byte " + std::to_string(offset) +
                ": it has only " + std::to_string(blob.size) + " bytes");
  }
  const auto urls = endpoints(reference.registry);
  const auto path = "/v2/" + reference.repository + "/blobs/" + blob.digest;
  CountingSink counting(sink);
  for (std::size_t i = 0;; ++i) {
    try {
      const auto response = client(reference.registry, urls[i])
                                .get(path, {}, pull_scope(reference), &counting, offset + counting.written());
      if (response.status == 200 || response.status == 206) return;
      const auto detail = registry_error_text(response.body);
      if (response.status == 404) {
        throw Error("blob " + blob.digest + " of " + familiar_name(reference) + " not found" +
                    (detail.empty() ? "" : ": " + detail));
      }
      throw Error("registry " + reference.registry + " answered HTTP " + std::to_string(response.status) +
                  " for blob " + blob.digest + (detail.empty() ? "" : ": " + detail));
    } catch (const Error& error) {
      if (i + 1 == urls.size()) throw;
      logger_->warn("mirror {} failed, trying the next: {}", urls[i], error.what());
    }
  }
}

void DockerRegistryDriver::login(const std::string& server, const Credentials& credentials) {
  const auto registry = registry_of(server);
  if (credentials.identity_token.empty() && (credentials.username.empty() || credentials.password.empty()))
    throw Error("logging in to " + registry + " needs a user name and a password");
  ClientOptions options;
  options.registry = registry;
  options.base_url = endpoints(registry).back();  // the registry itself, never a mirror
  options.credentials = credentials;
  options.max_retries = max_retries_;
  options.retry_delay = std::chrono::milliseconds(retry_delay_ms_);
  options.logger = logger_;
  RegistryClient client(std::move(options));
  // Like `docker login`: /v2/ with the credentials, through the token server when it sends a challenge.
  const auto response = client.get("/v2/", {}, "");
  if (response.status != 200) {
    throw Error("registry " + registry + " answered HTTP " + std::to_string(response.status) +
                " to the login check");
  }
  save_credentials(docker_config_file(), registry, credentials);
  forget_clients(registry);
}

bool DockerRegistryDriver::logout(const std::string& server) {
  const auto registry = registry_of(server);
  const bool erased = erase_credentials(docker_config_file(), registry);
  forget_clients(registry);
  return erased;
}

}  // namespace mcore::registry
