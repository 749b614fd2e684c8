#include "registry_client.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <exception>
#include <thread>

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include "auth_challenge.hpp"
#include "docker_config.hpp"
#include "mcore/error.hpp"

namespace mcore::registry {

namespace {

constexpr int kMaxRedirects = 10;

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string url_escape(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

struct CurlUrl {
  CURLU* handle = curl_url();
  ~CurlUrl() { curl_url_cleanup(handle); }
  std::string part(CURLUPart which) const {
    char* value = nullptr;
    if (curl_url_get(handle, which, &value, which == CURLUPART_PORT ? CURLU_DEFAULT_PORT : 0) != CURLUE_OK)
      return {};
    std::string text(value);
    curl_free(value);
    return text;
  }
};

// "scheme://host:port" of `url`, to tell whether a redirect leaves the host.
std::string origin_of(const std::string& url) {
  CurlUrl parsed;
  if (curl_url_set(parsed.handle, CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return {};
  return lower(parsed.part(CURLUPART_SCHEME) + "://" + parsed.part(CURLUPART_HOST) + ":" +
               parsed.part(CURLUPART_PORT));
}

std::string resolve_location(const std::string& base, const std::string& location) {
  CurlUrl parsed;
  if (curl_url_set(parsed.handle, CURLUPART_URL, base.c_str(), 0) != CURLUE_OK ||
      curl_url_set(parsed.handle, CURLUPART_URL, location.c_str(), 0) != CURLUE_OK) {
    throw Error("the registry redirected to an invalid location \"" + location + "\"");
  }
  return parsed.part(CURLUPART_URL);
}

bool is_retriable(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR: return true;
    default: return false;
  }
}

// A wait a server announced (Retry-After, RateLimit-Reset) in words: "in 30 s" for delta-seconds,
// "at 2024-05-01 12:00:00 UTC" for what can only be a Unix time, "at <value>" for an HTTP-date.
std::string describe_wait(const std::string& value) {
  const bool digits =
      !value.empty() && value.size() <= 18 &&
      std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c); });
  if (!digits) return "at " + value;
  const auto seconds = std::stoll(value);
  constexpr long long kYear2001 = 1'000'000'000;  // no server asks to wait 31 years
  if (seconds < kYear2001) return "in " + value + " s";
  const auto when = static_cast<std::time_t>(seconds);
  std::tm utc{};
  char text[32];
  if (::gmtime_r(&when, &utc) == nullptr ||
      std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &utc) == 0) {
    return "at " + value;
  }
  return std::string("at ") + text;
}

// A network-level failure of one exchange; retried when `code` says so.
struct NetworkFailure {
  CURLcode code;
  Error error;
};

}  // namespace

// Decides where body bytes go: a 2xx body into the sink (skipping what the caller already has when the
// server ignored Range), anything else into a bounded string.
class BodyRouter {
 public:
  BodyRouter(ByteSink* sink, std::uint64_t offset, std::size_t max_body)
      : sink_(sink), offset_(offset), max_body_(max_body) {}

  // Called before each attempt: the Range header that resumes after what was delivered.
  std::string range_header() const {
    const auto from = offset_ + delivered_;
    return from > 0 && sink_ ? "Range: bytes=" + std::to_string(from) + "-" : "";
  }
  void begin(long status) {
    status_ = status;
    body_.clear();
    skip_ = 0;
  }
  bool streaming() const { return sink_ && status_ >= 200 && status_ < 300; }
  // Returns false to abort the transfer.
  bool write(const char* data, std::size_t size) {
    if (!streaming()) {
      if (body_.size() + size > max_body_) {
        too_large_ = true;
        return false;
      }
      body_.append(data, size);
      return true;
    }
    if (status_ == 200 && !skipped_known_) {
      // A full answer to a Range request: drop the bytes the caller already has.
      skip_ = offset_ + delivered_;
      skipped_known_ = true;
    }
    if (skip_ > 0) {
      const auto dropped = std::min<std::uint64_t>(skip_, size);
      skip_ -= dropped;
      data += dropped;
      size -= dropped;
    }
    if (size == 0) return true;
    try {
      sink_->write(std::span(reinterpret_cast<const std::byte*>(data), size));
    } catch (...) {
      failure_ = std::current_exception();
      return false;
    }
    delivered_ += size;
    return true;
  }
  void rethrow_sink_failure() const {
    if (failure_) std::rethrow_exception(failure_);
  }
  void reset_attempt() { skipped_known_ = false; }
  bool too_large() const { return too_large_; }
  std::string take_body() { return std::move(body_); }
  std::uint64_t delivered() const { return delivered_; }

