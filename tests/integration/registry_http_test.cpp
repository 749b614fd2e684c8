// The registry-docker plugin's HTTP edge cases against scripted servers (fake_registry.py): HTTP 429
// with and without the registry's reset time, through the driver and through `mcore pull`, and blob
// redirects, which carry Authorization to the same scheme://host:port only. No root needed.
#include <algorithm>
#include <fstream>
#include <functional>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "mcore/error.hpp"
#include "mcore/plugin.hpp"
#include "mcore/registry_driver.hpp"
#include "oci_image_builder.hpp"
#include "registry_fixture.hpp"
#include "kit_internal.hpp"
#include "plugin_driver.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using mcore::test::FakeRegistry;
using mcore::test::incompressible_bytes;

namespace {

using mcore::conformance::detail::StringSink;

const mcore::Platform kAmd64{"linux", "amd64", ""};
const std::string kUser = "mcore";
const std::string kPassword = "s3cret-pass";
// What Basic auth of kUser:kPassword sends.
const std::string kBasicAuthorization = "Basic bWNvcmU6czNjcmV0LXBhc3M=";
const std::string kManifestPath = "/v2/test/app/manifests/v1";

// The requests `server` saw for `path` (query included).
std::vector<nlohmann::json> requests_for(const FakeRegistry& server, const std::string& path) {
  std::vector<nlohmann::json> matching;
  for (const auto& request : server.requests()) {
    if (request["path"] == path) matching.push_back(request);
  }
  return matching;
}

std::string authorization_of(const nlohmann::json& request) {
  return request["headers"].value("authorization", "");
}

class RegistryHttpTest : public ::testing::Test {
 protected:
  // Loads the plugin with `config`; credentials for `registry_host` go into a private auth file when
  // given, otherwise the driver is anonymous.
  std::shared_ptr<mcore::RegistryDriver> load_driver(const std::string& registry_host = "") {
    const auto auth_file = dir_.path() / "auth.json";
    nlohmann::json auths = nlohmann::json::object();
    if (!registry_host.empty()) auths[registry_host] = {{"username", kUser}, {"password", kPassword}};
    std::ofstream(auth_file) << nlohmann::json{{"auths", auths}}.dump();
    mcore::HostContext context;
    context.config = {{"max_retries", 0}, {"retry_delay_ms", 0}, {"auth_file", auth_file.string()}};
    context.config_path = "registry";
    return mcore::test::load_plugin_driver<mcore::RegistryDriver>("mcore-registry-docker.so", context);
  }

