#include "mcore/conformance/registry_conformance.hpp"

#include <algorithm>

#include "kit_internal.hpp"

namespace mcore::conformance {

using detail::sha256_digest;
using detail::throws_error;

namespace {

using detail::StringSink;

// The config and layers an image manifest (OCI or Docker schema 2) lists.
std::vector<ContentDescriptor> blobs_of(const std::string& manifest_bytes) {
  const auto manifest = nlohmann::json::parse(manifest_bytes);
  std::vector<nlohmann::json> listed{manifest.at("config")};
  for (const auto& layer : manifest.at("layers")) listed.push_back(layer);
  std::vector<ContentDescriptor> blobs;
  for (const auto& blob : listed) {
    ContentDescriptor descriptor;
    descriptor.media_type = blob.value("mediaType", "");
    descriptor.digest = blob.at("digest").get<std::string>();
    descriptor.size = blob.at("size").get<std::int64_t>();
    blobs.push_back(descriptor);
  }
  return blobs;
}

}  // namespace

void PrintTo(const RegistryTarget& target, std::ostream* out) { *out << "registry driver " << target.name; }

struct RegistryConformance::State {
  std::unique_ptr<detail::DriverHarness> harness;
  std::shared_ptr<RegistryDriver> driver;
  RegistryImages images;

  ResolvedManifest resolve_served() { return driver->resolve(images.served, images.platform); }
  std::string fetch(const ContentDescriptor& blob, std::uint64_t offset = 0) {
    StringSink sink;
    driver->fetch_blob(images.served, blob, offset, sink);
    return sink.data;
  }
};

RegistryConformance::RegistryConformance() : state_(std::make_unique<State>()) {}
RegistryConformance::~RegistryConformance() = default;

void RegistryConformance::SetUp() {
  const RegistryTarget& target = GetParam();
  if (auto reason = detail::skip_reason(target.unavailable, false); !reason.empty()) GTEST_SKIP() << reason;
  ASSERT_TRUE(target.images) << "the target has no images function";
  state_->images = target.images();
  state_->harness = std::make_unique<detail::DriverHarness>("/var/tmp", target.name);
  nlohmann::json config =
      target.config ? target.config(state_->harness->scratch()) : nlohmann::json::object();
  state_->driver = detail::make_driver<RegistryDriver>(
      target.factory, state_->harness->context(config, "registry"), "RegistryDriver");
}

void RegistryConformance::TearDown() {
  state_->driver.reset();
  if (state_->harness) state_->harness->report_log_on_failure();
  state_->harness.reset();
}

TEST_P(RegistryConformance, ResolveReturnsTheExpectedVerifiedManifest) {
  const ResolvedManifest resolved = state_->resolve_served();
  EXPECT_EQ(resolved.manifest.digest, state_->images.manifest_digest);
  EXPECT_EQ(sha256_digest(resolved.manifest_bytes), resolved.manifest.digest)
      << "manifest_bytes do not match";
  EXPECT_EQ(resolved.manifest.size, static_cast<std::int64_t>(resolved.manifest_bytes.size()));
  EXPECT_FALSE(resolved.manifest.media_type.empty()) << "no media type";
  EXPECT_NO_THROW(blobs_of(resolved.manifest_bytes)) << "not an image manifest with config and layers";
}

TEST_P(RegistryConformance, ResolveByDigestReturnsTheSameManifest) {
  ImageReference by_digest = state_->images.served;
  by_digest.tag.clear();
  by_digest.digest = state_->images.manifest_digest;
  const ResolvedManifest resolved = state_->driver->resolve(by_digest, state_->images.platform);
  EXPECT_EQ(resolved.manifest.digest, state_->images.manifest_digest);
  EXPECT_EQ(sha256_digest(resolved.manifest_bytes), state_->images.manifest_digest);
}

TEST_P(RegistryConformance, FetchBlobStreamsEveryBlobIntact) {
  const ResolvedManifest resolved = state_->resolve_served();
  for (const auto& blob : blobs_of(resolved.manifest_bytes)) {
    const std::string bytes = state_->fetch(blob);
    EXPECT_EQ(static_cast<std::int64_t>(bytes.size()), blob.size) << blob.digest;
    EXPECT_EQ(sha256_digest(bytes), blob.digest);
  }
}

TEST_P(RegistryConformance, FetchBlobResumesAtAnOffset) {
  const auto blobs = blobs_of(state_->resolve_served().manifest_bytes);
  const auto largest = *std::max_element(blobs.begin(), blobs.end(),
                                         [](const auto& a, const auto& b) { return a.size < b.size; });
  ASSERT_GT(largest.size, 1) << "no blob to resume within";
  const std::string whole = state_->fetch(largest);
  const auto offset = static_cast<std::uint64_t>(largest.size / 2);
  const std::string tail = state_->fetch(largest, offset);
  EXPECT_EQ(tail.size(), whole.size() - offset) << "bytes from offset " << offset;
  EXPECT_TRUE(tail == whole.substr(offset))
      << "the bytes from offset " << offset << " differ from the whole blob's";
}

TEST_P(RegistryConformance, UnknownImagesAreErrors) {
  std::string message;
  EXPECT_TRUE(throws_error([&] { state_->driver->resolve(state_->images.missing, state_->images.platform); },
                           &message))
      << "an image the driver cannot serve";
  ImageReference unknown_digest = state_->images.served;
  unknown_digest.tag.clear();
  unknown_digest.digest = "sha256:" + std::string(64, '0');
  EXPECT_TRUE(
      throws_error([&] { state_->driver->resolve(unknown_digest, state_->images.platform); }, &message))
      << "a digest the repository does not have";
}

TEST_P(RegistryConformance, AnUnknownBlobIsAnError) {
  ContentDescriptor blob;
  blob.media_type = "application/vnd.oci.image.layer.v1.tar";
  blob.digest = "sha256:" + std::string(64, '1');
  blob.size = 10;
  StringSink sink;
  EXPECT_TRUE(throws_error([&] { state_->driver->fetch_blob(state_->images.served, blob, 0, sink); }));
}

TEST_P(RegistryConformance, LogoutWithoutSavedCredentialsReturnsFalse) {
  // Nothing listens there: logout contacts no registry.
  bool removed = true;
  EXPECT_NO_THROW(removed = state_->driver->logout("127.0.0.1:9"));
  EXPECT_FALSE(removed);
}

TEST_P(RegistryConformance, LoginChecksCredentialsAndLogoutForgetsThem) {
  const RegistryImages& images = state_->images;
  if (images.login_registry.empty()) GTEST_SKIP() << "the target names no registry that checks credentials";
  EXPECT_TRUE(throws_error([&] {
    state_->driver->login(images.login_registry, images.rejected_credentials);
  })) << "rejected credentials";
  EXPECT_FALSE(state_->driver->logout(images.login_registry)) << "the rejected login saved credentials";
  ASSERT_NO_THROW(state_->driver->login(images.login_registry, images.accepted_credentials));
  EXPECT_TRUE(state_->driver->logout(images.login_registry)) << "logout found no saved credentials";
  EXPECT_FALSE(state_->driver->logout(images.login_registry)) << "a second logout";
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(RegistryConformance);

namespace detail {
int link_registry_conformance() { return 0; }
}  // namespace detail

}  // namespace mcore::conformance
