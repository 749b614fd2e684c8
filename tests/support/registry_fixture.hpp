#pragma once
// A private Docker registry for tests: Debian's docker-registry on 127.0.0.1 with a free port and its
// own temporary storage, optionally behind htpasswd Basic auth or token auth (token_server.py). Images
// are pushed from OCI layouts (oci_image_builder.hpp) with skopeo. The destructor kills every process
// it started and removes its directory, whatever the test did.
#include <sys/types.h>

#include <filesystem>
#include <string>

#include "test_support.hpp"

namespace mcore::test {

enum class RegistryAuth { none, basic, token };

struct RegistryFixtureOptions {
  RegistryAuth auth = RegistryAuth::none;
  std::string username = "mcore";
  std::string password = "s3cret-pass";
};

class RegistryFixture {
 public:
  // Starts the registry (and the token server) and waits until /v2/ answers; throws std::runtime_error
  // with the registry's log when it does not come up.
  explicit RegistryFixture(RegistryFixtureOptions options = {});
  ~RegistryFixture();
  RegistryFixture(const RegistryFixture&) = delete;
  RegistryFixture& operator=(const RegistryFixture&) = delete;

  // "127.0.0.1:<port>", the registry part of image references.
  const std::string& host() const { return host_; }
  const RegistryFixtureOptions& options() const { return options_; }

  // Pushes the image that `oci_ref` names in the layout's index.json (all platforms of an index) to
  // `repo_tag` ("busybox:1") with skopeo; throws std::runtime_error with skopeo's output on failure.
  void push(const std::filesystem::path& layout_dir, const std::string& repo_tag, const std::string& oci_ref);

  // Where the registry keeps blob `digest` ("sha256:...") on disk, to corrupt it.
  std::filesystem::path blob_path(const std::string& digest) const;

  // Tokens the token server issued so far (RegistryAuth::token only).
  int tokens_issued() const;

  // Stops the registry (the token server stays): later requests find nothing listening.
  void stop();

 private:
  TempDir dir_;
  RegistryFixtureOptions options_;
  std::string host_;
  int token_port_ = 0;
  pid_t registry_pid_ = -1;
  pid_t token_pid_ = -1;
};

// A static HTTP server on 127.0.0.1 (python3 -m http.server) serving `root`: stands in for a registry
// that answers garbage. Stopped on destruction.
class LoopbackHttpServer {
 public:
  explicit LoopbackHttpServer(const std::filesystem::path& root);
  ~LoopbackHttpServer();
  LoopbackHttpServer(const LoopbackHttpServer&) = delete;
  LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;
  // "127.0.0.1:<port>".
  const std::string& host() const { return host_; }

 private:
  TempDir log_dir_;
  std::string host_;
  pid_t pid_ = -1;
};

// A scripted HTTP server on 127.0.0.1 (fake_registry.py) for what a real registry will not do on demand:
// fixed answers per path (HTTP 429, redirects), optional Basic auth, and a record of every request's
// headers. `script` is fake_registry.py's JSON script. Stopped on destruction.
class FakeRegistry {
 public:
  explicit FakeRegistry(const nlohmann::json& script);
  ~FakeRegistry();
  FakeRegistry(const FakeRegistry&) = delete;
  FakeRegistry& operator=(const FakeRegistry&) = delete;
  // "127.0.0.1:<port>".
  const std::string& host() const { return host_; }
  int port() const { return port_; }
  // The requests answered so far, oldest first: [{"method", "path", "headers": {lowercase name: value}}].
  nlohmann::json requests() const;

 private:
  TempDir dir_;
  std::string host_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// A TCP port on 127.0.0.1 that nothing listens on right now.
int free_loopback_port();

// GETs http://127.0.0.1:<port><path> with a plain socket; returns the whole answer or "" when nothing
// listens. For waiting on servers, not for testing HTTP.
std::string http_get_loopback(int port, const std::string& path);

}  // namespace mcore::test
