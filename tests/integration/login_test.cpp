// mcore login / logout end to end: the credentials are checked against Debian's docker-registry (Basic
// auth and token auth), saved into a Docker config file in a temporary directory (registry.auth_file,
// so the real ~/.docker is never touched), and used by a following mcore pull.
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>

#include <gtest/gtest.h>

#include "oci_image_builder.hpp"
#include "registry_fixture.hpp"
#include "test_support.hpp"

namespace mcore::test {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

unsigned mode_of(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

std::size_t lines_in(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

class LoginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    // No retries: a registry that is down fails at once.
    sandbox_ = std::make_unique<McoreSandbox>(
        nlohmann::json{{"registry", {{"auth_file", auth_file_.string()}, {"max_retries", 0}}}});
  }

  void start_registry(RegistryAuth auth) {
    registry_ = std::make_unique<RegistryFixture>(RegistryFixtureOptions{auth});
  }

  // Pushes a one-layer image as `repo_tag` and returns the reference that pulls it.
  std::string push_image(const std::string& repo_tag) {
    OciImageBuilder builder(layouts_.path() / repo_tag.substr(0, repo_tag.find(':')));
    auto image =
        builder.add_image({{LayerEntry::directory("etc"), LayerEntry::file("etc/hello", "hello\n")}});
    builder.tag(image, "latest");
    registry_->push(builder.dir(), repo_tag, "latest");
    return registry_->host() + "/" + repo_tag;
  }

  const std::string& user() const { return registry_->options().username; }
  const std::string& password() const { return registry_->options().password; }

  CommandResult login_stdin(const std::string& secret) const {
    return sandbox_->mcore({"login", "-u", user(), "--password-stdin", registry_->host()}, secret + "\n");
  }

  nlohmann::json auths() const { return nlohmann::json::parse(read_text(auth_file_))["auths"]; }

  // Every file in the auth file's directory: no temporary file may stay behind.
  std::vector<std::string> docker_dir_files() const {
    std::vector<std::string> names;
    if (!fs::exists(auth_file_.parent_path())) return names;
    for (const auto& entry : fs::directory_iterator(auth_file_.parent_path()))
      names.push_back(entry.path().filename().string());
    return names;
  }

  TempDir home_{"mcore-login"};
  fs::path auth_file_ = home_.path() / "docker" / "config.json";
  TempDir layouts_{"mcore-layouts"};
  std::unique_ptr<RegistryFixture> registry_;
  std::unique_ptr<McoreSandbox> sandbox_;
};

TEST_F(LoginTest, BasicAuthLoginSavesCredentialsThatPullUses) {
  start_registry(RegistryAuth::basic);
  const auto image = push_image("private:1");
  auto anonymous = sandbox_->mcore({"pull", "-q", image});
  ASSERT_EQ(anonymous.exit_code, 125) << anonymous.out << anonymous.err;
  EXPECT_NE(anonymous.err.find("requires authentication"), std::string::npos) << anonymous.err;

  auto login = sandbox_->mcore({"login", "-u", user(), "-p", password(), registry_->host()});
  ASSERT_EQ(login.exit_code, 0) << login.out << login.err;
  EXPECT_EQ(login.out, "Login Succeeded\n");
  EXPECT_NE(login.err.find("WARNING! Using --password via the CLI is insecure"), std::string::npos)
      << login.err;

  EXPECT_EQ(mode_of(auth_file_), 0600u);
  EXPECT_EQ(mode_of(auth_file_.parent_path()), 0700u);
  const auto saved = auths();
  ASSERT_TRUE(saved.contains(registry_->host())) << saved.dump();
  EXPECT_EQ(saved[registry_->host()]["auth"], "bWNvcmU6czNjcmV0LXBhc3M=");  // base64 of mcore:s3cret-pass
  EXPECT_EQ(docker_dir_files(), std::vector<std::string>{"config.json"});

  auto pulled = sandbox_->mcore({"pull", "-q", image});
  EXPECT_EQ(pulled.exit_code, 0) << pulled.out << pulled.err;
  EXPECT_EQ(pulled.out, image + "\n");
}

TEST_F(LoginTest, TokenAuthLoginWithPasswordStdin) {
  start_registry(RegistryAuth::token);
  const auto image = push_image("tokened:1");
  const int tokens_before = registry_->tokens_issued();
  auto login = login_stdin(password());
  ASSERT_EQ(login.exit_code, 0) << login.out << login.err;
  EXPECT_EQ(login.out, "Login Succeeded\n");
  EXPECT_EQ(login.err, "");  // no warning without -p
  // The check went through the token server with the credentials, as docker login does.
  EXPECT_GT(registry_->tokens_issued(), tokens_before);
  EXPECT_EQ(mode_of(auth_file_), 0600u);
  EXPECT_TRUE(auths().contains(registry_->host()));

  auto pulled = sandbox_->mcore({"pull", "-q", image});
  EXPECT_EQ(pulled.exit_code, 0) << pulled.out << pulled.err;
}

TEST_F(LoginTest, AWrongPasswordIsOneLineAndChangesNothing) {
  for (auto auth : {RegistryAuth::basic, RegistryAuth::token}) {
    SCOPED_TRACE(auth == RegistryAuth::basic ? "basic" : "token");
    start_registry(auth);
    ASSERT_EQ(login_stdin(password()).exit_code, 0);
    const auto before = read_text(auth_file_);

    auto wrong = login_stdin("not-the-password");
    EXPECT_EQ(wrong.exit_code, 125) << wrong.out << wrong.err;
    EXPECT_EQ(wrong.out, "");
    EXPECT_EQ(lines_in(wrong.err), 1u) << wrong.err;
    EXPECT_NE(wrong.err.find("rejected the credentials"), std::string::npos) << wrong.err;
    EXPECT_EQ(read_text(auth_file_), before);
    EXPECT_EQ(docker_dir_files(), std::vector<std::string>{"config.json"});
    registry_.reset();
  }
}

TEST_F(LoginTest, LogoutForgetsTheCredentialsAndPullFailsAgain) {
  start_registry(RegistryAuth::basic);
  const auto image = push_image("private:1");
  ASSERT_EQ(login_stdin(password()).exit_code, 0);
  // Another registry's entry must survive the logout.
  auto document = nlohmann::json::parse(read_text(auth_file_));
  document["auths"]["other.example.com"] = {{"auth", "dTpw"}};
  document["psFormat"] = "table";
  std::ofstream(auth_file_, std::ios::trunc) << document.dump();

  auto logout = sandbox_->mcore({"logout", registry_->host()});
  ASSERT_EQ(logout.exit_code, 0) << logout.err;
  EXPECT_EQ(logout.out, "Removing login credentials for " + registry_->host() + "\n");
  const auto after = nlohmann::json::parse(read_text(auth_file_));
  EXPECT_EQ(after,
            (nlohmann::json{{"auths", {{"other.example.com", {{"auth", "dTpw"}}}}}, {"psFormat", "table"}}))
      << after.dump();
  EXPECT_EQ(mode_of(auth_file_), 0600u);

  auto again = sandbox_->mcore({"logout", registry_->host()});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "Not logged in to " + registry_->host() + "\n");

