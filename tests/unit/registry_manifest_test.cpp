// Manifest and index parsing, media types, digests and platform selection of the registry-docker plugin.
#include <gtest/gtest.h>

#include "docker_registry_driver.hpp"
#include "manifest.hpp"
#include "mcore/error.hpp"

namespace {

using namespace mcore::registry;

const std::string kDigestA = "sha256:" + std::string(64, 'a');
const std::string kDigestB = "sha256:" + std::string(64, 'b');
const std::string kDigestC = "sha256:" + std::string(64, 'c');
const std::string kDigestD = "sha256:" + std::string(64, 'd');

std::string entry(const std::string& digest, const std::string& platform,
                  const std::string& annotations = "") {
  return R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + digest +
         R"(","size":100,"platform":)" + platform +
         (annotations.empty() ? "" : R"(,"annotations":)" + annotations) + "}";
}

const std::string kIndex =
    R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" +
    entry(kDigestD, R"({"os":"unknown","architecture":"unknown"})",
          R"({"vnd.docker.reference.type":"attestation-manifest"})") +
    "," + entry(kDigestA, R"({"os":"linux","architecture":"amd64"})") + "," +
    entry(kDigestB, R"({"os":"linux","architecture":"arm64","variant":"v8"})") + "," +
    entry(kDigestC, R"({"os":"linux","architecture":"arm","variant":"v7"})") + "]}";

TEST(RegistryManifest, AcceptListsAllFourTypes) {
  const auto accept = manifest_accept_header();
  for (auto type : {kOciIndex, kOciManifest, kDockerList, kDockerManifest}) {
    EXPECT_NE(accept.find(type), std::string::npos) << type;
  }
}

TEST(RegistryManifest, Sha256AndVerify) {
  EXPECT_EQ(sha256_digest(""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_NO_THROW(
      verify_digest("", "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "x"));
  try {
    verify_digest("tampered", kDigestA, "manifest of x");
    FAIL() << "expected a digest mismatch";
  } catch (const mcore::Error& error) {
    EXPECT_NE(std::string(error.what()).find("digest mismatch"), std::string::npos) << error.what();
  }
  EXPECT_THROW(verify_digest("", "sha512:00", "x"), mcore::Error);
}

TEST(RegistryManifest, DetectMediaType) {
  EXPECT_EQ(detect_media_type("application/vnd.docker.distribution.manifest.v2+json; charset=utf-8", "{}"),
            kDockerManifest);
  EXPECT_EQ(detect_media_type("application/json", kIndex), kOciIndex);
  EXPECT_EQ(detect_media_type("", R"({"schemaVersion":2,"manifests":[]})"), kOciIndex);
  EXPECT_EQ(detect_media_type("", R"({"schemaVersion":2,"config":{},"layers":[]})"), kOciManifest);
  EXPECT_THROW(detect_media_type("text/html", "<html>garbage</html>"), mcore::Error);
  EXPECT_THROW(detect_media_type("", R"({"schemaVersion":1,"fsLayers":[]})"), mcore::Error);
  // Found by fuzz_registry_manifest: a schemaVersion of another type was a raw json.exception.
  EXPECT_THROW(detect_media_type("", R"({"schemaVersion":"1"})"), mcore::Error);
}

TEST(RegistryManifest, ParseImageManifest) {
  const auto manifest = parse_image_manifest(R"({"schemaVersion":2,
    "mediaType":"application/vnd.docker.distribution.manifest.v2+json",
    "config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":")" +
                                             kDigestA + R"(","size":1469},
    "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":")" +
                                             kDigestB + R"(","size":3370628},
              {"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":")" +
                                             kDigestC + R"(","size":12,
               "urls":["https://example.com/l"],"annotations":{"k":"v"}}]})");
  EXPECT_EQ(manifest.config.digest, kDigestA);
  EXPECT_EQ(manifest.config.size, 1469);
  ASSERT_EQ(manifest.layers.size(), 2u);
  EXPECT_EQ(manifest.layers[0].size, 3370628);
  EXPECT_EQ(manifest.layers[1].urls.at(0), "https://example.com/l");
  EXPECT_EQ(manifest.layers[1].annotations.at("k"), "v");
}

TEST(RegistryManifest, MalformedManifestsAreErrors) {
  EXPECT_THROW(parse_image_manifest("[]"), mcore::Error);
  EXPECT_THROW(parse_image_manifest(R"({"layers":[]})"), mcore::Error);
  EXPECT_THROW(parse_image_manifest(R"({"config":{"digest":")" + kDigestA + R"(","size":-1},"layers":[]})"),
               mcore::Error);
  EXPECT_THROW(parse_image_manifest(R"({"config":{"digest":"nocolon","size":1},"layers":[]})"), mcore::Error);
  EXPECT_THROW(parse_index(R"({"manifests":{}})"), mcore::Error);
}