 private:
  ByteSink* sink_;
  std::uint64_t offset_;
  std::size_t max_body_;
  std::uint64_t delivered_ = 0;
  std::uint64_t skip_ = 0;
  bool skipped_known_ = false;
  long status_ = 0;
  std::string body_;
  bool too_large_ = false;
  std::exception_ptr failure_;
};

namespace {

struct Transfer {
  CURL* curl = nullptr;
  BodyRouter* router = nullptr;
  HttpResponse* response = nullptr;
  bool began = false;
};

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::string line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    transfer->response->headers.clear();  // a new response (after 100 Continue)
    return size * count;
  }
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    auto value = line.substr(colon + 1);
    const auto first = value.find_first_not_of(" \t");
    const auto last = value.find_last_not_of(" \t\r\n");
    value = first == std::string::npos ? "" : value.substr(first, last - first + 1);
    transfer->response->headers[lower(line.substr(0, colon))] = value;
  }
  return size * count;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  if (!transfer->began) {
    long status = 0;
    curl_easy_getinfo(transfer->curl, CURLINFO_RESPONSE_CODE, &status);
    transfer->router->begin(status);
    transfer->began = true;
  }
  return transfer->router->write(data, size * count) ? size * count : 0;
}

}  // namespace

std::string HttpResponse::header(const std::string& name) const {
  const auto it = headers.find(lower(name));
  return it == headers.end() ? std::string() : it->second;
}

RegistryClient::RegistryClient(ClientOptions options) : options_(std::move(options)) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/') options_.base_url.pop_back();
}

HttpResponse RegistryClient::exchange(const std::string& start_url, const std::vector<std::string>& headers,
                                      const std::string& authorization, BodyRouter& router) {
  const auto start_origin = origin_of(start_url);
  std::string url = start_url;
  for (int hop = 0; hop <= kMaxRedirects; ++hop) {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) throw Error("cannot initialise libcurl");
    HttpResponse response;
    Transfer transfer{curl.get(), &router, &response, false};
    router.reset_attempt();
    router.begin(0);

    curl_slist* list = nullptr;
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> guard(nullptr, curl_slist_free_all);
    auto all_headers = headers;
    if (const auto range = router.range_header(); !range.empty()) all_headers.push_back(range);
    // Credentials stay with the host they were meant for.
    if (!authorization.empty() && origin_of(url) == start_origin)
      all_headers.push_back("Authorization: " + authorization);
    for (const auto& header : all_headers) list = curl_slist_append(list, header.c_str());
    guard.reset(list);

    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT_MS, 15000L);
    // A stalled transfer counts as a network error: under 1 byte/s for 60 s.
    curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(curl.get(), CURLOPT_USERAGENT, "mcore/0.1");
    curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &transfer);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &transfer);
    char error_text[CURL_ERROR_SIZE] = {};
    curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error_text);

    const CURLcode code = curl_easy_perform(curl.get());
    router.rethrow_sink_failure();
    if (router.too_large()) {
      throw Error("registry " + options_.registry + " sent more than the expected size for " + url);
    }
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &response.status);
    if (code != CURLE_OK) {
      const std::string detail = error_text[0] ? error_text : curl_easy_strerror(code);
      throw NetworkFailure{
          code,
          Error("cannot reach registry " + options_.registry + " (" + url + "): " + detail, 0,
                "check that the registry runs and is reachable; plain-HTTP registries must be listed in "
                "registry.insecure")};
    }
    response.body = router.take_body();
    if (response.status >= 300 && response.status < 400 && response.status != 304) {
      const auto location = response.header("location");
      if (location.empty()) throw Error("registry " + options_.registry + " redirected without a Location");
      url = resolve_location(url, location);
      options_.logger->debug("redirect to {}", url);
      continue;
    }
    return response;
  }
  throw Error("registry " + options_.registry + " redirected more than " + std::to_string(kMaxRedirects) +
              " times");
}

