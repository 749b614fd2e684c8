// The registry-docker plugin against Debian's docker-registry on 127.0.0.1 (registry_fixture.hpp):
// anonymous, Basic and Bearer pulls, platform selection from an index, unknown tags, a corrupted blob,
// a stopped registry and resumed blob downloads. No root needed.
#include <cstdlib>
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
using mcore::test::incompressible_bytes;
using mcore::test::read_text;
using mcore::test::LayerEntry;
using mcore::test::RegistryAuth;
using mcore::test::RegistryFixture;

namespace {

using mcore::conformance::detail::StringSink;

std::string base64(const std::string& text) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += 3) {
    std::uint32_t chunk = static_cast<unsigned char>(text[i]) << 16;
    if (i + 1 < text.size()) chunk |= static_cast<unsigned char>(text[i + 1]) << 8;
    if (i + 2 < text.size()) chunk |= static_cast<unsigned char>(text[i + 2]);
    out += alphabet[(chunk >> 18) & 63];
    out += alphabet[(chunk >> 12) & 63];
    out += i + 1 < text.size() ? alphabet[(chunk >> 6) & 63] : '=';
    out += i + 2 < text.size() ? alphabet[chunk & 63] : '=';
  }
  return out;
}

// The test's two-layer image: a file, a directory, a symlink, then a whiteout over the first file.
std::vector<mcore::test::Layer> two_layers(const std::string& marker) {
  return {{LayerEntry::directory("etc"), LayerEntry::file("etc/marker", marker),
           LayerEntry::file("etc/gone", "x"), LayerEntry::symlink("etc/link", "marker")},
          {LayerEntry::whiteout("etc/gone"), LayerEntry::file("bin/tool", incompressible_bytes(200000), 0755)}};
}

class RegistryPullTest : public ::testing::Test {
 protected:
  // Loads the plugin with `config` (retries kept short so failing cases stay fast).
  std::shared_ptr<mcore::RegistryDriver> load_driver(nlohmann::json config = nlohmann::json::object()) {
    if (!config.contains("max_retries")) config["max_retries"] = 1;
    if (!config.contains("retry_delay_ms")) config["retry_delay_ms"] = 50;
    if (!config.contains("auth_file")) config["auth_file"] = (dir_.path() / "no-such-config.json").string();
    mcore::HostContext context;
    context.config = config;
    context.config_path = "registry";
    return mcore::test::load_plugin_driver<mcore::RegistryDriver>("mcore-registry-docker.so", context);
  }

  mcore::test::BuiltImage push_image(RegistryFixture& registry, const std::string& repo_tag,
                                     const std::string& marker = "one") {
    mcore::test::OciImageBuilder builder(dir_.path() / ("layout-" + std::to_string(++layouts_)));
    auto image = builder.add_image(two_layers(marker));
    builder.tag(image, "latest");
    registry.push(builder.dir(), repo_tag, "latest");
    layout_ = builder.dir();
    return image;
  }

  std::string layout_blob(const std::string& digest) const {
    return read_text(layout_ / "blobs/sha256" / digest.substr(7));
  }

  static mcore::ImageReference ref(const RegistryFixture& registry, const std::string& repository,
                                   const std::string& tag, const std::string& digest = "") {
    return {registry.host(), repository, tag, digest};
  }

  // Fetches config and every layer of `resolved` and checks each against its digest.
  void fetch_all_verified(mcore::RegistryDriver& driver, const mcore::ImageReference& reference,
                          const mcore::ResolvedManifest& resolved) {
    const auto manifest = nlohmann::json::parse(resolved.manifest_bytes);
    std::vector<nlohmann::json> blobs{manifest["config"]};
    for (const auto& layer : manifest["layers"]) blobs.push_back(layer);
    for (const auto& blob : blobs) {
      mcore::ContentDescriptor descriptor{
          blob["mediaType"], blob["digest"], blob["size"], {}, nlohmann::json::object()};
      StringSink sink;
      driver.fetch_blob(reference, descriptor, 0, sink);
      EXPECT_EQ(static_cast<std::int64_t>(sink.data.size()), descriptor.size) << descriptor.digest;
      EXPECT_EQ(mcore::test::sha256_hex_digest(sink.data), descriptor.digest);
    }
  }

  static std::string error_of(const std::function<void()>& action) {
    try {
      action();
    } catch (const mcore::Error& error) {
      return error.what();
    }
    return "(no error)";
  }

  mcore::test::TempDir dir_{"mcore-registry-test"};
  fs::path layout_;
  int layouts_ = 0;
};

const mcore::Platform kAmd64{"linux", "amd64", ""};

