// Saving and erasing credentials in Docker's config file and through credential helpers (the
// registry-docker plugin's credential_store), as `mcore login` and `mcore logout` use them.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "credential_store.hpp"
#include "docker_config.hpp"
#include "mcore/error.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using mcore::Credentials;
using mcore::registry::erase_credentials;
using mcore::registry::save_credentials;
using mcore::test::read_text;
using nlohmann::json;

constexpr const char* kHubKey = "https://index.docker.io/v1/";

unsigned mode_of(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

void write_file(const fs::path& path, const std::string& text, fs::perms perms = fs::perms(0644)) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  fs::permissions(path, perms);
}

json read_json(const fs::path& path) { return json::parse(read_text(path)); }

std::string decoded_auth(const json& entry) {
  const auto config = mcore::registry::parse_docker_config(json{{"auths", {{"h", entry}}}}.dump(), "test");
  const auto& credentials = config.auths.at("h");
  return credentials.username + ":" + credentials.password;
}

// Every file name in `dir`, to catch temporary files left behind.
std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

// Puts a directory first on PATH for one test and restores PATH afterwards.
class PathPrefix {
 public:
  explicit PathPrefix(const fs::path& dir) : old_(std::getenv("PATH") ? std::getenv("PATH") : "") {
    ::setenv("PATH", (dir.string() + ":" + old_).c_str(), 1);
  }
  ~PathPrefix() { ::setenv("PATH", old_.c_str(), 1); }
  PathPrefix(const PathPrefix&) = delete;
  PathPrefix& operator=(const PathPrefix&) = delete;

 private:
  std::string old_;
};

class RegistryCredentials : public ::testing::Test {
 protected:
  // A docker-credential-test helper that records each request in <dir>/<action>.input and answers `get`
  // with what was stored. With `fail_store`, `store` fails saying "keychain locked".
  void install_helper(bool fail_store = false) {
    std::string script = R"(#!/bin/sh
cat > "@LOG@/$1.input"
case "$1" in
  store) @STORE@ ;;
  get) if [ -f "@LOG@/store.input" ] && [ ! -f "@LOG@/erase.input" ]; then cat "@LOG@/store.input";
       else echo "credentials not found in native keychain"; exit 1; fi ;;
  erase) exit 0 ;;
esac
)";
    replace_all(script, "@LOG@", dir_.path().string());
    replace_all(script, "@STORE@", fail_store ? "echo 'keychain locked'; exit 1" : "exit 0");
    fs::create_directories(bin_);
    write_file(bin_ / "docker-credential-test", script, fs::perms(0755));
    path_ = std::make_unique<PathPrefix>(bin_);
  }

  std::string helper_input(const std::string& action) const {
    return read_text(dir_.path() / (action + ".input"));
  }

  mcore::test::TempDir dir_{"mcore-credentials"};
  fs::path docker_ = dir_.path() / "docker";
  fs::path file_ = docker_ / "config.json";
  fs::path bin_ = dir_.path() / "bin";
  std::unique_ptr<PathPrefix> path_;
};

TEST_F(RegistryCredentials, SavingKeepsEveryOtherKeyAndMakesTheFilePrivate) {
  fs::create_directories(docker_);
  const json before = {{"auths", {{"other.example.com", {{"auth", "b3RoZXI6cGFzcw=="}, {"email", "x@y"}}}}},
                       {"psFormat", "table {{.ID}}"},
                       {"proxies", {{"default", {{"httpProxy", "http://proxy:3128"}}}}},
                       {"credHelpers", json::object()}};
  write_file(file_, before.dump(), fs::perms(0644));

  save_credentials(file_, "127.0.0.1:5000", {"alice", "s3cret:with:colons", ""});

  EXPECT_EQ(mode_of(file_), 0600u);
  json after = read_json(file_);
  ASSERT_TRUE(after["auths"].contains("127.0.0.1:5000")) << after.dump();
  EXPECT_EQ(decoded_auth(after["auths"]["127.0.0.1:5000"]), "alice:s3cret:with:colons");
  // Everything else is exactly as it was.
  after["auths"].erase("127.0.0.1:5000");
  EXPECT_EQ(after, before);
  // And the reader finds the new credentials.
  const auto found =
      mcore::registry::find_credentials(mcore::registry::load_docker_config(file_), "127.0.0.1:5000");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->username, "alice");
  EXPECT_EQ(found->password, "s3cret:with:colons");
  EXPECT_EQ(names_in(docker_), std::vector<std::string>{"config.json"});
}

TEST_F(RegistryCredentials, AMissingFileAndDirectoriesAreCreatedPrivate) {
  const fs::path nested = dir_.path() / "home" / ".docker";
  const fs::path file = nested / "config.json";
  const mode_t old_umask = ::umask(0);  // the modes must not depend on the umask
  save_credentials(file, "localhost:5000", {"bob", "pw", ""});
  ::umask(old_umask);
  EXPECT_EQ(mode_of(dir_.path() / "home"), 0700u);
  EXPECT_EQ(mode_of(nested), 0700u);
  EXPECT_EQ(mode_of(file), 0600u);
  const auto saved = read_json(file);
  EXPECT_EQ(saved, (json{{"auths", {{"localhost:5000", {{"auth", "Ym9iOnB3"}}}}}})) << saved.dump();
  EXPECT_EQ(names_in(nested), std::vector<std::string>{"config.json"});
}

