#pragma once
// One registry endpoint over libcurl: authentication (Bearer challenge with tokens cached per scope,
// Basic), redirects that never carry Authorization to another host, retries with backoff on network
// errors and 5xx, and streaming of blob bodies with Range resumption. Safe for concurrent requests.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "mcore/io.hpp"
#include "mcore/registry_driver.hpp"

namespace mcore::registry {

class BodyRouter;

struct ClientOptions {
  std::string registry;  // the name users know, for messages and credentials ("docker.io")
  std::string base_url;  // "https://registry-1.docker.io", "http://127.0.0.1:5000", a mirror's URL
  std::optional<Credentials> credentials;
  int max_retries = 3;
  std::chrono::milliseconds retry_delay{500};  // doubled after every failed attempt
  std::shared_ptr<spdlog::logger> logger;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lowercased; the last value wins
  std::string body;                            // empty when streamed into a sink
  std::string header(const std::string& name) const;
};

class RegistryClient {
 public:
  explicit RegistryClient(ClientOptions options);

  // GETs base_url + `path` (e.g. "/v2/library/alpine/manifests/latest") authorised for `scope`
  // ("repository:library/alpine:pull", or "" for /v2/). With a sink, a 2xx body is streamed into it
  // starting at byte `offset` (resuming itself after a broken connection); otherwise it is returned,
  // up to `max_body` bytes. Returns every status that is not an auth, rate-limit or server failure;
  // throws Error for those and for unreachable registries.
  HttpResponse get(const std::string& path, const std::vector<std::string>& headers, const std::string& scope,
                   ByteSink* sink = nullptr, std::uint64_t offset = 0, std::size_t max_body = 8 << 20);

  const ClientOptions& options() const { return options_; }

 private:
  struct Token {
    std::string value;
    std::chrono::steady_clock::time_point expiry;
  };
  enum class Scheme { none, basic, bearer };

  // One request with redirects followed by hand, so Authorization is dropped when the host changes.
  HttpResponse exchange(const std::string& url, const std::vector<std::string>& headers,
                        const std::string& authorization, BodyRouter& router);
  // `exchange` with retries on network errors and 5xx.
  HttpResponse exchange_with_retries(const std::string& url, const std::vector<std::string>& headers,
                                     const std::string& authorization, BodyRouter& router);
  std::string authorization_for(const std::string& scope, bool fresh_token);
  Token fetch_token(const std::string& scope);
  [[noreturn]] void throw_http_error(const HttpResponse& response, const std::string& url) const;

  ClientOptions options_;
  std::mutex mutex_;  // guards the auth state below
  Scheme scheme_ = Scheme::none;
  std::map<std::string, std::string> bearer_params_;  // realm, service from the last challenge
  std::map<std::string, Token> tokens_;               // by scope
};

// The messages of a registry's {"errors": [{"code", "message"}]} body joined by "; ", or "".
std::string registry_error_text(const std::string& body);
// True when that body carries error `code` (e.g. "MANIFEST_UNKNOWN").
bool has_registry_error(const std::string& body, const std::string& code);

}  // namespace mcore::registry
