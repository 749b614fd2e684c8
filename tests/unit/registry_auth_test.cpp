// WWW-Authenticate parsing and Docker config.json reading of the registry-docker plugin.
#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "auth_challenge.hpp"
#include "docker_config.hpp"
#include "mcore/error.hpp"
#include "test_support.hpp"

namespace {

using mcore::registry::parse_www_authenticate;

TEST(AuthChallenge, DockerHubBearer) {
  const auto challenges = parse_www_authenticate(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull")");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].scheme, "bearer");
  EXPECT_EQ(challenges[0].params.at("realm"), "https://auth.docker.io/token");
  EXPECT_EQ(challenges[0].params.at("service"), "registry.docker.io");
  EXPECT_EQ(challenges[0].params.at("scope"), "repository:library/alpine:pull");
}

TEST(AuthChallenge, CommaInsideQuotedScope) {
  const auto challenges = parse_www_authenticate(
      R"(Bearer realm="https://ghcr.io/token", scope="repository:a/b:pull,push", service="ghcr.io")");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].params.at("scope"), "repository:a/b:pull,push");
  EXPECT_EQ(challenges[0].params.at("service"), "ghcr.io");
}

TEST(AuthChallenge, BasicWithRealmAndCaseInsensitiveScheme) {
  const auto challenges = parse_www_authenticate(R"(basic realm="Registry Realm")");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].scheme, "basic");
  EXPECT_EQ(challenges[0].params.at("realm"), "Registry Realm");
}

TEST(AuthChallenge, SeveralChallengesInOneHeader) {
  const auto challenges = parse_www_authenticate(
      R"(Basic realm="x", Bearer realm="https://t/token",service=reg , error="invalid_token")");
  ASSERT_EQ(challenges.size(), 2u);
  EXPECT_EQ(challenges[0].scheme, "basic");
  EXPECT_EQ(challenges[1].scheme, "bearer");
  EXPECT_EQ(challenges[1].params.at("service"), "reg");  // unquoted value
  EXPECT_EQ(challenges[1].params.at("error"), "invalid_token");
}

TEST(AuthChallenge, EscapedQuotesAndSpacesAroundEquals) {
  const auto challenges = parse_www_authenticate(R"(Bearer realm = "a\"b", Service="s")");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].params.at("realm"), "a\"b");
  EXPECT_EQ(challenges[0].params.at("service"), "s");  // keys are lowercased
}

TEST(AuthChallenge, EmptyAndGarbage) {
  EXPECT_TRUE(parse_www_authenticate("").empty());
  const auto challenges = parse_www_authenticate(R"(Bearer realm="unterminated)");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].params.at("realm"), "unterminated");
}

TEST(DockerConfig, AuthsBase64AndIdentityToken) {
  const auto config = mcore::registry::parse_docker_config(R"({
    "auths": {
      "https://index.docker.io/v1/": {"auth": "dXNlcjpwYTpzcw=="},
      "localhost:5000": {"auth": "YWxpY2U6c2VjcmV0"},
      "https://registry.example.com/v2/": {"identitytoken": "refresh-123"},
      "empty.example.com": {}
    },
    "credHelpers": {"gcr.io": "gcloud"},
    "credsStore": "desktop"
  })",
                                                           "config.json");
  ASSERT_EQ(config.auths.count("docker.io"), 1u);
  EXPECT_EQ(config.auths.at("docker.io").username, "user");
  EXPECT_EQ(config.auths.at("docker.io").password, "pa:ss");  // only the first colon separates
  EXPECT_EQ(config.auths.at("localhost:5000").username, "alice");
  EXPECT_EQ(config.auths.at("localhost:5000").password, "secret");
  EXPECT_EQ(config.auths.at("registry.example.com").identity_token, "refresh-123");
  EXPECT_EQ(config.auths.count("empty.example.com"), 0u);
  EXPECT_EQ(config.cred_helpers.at("gcr.io"), "gcloud");
  EXPECT_EQ(config.creds_store, "desktop");
}

TEST(DockerConfig, UnpaddedBase64) {
  // "bob:pw" is Ym9iOnB3 (no padding needed); "bo:p" is Ym86cA== and some tools drop the "==".
  const auto config = mcore::registry::parse_docker_config(R"({"auths": {"h": {"auth": "Ym86cA"}}})", "c");
  EXPECT_EQ(config.auths.at("h").username, "bo");
  EXPECT_EQ(config.auths.at("h").password, "p");
}

TEST(DockerConfig, MalformedIsAClearError) {
  try {
    mcore::registry::parse_docker_config("{not json", "/x/config.json");
    FAIL() << "expected an Error";
  } catch (const mcore::Error& error) {
    EXPECT_NE(std::string(error.what()).find("/x/config.json"), std::string::npos) << error.what();
  }
  EXPECT_THROW(mcore::registry::parse_docker_config(R"({"auths": {"h": {"auth": "bm9jb2xvbg=="}}})", "c"),
               mcore::Error);  // "nocolon"
}

TEST(DockerConfig, AuthKeyNormalisation) {
  using mcore::registry::auth_key;
  EXPECT_EQ(auth_key("https://index.docker.io/v1/"), "docker.io");
  EXPECT_EQ(auth_key("registry-1.docker.io"), "docker.io");
  EXPECT_EQ(auth_key("http://localhost:5000/v2/"), "localhost:5000");
  EXPECT_EQ(auth_key("quay.io"), "quay.io");
}

TEST(DockerConfig, MissingFileIsEmptyAndCredentialsLookup) {
  mcore::test::TempDir dir("mcore-registry-auth");
  EXPECT_TRUE(mcore::registry::load_docker_config(dir.path() / "absent.json").auths.empty());
  std::ofstream(dir.path() / "config.json") << R"({"auths": {"127.0.0.1:5000": {"auth": "dTpw"}}})";
  const auto config = mcore::registry::load_docker_config(dir.path() / "config.json");
  const auto found = mcore::registry::find_credentials(config, "127.0.0.1:5000");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->username, "u");
  EXPECT_FALSE(mcore::registry::find_credentials(config, "127.0.0.1:5001"));
}

TEST(DockerConfig, CredentialHelperIsRun) {
  mcore::test::TempDir dir("mcore-registry-helper");
  const auto helper = dir.path() / "docker-credential-mcoretest";
  std::ofstream(helper) << "#!/bin/sh\nread server\n"
                           "echo "
                           "\"{\\\"ServerURL\\\":\\\"$server\\\",\\\"Username\\\":\\\"h-user\\\","
                           "\\\"Secret\\\":\\\"$server\\\"}\"\n";
  std::filesystem::permissions(helper, std::filesystem::perms::owner_all);
  const std::string old_path = std::getenv("PATH") ? std::getenv("PATH") : "";
  setenv("PATH", (dir.path().string() + ":" + old_path).c_str(), 1);
  const auto config =
      mcore::registry::parse_docker_config(R"({"credHelpers": {"docker.io": "mcoretest"}})", "c");
  const auto found = mcore::registry::find_credentials(config, "docker.io");
  setenv("PATH", old_path.c_str(), 1);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->username, "h-user");
  EXPECT_EQ(found->password, "https://index.docker.io/v1/");  // helpers know Hub by its legacy URL
}

}  // namespace