TEST_F(RegistryCredentials, AnExistingDirectoryKeepsItsMode) {
  fs::create_directories(docker_);
  fs::permissions(docker_, fs::perms(0755));
  save_credentials(file_, "localhost:5000", {"bob", "pw", ""});
  EXPECT_EQ(mode_of(docker_), 0755u);
  EXPECT_EQ(mode_of(file_), 0600u);
}

TEST_F(RegistryCredentials, SavingReplacesTheRegistrysEntryAndIdentityTokensStayTokens) {
  fs::create_directories(docker_);
  write_file(file_, json{{"auths", {{"https://localhost:5000/v2/", {{"auth", "b2xkOm9sZA=="}}}}}}.dump());
  save_credentials(file_, "localhost:5000", {"", "", "refresh-token-1"});
  const auto saved = read_json(file_);
  // The URL-spelled entry names the same registry: replaced, not kept beside the new one.
  EXPECT_EQ(saved, (json{{"auths", {{"localhost:5000", {{"identitytoken", "refresh-token-1"}}}}}}))
      << saved.dump();
  const auto found =
      mcore::registry::find_credentials(mcore::registry::load_docker_config(file_), "localhost:5000");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->identity_token, "refresh-token-1");
  EXPECT_EQ(found->username, "");
}

TEST_F(RegistryCredentials, DockerHubIsSavedUnderDockersOwnKey) {
  fs::create_directories(docker_);
  write_file(file_, json{{"auths",
                          {{"docker.io", {{"auth", "b2xkOm9sZA=="}}},
                           {"index.docker.io", {{"auth", "b2xkOm9sZA=="}}},
                           {"quay.io", {{"auth", "cTpx"}}}}}}
                        .dump());
  save_credentials(file_, "docker.io", {"hubuser", "hubpass", ""});
  auto saved = read_json(file_);
  EXPECT_EQ(saved["auths"].size(), 2u) << saved.dump();
  ASSERT_TRUE(saved["auths"].contains(kHubKey)) << saved.dump();
  EXPECT_EQ(decoded_auth(saved["auths"][kHubKey]), "hubuser:hubpass");
  EXPECT_TRUE(saved["auths"].contains("quay.io"));

  // Every spelling of Docker Hub names the same entry.
  save_credentials(file_, "registry-1.docker.io", {"hubuser", "second", ""});
  saved = read_json(file_);
  EXPECT_EQ(saved["auths"].size(), 2u) << saved.dump();
  EXPECT_EQ(decoded_auth(saved["auths"][kHubKey]), "hubuser:second");
  EXPECT_TRUE(erase_credentials(file_, "https://index.docker.io/v1/"));
  EXPECT_EQ(read_json(file_), (json{{"auths", {{"quay.io", {{"auth", "cTpx"}}}}}}));
}

TEST_F(RegistryCredentials, LogoutRemovesOnlyThatRegistry) {
  fs::create_directories(docker_);
  const json before = {{"auths",
                        {{"a.example.com", {{"auth", "YTpi"}}},
                         {"b.example.com:5000", {{"auth", "YzpkZA=="}}},
                         {kHubKey, {{"auth", "aDpo"}}}}},
                       {"detachKeys", "ctrl-e,e"}};
  write_file(file_, before.dump(), fs::perms(0600));
  EXPECT_TRUE(erase_credentials(file_, "b.example.com:5000"));
  json expected = before;
  expected["auths"].erase("b.example.com:5000");
  EXPECT_EQ(read_json(file_), expected);
  EXPECT_EQ(mode_of(file_), 0600u);

  // Nothing left to forget: false, and the file is not rewritten.
  const auto text = read_text(file_);
  EXPECT_FALSE(erase_credentials(file_, "b.example.com:5000"));
  EXPECT_FALSE(erase_credentials(file_, "never.example.com"));
  EXPECT_EQ(read_text(file_), text);
  EXPECT_EQ(names_in(docker_), std::vector<std::string>{"config.json"});
}

TEST_F(RegistryCredentials, LogoutWithoutAFileCreatesNothing) {
  EXPECT_FALSE(erase_credentials(file_, "localhost:5000"));
  EXPECT_FALSE(fs::exists(docker_));
}

TEST_F(RegistryCredentials, AMalformedFileIsAnErrorAndLeftAlone) {
  fs::create_directories(docker_);
  for (const std::string& text : {std::string("{not json"), std::string(R"({"auths": "oops"})")}) {
    write_file(file_, text);
    try {
      save_credentials(file_, "localhost:5000", {"u", "p", ""});
      ADD_FAILURE() << "saved into " << text;
    } catch (const mcore::Error& error) {
      EXPECT_NE(std::string(error.what()).find(file_.string()), std::string::npos) << error.what();
    }
    EXPECT_EQ(read_text(file_), text);
    EXPECT_EQ(names_in(docker_), std::vector<std::string>{"config.json"});
  }
}