TEST_F(RegistryPullTest, AnonymousResolveAndFetchEveryBlob) {
  RegistryFixture registry;
  const auto image = push_image(registry, "test/app:v1");
  auto driver = load_driver();
  const auto reference = ref(registry, "test/app", "v1");
  const auto resolved = driver->resolve(reference, kAmd64);
  EXPECT_EQ(resolved.manifest.digest, image.manifest_digest);
  EXPECT_EQ(resolved.manifest.media_type, "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(resolved.index_digest, "");
  EXPECT_EQ(mcore::test::sha256_hex_digest(resolved.manifest_bytes), image.manifest_digest);
  fetch_all_verified(*driver, reference, resolved);

  // By digest too.
  const auto by_digest = driver->resolve(ref(registry, "test/app", "", image.manifest_digest), kAmd64);
  EXPECT_EQ(by_digest.manifest_bytes, resolved.manifest_bytes);
}

TEST_F(RegistryPullTest, ResumeReturnsTheRest) {
  RegistryFixture registry;
  const auto image = push_image(registry, "test/app:v1");
  auto driver = load_driver();
  const auto& layer = image.layers.at(1);
  const auto whole = layout_blob(layer.digest);
  ASSERT_GT(whole.size(), 150000u);
  const std::uint64_t offset = whole.size() / 2;
  StringSink sink;
  driver->fetch_blob(ref(registry, "test/app", "v1"),
                     {"", layer.digest, layer.size, {}, nlohmann::json::object()}, offset, sink);
  EXPECT_EQ(sink.data.size(), whole.size() - offset);
  EXPECT_TRUE(sink.data == whole.substr(offset)) << "the resumed bytes differ from the blob's tail";
}

TEST_F(RegistryPullTest, UnknownTagAndRepository) {
  RegistryFixture registry;
  push_image(registry, "test/app:v1");
  auto driver = load_driver();
  const auto tag_error = error_of([&] { driver->resolve(ref(registry, "test/app", "nope"), kAmd64); });
  EXPECT_NE(tag_error.find("manifest for " + registry.host() + "/test/app:nope not found: manifest unknown"),
            std::string::npos)
      << tag_error;
  const auto repo_error = error_of([&] { driver->resolve(ref(registry, "test/missing", "v1"), kAmd64); });
  EXPECT_NE(repo_error.find("not found"), std::string::npos) << repo_error;
}

TEST_F(RegistryPullTest, CorruptedBlobDoesNotMatchItsDigest) {
  RegistryFixture registry;
  const auto image = push_image(registry, "test/app:v1");
  const auto& layer = image.layers.at(0);
  const auto path = registry.blob_path(layer.digest);
  ASSERT_TRUE(fs::exists(path)) << path;
  auto bytes = read_text(path);
  bytes[bytes.size() / 2] ^= 0x5a;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;

  auto driver = load_driver();
  StringSink sink;
  driver->fetch_blob(ref(registry, "test/app", "v1"),
                     {"", layer.digest, layer.size, {}, nlohmann::json::object()}, 0, sink);
  // The driver streams; the caller's digest check is what catches it.
  EXPECT_EQ(sink.data, bytes);
  EXPECT_NE(mcore::test::sha256_hex_digest(sink.data), layer.digest);
}

TEST_F(RegistryPullTest, DockerHubImagesComeFromTheMirror) {
  RegistryFixture registry;
  const auto image = push_image(registry, "library/busybox:latest");
  // Served by the mirror, so Docker Hub (unreachable here) is never asked.
  auto driver = load_driver({{"mirrors", {"http://" + registry.host()}}});
  const mcore::ImageReference reference{"docker.io", "library/busybox", "latest", ""};
  const auto resolved = driver->resolve(reference, kAmd64);
  EXPECT_EQ(resolved.manifest.digest, image.manifest_digest);
  fetch_all_verified(*driver, reference, resolved);
}

TEST_F(RegistryPullTest, StoppedRegistryCannotBeReached) {
  RegistryFixture registry;
  push_image(registry, "test/app:v1");
  registry.stop();
  auto driver = load_driver();
  const auto error = error_of([&] { driver->resolve(ref(registry, "test/app", "v1"), kAmd64); });
  EXPECT_NE(error.find("cannot reach registry " + registry.host()), std::string::npos) << error;
}

TEST_F(RegistryPullTest, GarbageAnswerIsAClearError) {
  const auto root = dir_.path() / "web";
  fs::create_directories(root / "v2/test/app/manifests");
  std::ofstream(root / "v2/test/app/manifests/v1") << "<html><body>Welcome to nginx!</body></html>";
  mcore::test::LoopbackHttpServer server(root);
  auto driver = load_driver();
  const auto error = error_of([&] { driver->resolve({server.host(), "test/app", "v1", ""}, kAmd64); });
  EXPECT_NE(error.find("answered garbage"), std::string::npos) << error;
}

TEST_F(RegistryPullTest, MultiPlatformIndexSelectsArchitecture) {
  RegistryFixture registry;
  mcore::test::OciImageBuilder builder(dir_.path() / "multi");
  const auto amd64 = builder.add_image(two_layers("amd64"), "amd64");
  const auto arm64 = builder.add_image(two_layers("arm64"), "arm64", "v8");
  const auto index_digest = builder.tag_index({amd64, arm64}, "multi");
  registry.push(builder.dir(), "test/multi:v1", "multi");

  auto driver = load_driver();
  const auto reference = ref(registry, "test/multi", "v1");
  const auto on_amd64 = driver->resolve(reference, kAmd64);
  EXPECT_EQ(on_amd64.manifest.digest, amd64.manifest_digest);
  EXPECT_EQ(on_amd64.index_digest, index_digest);
  const auto on_arm64 = driver->resolve(reference, {"linux", "arm64", "v8"});
  EXPECT_EQ(on_arm64.manifest.digest, arm64.manifest_digest);
  fetch_all_verified(*driver, reference, on_arm64);
  const auto error = error_of([&] { driver->resolve(reference, {"linux", "s390x", ""}); });
  EXPECT_NE(error.find("linux/amd64, linux/arm64/v8"), std::string::npos) << error;
}

TEST_F(RegistryPullTest, BasicAuthWithDockerConfig) {
  RegistryFixture registry({RegistryAuth::basic});
  const auto image = push_image(registry, "test/private:v1");
  const auto& options = registry.options();
  const auto docker_config = dir_.path() / "docker";
  fs::create_directories(docker_config);
  std::ofstream(docker_config / "config.json")
      << nlohmann::json{{"auths",
                         {{registry.host(), {{"auth", base64(options.username + ":" + options.password)}}}}}}
             .dump();
  // The default path: $DOCKER_CONFIG/config.json.
  setenv("DOCKER_CONFIG", docker_config.c_str(), 1);
  auto driver = load_driver({{"max_retries", 0}, {"auth_file", ""}});
  const auto reference = ref(registry, "test/private", "v1");
  mcore::ResolvedManifest resolved;
  EXPECT_NO_THROW(resolved = driver->resolve(reference, kAmd64));
  EXPECT_EQ(resolved.manifest.digest, image.manifest_digest);
  fetch_all_verified(*driver, reference, resolved);
  // login saves to the same default file: DOCKER_CONFIG must still keep it out of the real ~/.docker.
  EXPECT_NO_THROW(driver->login(registry.host(), {options.username, options.password, ""}));
  unsetenv("DOCKER_CONFIG");
}

TEST_F(RegistryPullTest, BasicAuthWrongOrMissingCredentials) {
  RegistryFixture registry({RegistryAuth::basic});
  push_image(registry, "test/private:v1");
  std::ofstream(dir_.path() / "wrong.json")
      << nlohmann::json{{"auths", {{registry.host(), {{"auth", base64("mcore:wrong")}}}}}}.dump();
  const auto reference = ref(registry, "test/private", "v1");

  auto wrong = load_driver({{"auth_file", (dir_.path() / "wrong.json").string()}});
  const auto rejected = error_of([&] { wrong->resolve(reference, kAmd64); });
  EXPECT_NE(rejected.find("rejected the credentials"), std::string::npos) << rejected;

  auto anonymous = load_driver();
  const auto missing = error_of([&] { anonymous->resolve(reference, kAmd64); });
  EXPECT_NE(missing.find("requires authentication"), std::string::npos) << missing;

  const auto login = error_of([&] { anonymous->login(registry.host(), {"mcore", "wrong", ""}); });
  EXPECT_NE(login.find("rejected the credentials"), std::string::npos) << login;
}

TEST_F(RegistryPullTest, BearerTokensFromTheTokenServer) {
  RegistryFixture registry({RegistryAuth::token});
  const auto image = push_image(registry, "test/bearer:v1");
  const auto& options = registry.options();
  std::ofstream(dir_.path() / "good.json")
      << nlohmann::json{{"auths",
                         {{registry.host(), {{"auth", base64(options.username + ":" + options.password)}}}}}}
             .dump();
  std::ofstream(dir_.path() / "wrong.json")
      << nlohmann::json{{"auths", {{registry.host(), {{"auth", base64(options.username + ":nope")}}}}}}
             .dump();
  const auto reference = ref(registry, "test/bearer", "v1");

  auto driver = load_driver({{"auth_file", (dir_.path() / "good.json").string()}});
  const int before = registry.tokens_issued();
  const auto resolved = driver->resolve(reference, kAmd64);
  EXPECT_EQ(resolved.manifest.digest, image.manifest_digest);
  fetch_all_verified(*driver, reference, resolved);
  // One scope, one token: the manifest and all three blobs share it.
  EXPECT_EQ(registry.tokens_issued() - before, 1);

  auto wrong = load_driver({{"auth_file", (dir_.path() / "wrong.json").string()}});
  const auto rejected = error_of([&] { wrong->resolve(reference, kAmd64); });
  EXPECT_NE(rejected.find("rejected the credentials"), std::string::npos) << rejected;
}

}  // namespace
