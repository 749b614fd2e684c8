#include "mcore/image_reference.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mcore/error.hpp"

namespace mcore {
namespace {

const std::string kHex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kDigest = "sha256:" + kHex;

struct Valid {
  std::string text;
  std::string registry;
  std::string repository;
  std::string tag;
  std::string digest;
  std::string familiar;
};

// Expected results follow distribution/reference (Docker's own parser).
const std::vector<Valid> kValid = {
    {"alpine", "docker.io", "library/alpine", "latest", "", "alpine:latest"},
    {"alpine:3.19", "docker.io", "library/alpine", "3.19", "", "alpine:3.19"},
    {"library/alpine", "docker.io", "library/alpine", "latest", "", "alpine:latest"},
    {"docker.io/alpine", "docker.io", "library/alpine", "latest", "", "alpine:latest"},
    {"docker.io/library/alpine:edge", "docker.io", "library/alpine", "edge", "", "alpine:edge"},
    {"index.docker.io/alpine", "docker.io", "library/alpine", "latest", "", "alpine:latest"},
    {"user/app", "docker.io", "user/app", "latest", "", "user/app:latest"},
    {"user/app:1", "docker.io", "user/app", "1", "", "user/app:1"},
    {"library/a/b", "docker.io", "library/a/b", "latest", "", "library/a/b:latest"},
    {"localhost/x", "localhost", "x", "latest", "", "localhost/x:latest"},
    {"localhost:5000/x", "localhost:5000", "x", "latest", "", "localhost:5000/x:latest"},
    {"localhost:5000/x:y", "localhost:5000", "x", "y", "", "localhost:5000/x:y"},
    {"host.example.com:443/a/b:tag", "host.example.com:443", "a/b", "tag", "",
     "host.example.com:443/a/b:tag"},
    {"quay.io/coreos/etcd", "quay.io", "coreos/etcd", "latest", "", "quay.io/coreos/etcd:latest"},
    {"127.0.0.1:5000/app", "127.0.0.1:5000", "app", "latest", "", "127.0.0.1:5000/app:latest"},
    {"[::1]:5000/app", "[::1]:5000", "app", "latest", "", "[::1]:5000/app:latest"},
    {"[2001:db8::1]/app:v1", "[2001:db8::1]", "app", "v1", "", "[2001:db8::1]/app:v1"},
    {"my-registry.local/team/svc", "my-registry.local", "team/svc", "latest", "",
     "my-registry.local/team/svc:latest"},
    {"Registry.Example.com/app", "Registry.Example.com", "app", "latest", "",
     "Registry.Example.com/app:latest"},
    {"a.b-c--d/f", "a.b-c--d", "f", "latest", "", "a.b-c--d/f:latest"},
    {"user/a.b_c__d-e---f", "docker.io", "user/a.b_c__d-e---f", "latest", "", "user/a.b_c__d-e---f:latest"},
    {"alpine:Latest_1.0-rc", "docker.io", "library/alpine", "Latest_1.0-rc", "", "alpine:Latest_1.0-rc"},
    {"alpine:_", "docker.io", "library/alpine", "_", "", "alpine:_"},
    {"alpine:" + std::string(128, 'a'), "docker.io", "library/alpine", std::string(128, 'a'), "",
     "alpine:" + std::string(128, 'a')},
    {"alpine@" + kDigest, "docker.io", "library/alpine", "", kDigest, "alpine@" + kDigest},
    {"alpine:3.19@" + kDigest, "docker.io", "library/alpine", "3.19", kDigest, "alpine:3.19@" + kDigest},
    {"localhost:5000/x@" + kDigest, "localhost:5000", "x", "", kDigest, "localhost:5000/x@" + kDigest},
    {"localhost:5000", "docker.io", "library/localhost", "5000", "", "localhost:5000"},
    {"0123456789abcdef", "docker.io", "library/0123456789abcdef", "latest", "", "0123456789abcdef:latest"},
};

struct Invalid {
  std::string text;
  std::string reason;  // a substring of the error message
};

const std::vector<Invalid> kInvalid = {
    {"", "repository name must have at least one component"},
    {"Alpine", "repository name must be lowercase"},
    {"user/App:1", "repository name must be lowercase"},
    {"localhost:5000/App", "repository name must be lowercase"},
    {"alpine:", "empty tag"},
    {"alpine:.x", "tag must start with"},
    {"alpine:-x", "tag must start with"},
    {"alpine:a+b", "may hold only letters"},
    {"alpine:" + std::string(129, 'a'), "tag is longer than 128 characters"},
    {"alpine//x", "empty component"},
    {"/alpine", "empty component"},
    {"alpine/", "empty component"},
    {"docker.io/", "at least one component"},
    {":tag", "at least one component"},
    {"a..b", "may hold only a-z"},
    {"-alpine", "may hold only a-z"},
    {"alpine-", "may hold only a-z"},
    {"a___b", "may hold only a-z"},
    {"a b", "may hold only a-z"},
    {"alpine@sha256:abc", "64 hex digits"},
    {"alpine@sha256:" + std::string(64, 'A'), "lowercase hex"},
    {"alpine@sha256:" + std::string(64, 'g'), "sha256:<64 hex digits>"},
    {"alpine@md5:" + std::string(32, 'a'), "unsupported digest algorithm"},
    {"alpine@sha512:" + std::string(128, 'a'), "unsupported digest algorithm"},
    {"alpine@", "sha256:<64 hex digits>"},
    {"alpine@" + kHex, "sha256:<64 hex digits>"},
    {kHex, "64-character hexadecimal"},
    {"-bad.example.com/x", "not a valid host"},
    {"host.example.com:/x", "not a valid host"},
    {"host.example.com:50a/x", "not a valid host"},
    {"[::1/x", "not a valid host"},
    {"a.b_c/f", "not a valid host"},
    {"[]:5000/x", "not a valid host"},
    {"user/" + std::string(250, 'a'), "must not be more than 255 characters"},
};

TEST(ImageReference, ParsesAndNormalisesValidReferences) {
  for (const auto& expected : kValid) {
    SCOPED_TRACE("reference \"" + expected.text + "\"");
    ImageReference reference;
    try {
      reference = parse_image_reference(expected.text);
    } catch (const Error& error) {
      ADD_FAILURE() << "refused: " << error.what();
      continue;
    }
    EXPECT_EQ(reference.registry, expected.registry);
    EXPECT_EQ(reference.repository, expected.repository);
    EXPECT_EQ(reference.tag, expected.tag);
    EXPECT_EQ(reference.digest, expected.digest);
    EXPECT_EQ(familiar_name(reference), expected.familiar);
  }
}

TEST(ImageReference, RefusesInvalidReferencesWithTheReason) {
  for (const auto& expected : kInvalid) {
    SCOPED_TRACE("reference \"" + expected.text + "\"");
    try {
      const auto reference = parse_image_reference(expected.text);
      ADD_FAILURE() << "accepted as " << to_string(reference);
    } catch (const Error& error) {
      const std::string message = error.what();
      EXPECT_TRUE(message.starts_with("invalid reference format: ")) << message;
      EXPECT_NE(message.find(expected.reason), std::string::npos)
          << "expected \"" << expected.reason << "\" in \"" << message << "\"";
      EXPECT_FALSE(error.hint().empty()) << message;
    }
  }
}

TEST(ImageReference, ErrorsAreExactForTheCommonCase) {
  try {
    parse_image_reference("Alpine");
    FAIL() << "accepted";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "invalid reference format: repository name must be lowercase");
    EXPECT_NE(error.hint().find("\"alpine\""), std::string::npos) << error.hint();
  }
}

TEST(ImageReference, ToStringAndFamiliarNameRoundTrip) {
  for (const auto& expected : kValid) {
    SCOPED_TRACE("reference \"" + expected.text + "\"");
    const ImageReference reference = parse_image_reference(expected.text);
    const std::string full = to_string(reference);
    // The full form is already normalised; the familiar form normalises back to it.
    EXPECT_EQ(to_string(parse_image_reference(full)), full);
    EXPECT_EQ(to_string(parse_image_reference(familiar_name(reference))), full);
  }
  EXPECT_EQ(to_string(parse_image_reference("alpine")), "docker.io/library/alpine:latest");
  EXPECT_EQ(to_string(parse_image_reference("localhost:5000/x@" + kDigest)), "localhost:5000/x@" + kDigest);
  EXPECT_EQ(to_string(parse_image_reference("a:1@" + kDigest)), "docker.io/library/a:1@" + kDigest);
}

TEST(ImageReference, NameLengthCountsTheNormalisedName) {
  // "docker.io/" + 245 characters is exactly 255.
  const std::string longest = "user/" + std::string(240, 'a');
  EXPECT_EQ(parse_image_reference(longest).repository.size(), 245u);
  EXPECT_THROW(parse_image_reference(longest + "a"), Error);
}

}  // namespace
}  // namespace mcore