TEST_F(RegistryCredentials, AUserNameWithAColonIsRejected) {
  EXPECT_THROW(save_credentials(file_, "localhost:5000", {"a:b", "p", ""}), mcore::Error);
  EXPECT_FALSE(fs::exists(file_));
}

TEST_F(RegistryCredentials, ASymlinkedFileStaysASymlink) {
  fs::create_directories(docker_);
  write_file(dir_.path() / "real.json", R"({"auths": {}})");
  fs::create_symlink("../real.json", file_);
  save_credentials(file_, "localhost:5000", {"u", "p", ""});
  EXPECT_TRUE(fs::is_symlink(file_));
  EXPECT_TRUE(read_json(dir_.path() / "real.json")["auths"].contains("localhost:5000"));
}

TEST_F(RegistryCredentials, AnExistingFilesOwnerIsKept) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give the file another owner";
  fs::create_directories(docker_);
  write_file(file_, "{}");
  ASSERT_EQ(::chown(file_.c_str(), 4321, 4321), 0);
  save_credentials(file_, "localhost:5000", {"u", "p", ""});
  struct stat st {};
  ASSERT_EQ(::stat(file_.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 4321u);
  EXPECT_EQ(st.st_gid, 4321u);
}

TEST_F(RegistryCredentials, CredsStoreKeepsTheSecretOutOfTheFile) {
  install_helper();
  fs::create_directories(docker_);
  write_file(
      file_,
      json{{"credsStore", "test"}, {"auths", {{"localhost:5000", {{"auth", "b2xkOm9sZA=="}}}}}}.dump());

  save_credentials(file_, "localhost:5000", {"alice", "pw", ""});
  EXPECT_EQ(json::parse(helper_input("store")),
            (json{{"ServerURL", "localhost:5000"}, {"Username", "alice"}, {"Secret", "pw"}}));
  // Docker records the server with an empty entry, so that logout knows it; no secret in the file.
  EXPECT_EQ(read_json(file_),
            (json{{"credsStore", "test"}, {"auths", {{"localhost:5000", json::object()}}}}));
  EXPECT_EQ(mode_of(file_), 0600u);
  const auto found =
      mcore::registry::find_credentials(mcore::registry::load_docker_config(file_), "localhost:5000");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->username, "alice");
  EXPECT_EQ(found->password, "pw");

  EXPECT_TRUE(erase_credentials(file_, "localhost:5000"));
  EXPECT_EQ(helper_input("erase"), "localhost:5000\n");
  EXPECT_EQ(read_json(file_), (json{{"credsStore", "test"}, {"auths", json::object()}}));
  EXPECT_FALSE(
      mcore::registry::find_credentials(mcore::registry::load_docker_config(file_), "localhost:5000"));
}

TEST_F(RegistryCredentials, CredHelpersApplyToTheirRegistryOnly) {
  install_helper();
  fs::create_directories(docker_);
  write_file(file_, json{{"credHelpers", {{"docker.io", "test"}}}}.dump());

  save_credentials(file_, "docker.io", {"hub", "hubpw", ""});
  EXPECT_EQ(json::parse(helper_input("store"))["ServerURL"], kHubKey);
  save_credentials(file_, "localhost:5000", {"local", "localpw", ""});
  const auto saved = read_json(file_);
  EXPECT_EQ(saved["auths"][kHubKey], json::object()) << saved.dump();
  EXPECT_EQ(decoded_auth(saved["auths"]["localhost:5000"]), "local:localpw");

  EXPECT_TRUE(erase_credentials(file_, "docker.io"));
  EXPECT_EQ(helper_input("erase"), std::string(kHubKey) + "\n");
}

TEST_F(RegistryCredentials, AFailingHelperSavesNothing) {
  install_helper(/*fail_store=*/true);
  fs::create_directories(docker_);
  const std::string text = json{{"credsStore", "test"}}.dump();
  write_file(file_, text);
  try {
    save_credentials(file_, "localhost:5000", {"alice", "pw", ""});
    ADD_FAILURE() << "a failing helper did not fail the save";
  } catch (const mcore::Error& error) {
    EXPECT_NE(std::string(error.what()).find("keychain locked"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("docker-credential-test"), std::string::npos) << error.what();
  }
  EXPECT_EQ(read_text(file_), text);
  EXPECT_EQ(names_in(docker_), std::vector<std::string>{"config.json"});
}

TEST_F(RegistryCredentials, AMissingHelperIsAClearError) {
  fs::create_directories(docker_);
  write_file(file_, json{{"credsStore", "mcore-no-such-helper"}}.dump());
  try {
    save_credentials(file_, "localhost:5000", {"alice", "pw", ""});
    ADD_FAILURE() << "saved without the helper";
  } catch (const mcore::Error& error) {
    EXPECT_NE(std::string(error.what()).find("docker-credential-mcore-no-such-helper was not found"),
              std::string::npos)
        << error.what();
  }
}

}  // namespace