HttpResponse RegistryClient::exchange_with_retries(const std::string& url,
                                                   const std::vector<std::string>& headers,
                                                   const std::string& authorization, BodyRouter& router) {
  auto delay = options_.retry_delay;
  for (int attempt = 0;; ++attempt) {
    const bool last = attempt >= options_.max_retries;
    try {
      auto response = exchange(url, headers, authorization, router);
      if (response.status < 500 || last) return response;
      options_.logger->warn("{} answered HTTP {}; retrying in {} ms", url, response.status, delay.count());
    } catch (NetworkFailure& failure) {
      if (last || !is_retriable(failure.code)) throw failure.error;
      options_.logger->warn("{}; retrying in {} ms", failure.error.what(), delay.count());
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(10000));
  }
}

RegistryClient::Token RegistryClient::fetch_token(const std::string& scope) {
  std::map<std::string, std::string> params;
  {
    std::lock_guard lock(mutex_);
    params = bearer_params_;
  }
  const auto realm = params["realm"];
  if (realm.empty())
    throw Error("registry " + options_.registry + " sent a Bearer challenge without a realm");
  std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
  if (!params["service"].empty()) url += "service=" + url_escape(params["service"]) + "&";
  if (!scope.empty()) url += "scope=" + url_escape(scope);

  std::vector<std::string> headers;
  std::string authorization;
  const auto& credentials = options_.credentials;
  if (credentials && !credentials->username.empty()) {
    authorization = "Basic " + base64_encode(credentials->username + ":" + credentials->password);
  } else if (credentials && !credentials->identity_token.empty()) {
    authorization = "Bearer " + credentials->identity_token;
  }
  BodyRouter router(nullptr, 0, 1 << 20);
  const auto response = exchange_with_retries(url, headers, authorization, router);
  if (response.status == 401 || response.status == 403) {
    throw Error("registry " + options_.registry + " rejected the credentials (token server answered HTTP " +
                    std::to_string(response.status) + ")",
                0, "check the user name and password: mcore login " + options_.registry);
  }
  if (response.status != 200) {
    throw Error("the token server of registry " + options_.registry + " answered HTTP " +
                std::to_string(response.status));
  }
  const auto document = nlohmann::json::parse(response.body, nullptr, false);
  std::string value;
  if (document.is_object()) {
    value = document.value("token", std::string());
    if (value.empty()) value = document.value("access_token", std::string());
  }
  if (value.empty()) throw Error("the token server of registry " + options_.registry + " sent no token");
  // 60 s is the spec's default; renew a little early so a token never expires in flight.
  std::int64_t lifetime = 60;
  if (document.contains("expires_in") && document["expires_in"].is_number_integer()) {
    lifetime = std::max<std::int64_t>(document["expires_in"].get<std::int64_t>(), 10);
  }
  return Token{value, std::chrono::steady_clock::now() + std::chrono::seconds(lifetime - 5)};
}

std::string RegistryClient::authorization_for(const std::string& scope, bool fresh_token) {
  Scheme scheme;
  {
    std::lock_guard lock(mutex_);
    scheme = scheme_;
    if (scheme == Scheme::bearer && !fresh_token) {
      const auto it = tokens_.find(scope);
      if (it != tokens_.end() && it->second.expiry > std::chrono::steady_clock::now())
        return "Bearer " + it->second.value;
    }
  }
  if (scheme == Scheme::basic) {
    const auto& credentials = options_.credentials;
    if (!credentials || credentials->username.empty()) return {};
    return "Basic " + base64_encode(credentials->username + ":" + credentials->password);
  }
  if (scheme != Scheme::bearer) return {};
  auto token = fetch_token(scope);
  std::lock_guard lock(mutex_);
  tokens_[scope] = token;
  return "Bearer " + token.value;
}