  // A blob file for fake_registry.py's "body_file"; returns its path.
  fs::path blob_file(const std::string& bytes) {
    const auto path = dir_.path() / ("blob-" + std::to_string(++blobs_));
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  // What the driver delivers for `blob` of registry `host`'s test/app.
  static std::string fetch_blob(mcore::RegistryDriver& driver, const std::string& host,
                                const std::string& blob) {
    StringSink sink;
    const mcore::ContentDescriptor descriptor{"application/octet-stream",
                                              mcore::test::sha256_hex_digest(blob),
                                              static_cast<std::int64_t>(blob.size()),
                                              {},
                                              nlohmann::json::object()};
    driver.fetch_blob({host, "test/app", "v1", ""}, descriptor, 0, sink);
    return sink.data;
  }

  static std::string error_of(const std::function<void()>& action) {
    try {
      action();
    } catch (const mcore::Error& error) {
      return std::string(error.what()) + " | hint: " + error.hint();
    }
    return "(no error)";
  }

  mcore::test::TempDir dir_{"mcore-registry-http-test"};
  int blobs_ = 0;
};

// --- HTTP 429 -------------------------------------------------------------------------------------------

TEST_F(RegistryHttpTest, RateLimitNamesWhenToRetry) {
  FakeRegistry registry(
      nlohmann::json{{"routes",
                      {{kManifestPath,
                        {{"status", 429},
                         {"headers", {{"Retry-After", "30"}, {"RateLimit-Reset", "1893456000"}}},
                         {"body", R"({"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]})"}}}}}});
  auto driver = load_driver();
  const auto error = error_of([&] { driver->resolve({registry.host(), "test/app", "v1", ""}, kAmd64); });
  EXPECT_NE(error.find("registry " + registry.host() + " rate-limited the request (HTTP 429"),
            std::string::npos)
      << error;
  // RateLimit-Reset as a Unix time (2030-01-01), Retry-After in seconds.
  EXPECT_NE(error.find("the limit resets at 2030-01-01 00:00:00 UTC"), std::string::npos) << error;
  EXPECT_NE(error.find("retry in 30 s"), std::string::npos) << error;
  EXPECT_NE(error.find("hint: wait, log in for a higher limit"), std::string::npos) << error;
  // Not retried: waiting out a rate limit is the user's call.
  EXPECT_EQ(requests_for(registry, kManifestPath).size(), 1u);
}

TEST_F(RegistryHttpTest, RateLimitResetInSecondsOrAsAnHttpDate) {
  FakeRegistry registry(nlohmann::json{
      {"routes",
       {{kManifestPath, {{"status", 429}, {"headers", {{"RateLimit-Reset", "120"}}}}},
        {"/v2/test/dated/manifests/v1",
         {{"status", 429}, {"headers", {{"Retry-After", "Wed, 01 Jan 2031 07:28:00 GMT"}}}}}}}});
  auto driver = load_driver();
  const auto seconds = error_of([&] { driver->resolve({registry.host(), "test/app", "v1", ""}, kAmd64); });
  EXPECT_NE(seconds.find("(HTTP 429 Too Many Requests); the limit resets in 120 s |"), std::string::npos)
      << seconds;
  const auto dated = error_of([&] { driver->resolve({registry.host(), "test/dated", "v1", ""}, kAmd64); });
  EXPECT_NE(dated.find("; retry at Wed, 01 Jan 2031 07:28:00 GMT |"), std::string::npos) << dated;
}

TEST_F(RegistryHttpTest, RateLimitWithoutHeadersStillSaysRateLimited) {
  FakeRegistry registry(nlohmann::json{{"routes", {{kManifestPath, {{"status", 429}}}}}});
  auto driver = load_driver();
  const auto error = error_of([&] { driver->resolve({registry.host(), "test/app", "v1", ""}, kAmd64); });
  EXPECT_NE(error.find("rate-limited the request (HTTP 429 Too Many Requests) |"), std::string::npos)
      << error;
  EXPECT_EQ(error.find("resets"), std::string::npos) << error;
  EXPECT_EQ(error.find("retry "), std::string::npos) << error;
}

TEST_F(RegistryHttpTest, RateLimitedPullExitsWithOneClearLine) {
  FakeRegistry registry(
      nlohmann::json{{"routes", {{kManifestPath, {{"status", 429}, {"headers", {{"Retry-After", "45"}}}}}}}});
  mcore::test::McoreSandbox sandbox(
      nlohmann::json{{"registry", {{"auth_file", (dir_.path() / "none.json").string()}}}});
  const auto pulled = sandbox.mcore({"pull", "-q", registry.host() + "/test/app:v1"});
  EXPECT_EQ(pulled.exit_code, 125) << pulled.out << pulled.err;
  EXPECT_EQ(pulled.out, "");
  EXPECT_NE(pulled.err.find("rate-limited the request (HTTP 429 Too Many Requests); retry in 45 s"),
            std::string::npos)
      << pulled.err;
  EXPECT_EQ(std::count(pulled.err.begin(), pulled.err.end(), '\n'), 1) << pulled.err;
}

// --- Redirects ------------------------------------------------------------------------------------------

TEST_F(RegistryHttpTest, RedirectToAnotherPortDropsAuthorization) {
  const auto blob = incompressible_bytes(300000);
  const std::string blob_path = "/v2/test/app/blobs/" + mcore::test::sha256_hex_digest(blob);
  // Like a registry that hands blobs to object storage with a signed URL.
  FakeRegistry storage(
      nlohmann::json{{"routes", {{"/bucket/blob", {{"body_file", blob_file(blob).string()}}}}}});
  FakeRegistry registry(
      nlohmann::json{{"basic", kUser + ":" + kPassword},
                     {"routes",
                      {{blob_path,
                        {{"status", 307},
                         {"headers", {{"Location", "http://" + storage.host() + "/bucket/blob?sig=1"}}}}}}}});
  auto driver = load_driver(registry.host());
  std::string fetched;
  ASSERT_NO_THROW(fetched = fetch_blob(*driver, registry.host(), blob));
  EXPECT_EQ(fetched.size(), blob.size());
  EXPECT_TRUE(fetched == blob) << "the redirected blob arrived changed";

  // The registry challenged, then got the credentials...
  const auto asked = requests_for(registry, blob_path);
  ASSERT_FALSE(asked.empty());
  EXPECT_EQ(authorization_of(asked.back()), kBasicAuthorization) << nlohmann::json(asked).dump();
  // ...and the other host:port never saw them.
  const auto served = requests_for(storage, "/bucket/blob?sig=1");
  ASSERT_EQ(served.size(), 1u) << storage.requests().dump();
  EXPECT_EQ(authorization_of(served[0]), "") << served[0].dump();
}

TEST_F(RegistryHttpTest, RedirectToAnotherHostNameOnTheSamePortDropsAuthorization) {
  const auto blob = incompressible_bytes(5000);
  const std::string blob_path = "/v2/test/app/blobs/" + mcore::test::sha256_hex_digest(blob);
  // "localhost" reaches the same server as "127.0.0.1" but is another host to the client.
  FakeRegistry registry(nlohmann::json{
      {"basic", kUser + ":" + kPassword},
      {"routes",
       {{blob_path, {{"status", 302}, {"headers", {{"Location", "http://localhost:{port}/public/blob"}}}}},
        {"/public/blob", {{"public", true}, {"body_file", blob_file(blob).string()}}}}}});
  auto driver = load_driver(registry.host());
  std::string fetched;
  ASSERT_NO_THROW(fetched = fetch_blob(*driver, registry.host(), blob));
  EXPECT_TRUE(fetched == blob) << "the redirected blob arrived changed";
  EXPECT_EQ(authorization_of(requests_for(registry, blob_path).back()), kBasicAuthorization);
  const auto served = requests_for(registry, "/public/blob");
  ASSERT_EQ(served.size(), 1u) << registry.requests().dump();
  EXPECT_EQ(served[0]["headers"].value("host", ""), "localhost:" + std::to_string(registry.port()));
  EXPECT_EQ(authorization_of(served[0]), "") << served[0].dump();
}

TEST_F(RegistryHttpTest, RedirectOnTheSameHostKeepsAuthorization) {
  const auto blob = incompressible_bytes(5000);
  const std::string blob_path = "/v2/test/app/blobs/" + mcore::test::sha256_hex_digest(blob);
  // A relative Location stays on the registry, which wants the credentials there too.
  FakeRegistry registry(
      nlohmann::json{{"basic", kUser + ":" + kPassword},
                     {"routes",
                      {{blob_path, {{"status", 307}, {"headers", {{"Location", "/v2/test/app/storage/1"}}}}},
                       {"/v2/test/app/storage/1", {{"body_file", blob_file(blob).string()}}}}}});
  auto driver = load_driver(registry.host());
  std::string fetched;
  ASSERT_NO_THROW(fetched = fetch_blob(*driver, registry.host(), blob));
  EXPECT_TRUE(fetched == blob) << "the redirected blob arrived changed";
  const auto served = requests_for(registry, "/v2/test/app/storage/1");
  ASSERT_EQ(served.size(), 1u) << registry.requests().dump();
  EXPECT_EQ(authorization_of(served[0]), kBasicAuthorization) << served[0].dump();
}

}  // namespace