TEST(RegistryManifest, SelectAmd64) {
  const auto entries = parse_index(kIndex);
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(select_platform(entries, {"linux", "amd64", ""}).descriptor.digest, kDigestA);
}

TEST(RegistryManifest, SelectArm64Variant) {
  const auto entries = parse_index(kIndex);
  EXPECT_EQ(select_platform(entries, {"linux", "arm64", "v8"}).descriptor.digest, kDigestB);
  EXPECT_EQ(select_platform(entries, {"linux", "arm64", ""}).descriptor.digest, kDigestB);
  EXPECT_EQ(select_platform(entries, {"linux", "arm", "v7"}).descriptor.digest, kDigestC);
  EXPECT_THROW(select_platform(entries, {"linux", "arm", "v6"}), mcore::Error);
}

TEST(RegistryManifest, Arm64WithoutVariantMatchesV8) {
  const auto entries =
      parse_index(R"({"manifests":[)" + entry(kDigestB, R"({"os":"linux","architecture":"arm64"})") + "]}");
  EXPECT_EQ(select_platform(entries, {"linux", "arm64", "v8"}).descriptor.digest, kDigestB);
}

TEST(RegistryManifest, AttestationsAreSkipped) {
  const auto entries = parse_index(kIndex);
  EXPECT_TRUE(is_attestation(entries[0]));
  EXPECT_FALSE(is_attestation(entries[1]));
  // Even when asked for unknown/unknown, an attestation is never chosen.
  EXPECT_THROW(select_platform(entries, {"unknown", "unknown", ""}), mcore::Error);
  // Annotation alone marks one, whatever its platform says.
  const auto annotated =
      parse_index(R"({"manifests":[)" +
                  entry(kDigestD, R"({"os":"linux","architecture":"amd64"})",
                        R"({"vnd.docker.reference.type":"attestation-manifest"})") +
                  "," + entry(kDigestA, R"({"os":"linux","architecture":"amd64"})") + "]}");
  EXPECT_EQ(select_platform(annotated, {"linux", "amd64", ""}).descriptor.digest, kDigestA);
}

TEST(RegistryManifest, NoMatchListsAvailablePlatforms) {
  const auto entries = parse_index(kIndex);
  try {
    select_platform(entries, {"linux", "s390x", ""});
    FAIL() << "expected an Error";
  } catch (const mcore::Error& error) {
    const std::string text = error.what();
    EXPECT_NE(text.find("linux/s390x"), std::string::npos) << text;
    EXPECT_NE(text.find("linux/amd64, linux/arm64/v8, linux/arm/v7"), std::string::npos) << text;
    EXPECT_EQ(text.find("unknown"), std::string::npos) << text;
  }
}

}  // namespace

namespace {

TEST(RegistryDriverConfig, RejectsUnknownKeysAndBadValues) {
  const auto make = [](nlohmann::json config) {
    mcore::HostContext context;
    context.config = std::move(config);
    context.config_path = "registry";
    mcore::registry::DockerRegistryDriver driver(context);
  };
  EXPECT_NO_THROW(make(
      {{"mirrors", {"https://mirror.example.com"}}, {"insecure", {"reg.lan:5000"}}, {"max_retries", 0}}));
  try {
    make({{"mirors", {}}});
    FAIL() << "expected an Error";
  } catch (const mcore::Error& error) {
    EXPECT_NE(std::string(error.what()).find("registry.mirors"), std::string::npos) << error.what();
  }
  EXPECT_THROW(make({{"mirrors", {"mirror.example.com"}}}), mcore::Error);
  EXPECT_THROW(make({{"max_retries", -1}}), mcore::Error);
}

TEST(RegistryDriverConfig, LoopbackRegistries) {
  using mcore::registry::is_loopback_registry;
  EXPECT_TRUE(is_loopback_registry("localhost:5000"));
  EXPECT_TRUE(is_loopback_registry("127.0.0.1:5000"));
  EXPECT_TRUE(is_loopback_registry("[::1]:5000"));
  EXPECT_FALSE(is_loopback_registry("registry.example.com"));
  EXPECT_FALSE(is_loopback_registry("127example.com"));
  EXPECT_TRUE(is_loopback_registry("127.1.2.3"));
  // Names that merely look like loopback addresses resolve wherever their owner wants: TLS for them.
  EXPECT_FALSE(is_loopback_registry("127.0.0.1.attacker.example:5000"));
  EXPECT_FALSE(is_loopback_registry("127.evil.example"));
  EXPECT_FALSE(is_loopback_registry("localhost.attacker.example"));
  EXPECT_FALSE(is_loopback_registry("[::2]:5000"));
}

}  // namespace