HttpResponse RegistryClient::get(const std::string& path, const std::vector<std::string>& headers,
                                 const std::string& scope, ByteSink* sink, std::uint64_t offset,
                                 std::size_t max_body) {
  const auto url = options_.base_url + path;
  BodyRouter router(sink, offset, max_body);
  bool fresh = false;
  for (int round = 0; round < 3; ++round) {
    const auto authorization = authorization_for(scope, fresh);
    auto response = exchange_with_retries(url, headers, authorization, router);
    if (response.status == 401) {
      const auto challenges = parse_www_authenticate(response.header("www-authenticate"));
      const auto bearer = std::find_if(challenges.begin(), challenges.end(),
                                       [](const auto& c) { return c.scheme == "bearer"; });
      const auto basic = std::find_if(challenges.begin(), challenges.end(),
                                      [](const auto& c) { return c.scheme == "basic"; });
      const bool had_credentials = options_.credentials.has_value();
      if (bearer != challenges.end() && !(fresh && authorization.rfind("Bearer ", 0) == 0)) {
        std::lock_guard lock(mutex_);
        scheme_ = Scheme::bearer;
        bearer_params_ = bearer->params;
      } else if (basic != challenges.end() && authorization.rfind("Basic ", 0) != 0 && had_credentials) {
        std::lock_guard lock(mutex_);
        scheme_ = Scheme::basic;
      } else if (!had_credentials) {
        throw Error("registry " + options_.registry + " requires authentication for " + path, 0,
                    "log in first: mcore login " + options_.registry);
      } else {
        throw Error("registry " + options_.registry + " rejected the credentials for " + path, 0,
                    "check the user name and password: mcore login " + options_.registry);
      }
      fresh = true;
      continue;
    }
    if (response.status == 403) {
      throw Error(
          "registry " + options_.registry + " denied access to " + path +
              (registry_error_text(response.body).empty() ? "" : ": " + registry_error_text(response.body)),
          0, "check that your account may pull this repository");
    }
    if (response.status == 429 || response.status >= 500) throw_http_error(response, url);
    return response;
  }
  throw Error("registry " + options_.registry + " kept asking for authentication for " + path);
}

void RegistryClient::throw_http_error(const HttpResponse& response, const std::string& url) const {
  if (response.status == 429) {
    std::string when;
    if (const auto reset = response.header("ratelimit-reset"); !reset.empty())
      when = "; the limit resets " + describe_wait(reset);
    if (const auto retry = response.header("retry-after"); !retry.empty())
      when += "; retry " + describe_wait(retry);
    throw Error(
        "registry " + options_.registry + " rate-limited the request (HTTP 429 Too Many Requests)" + when, 0,
        "wait, log in for a higher limit, or configure registry.mirrors");
  }
  const auto detail = registry_error_text(response.body);
  throw Error("registry " + options_.registry + " answered HTTP " + std::to_string(response.status) +
              " for " + url + (detail.empty() ? "" : ": " + detail));
}

std::string registry_error_text(const std::string& body) {
  const auto document = nlohmann::json::parse(body, nullptr, false);
  if (!document.is_object() || !document.contains("errors") || !document["errors"].is_array()) return {};
  std::string text;
  for (const auto& error : document["errors"]) {
    if (!error.is_object()) continue;
    auto message = error.value("message", std::string());
    if (message.empty()) message = lower(error.value("code", std::string()));
    if (!message.empty()) text += (text.empty() ? "" : "; ") + message;
  }
  return text;
}

bool has_registry_error(const std::string& body, const std::string& code) {
  const auto document = nlohmann::json::parse(body, nullptr, false);
  if (!document.is_object() || !document.contains("errors") || !document["errors"].is_array()) return false;
  return std::any_of(document["errors"].begin(), document["errors"].end(), [&](const auto& error) {
    return error.is_object() && error.value("code", std::string()) == code;
  });
}

}  // namespace mcore::registry