  auto pulled = sandbox_->mcore({"pull", "-q", image});
  EXPECT_EQ(pulled.exit_code, 125) << pulled.out << pulled.err;
  EXPECT_NE(pulled.err.find("requires authentication"), std::string::npos) << pulled.err;
}

TEST_F(LoginTest, ARegistryThatIsDownIsExit125AndWritesNothing) {
  start_registry(RegistryAuth::basic);
  registry_->stop();
  auto login = login_stdin(password());
  EXPECT_EQ(login.exit_code, 125) << login.out << login.err;
  EXPECT_EQ(lines_in(login.err), 1u) << login.err;
  EXPECT_NE(login.err.find("cannot reach registry " + registry_->host()), std::string::npos) << login.err;
  EXPECT_FALSE(fs::exists(auth_file_.parent_path()));
}

TEST_F(LoginTest, MissingCredentialsWithoutATerminalAreClearErrors) {
  start_registry(RegistryAuth::basic);
  struct Case {
    std::vector<std::string> args;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{"login", registry_->host()}, "cannot ask for a user name: stdin is not a terminal"},
      {{"login", "-u", user(), registry_->host()}, "cannot ask for a password: stdin is not a terminal"},
      {{"login", "--password-stdin", registry_->host()}, "--password-stdin needs --username"},
      {{"login", "-u", user(), "-p", "x", "--password-stdin", registry_->host()}, "mutually exclusive"},
      {{"login", "a", "b"}, "at most one server"},
  };
  for (const auto& c : cases) {
    auto result = sandbox_->mcore(c.args);
    EXPECT_EQ(result.exit_code, 125) << c.expected << ": " << result.err;
    EXPECT_NE(result.err.find(c.expected), std::string::npos) << result.err;
  }
  auto empty = sandbox_->mcore({"login", "-u", user(), "--password-stdin", registry_->host()}, "\n");
  EXPECT_EQ(empty.exit_code, 125);
  EXPECT_NE(empty.err.find("a password is required"), std::string::npos) << empty.err;
  EXPECT_FALSE(fs::exists(auth_file_.parent_path()));
}

std::string read_until(int fd, const std::string& marker) {
  std::string seen;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (seen.find(marker) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd wait{fd, POLLIN, 0};
    if (::poll(&wait, 1, 200) <= 0) continue;
    char buffer[4096];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    seen.append(buffer, static_cast<std::size_t>(n));
  }
  return seen;
}

TEST_F(LoginTest, OnATerminalItPromptsAndDoesNotEchoThePassword) {
  start_registry(RegistryAuth::basic);
  const auto argv = sandbox_->mcore_argv({"login", registry_->host()});
  int master = -1;
  const pid_t pid = spawn_on_terminal(argv, master);
  ASSERT_GE(pid, 0);
  auto say = [&](const std::string& line) {
    ASSERT_EQ(::write(master, line.data(), line.size()), static_cast<ssize_t>(line.size()));
  };
  std::string screen = read_until(master, "Username: ");
  say(user() + "\r");
  screen += read_until(master, "Password: ");
  // Typed only once the prompt is there, so that echo is already off.
  say(password() + "\r");
  screen += read_until(master, "Login Succeeded");
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(master);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << screen;
  EXPECT_NE(screen.find("Username: " + user()), std::string::npos) << screen;  // the name is echoed
  EXPECT_EQ(screen.find(password()), std::string::npos) << screen;             // the password is not
  EXPECT_NE(screen.find("Login Succeeded"), std::string::npos) << screen;
  EXPECT_TRUE(auths().contains(registry_->host()));
}

}  // namespace
}  // namespace mcore::test
