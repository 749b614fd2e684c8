#include "registry_fixture.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

extern char** environ;

namespace fs = std::filesystem;

namespace mcore::test {

namespace {

// Starts argv in the background with stdout and stderr appended to `log`.
pid_t spawn(const std::vector<std::string>& argv, const fs::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

void kill_and_wait(pid_t& pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  int status = 0;
  // Give it two seconds to exit on SIGTERM, then SIGKILL.
  for (int i = 0; i < 200; ++i) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      pid = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  pid = -1;
}

// Polls `port` until an HTTP answer arrives; throws with `log`'s contents when `pid` dies or 15 s pass.
void wait_for_http(int port, const std::string& path, pid_t pid, const fs::path& log,
                   const std::string& what) {
  for (int i = 0; i < 300; ++i) {
    if (http_get_loopback(port, path).rfind("HTTP/", 0) == 0) return;
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      throw std::runtime_error(what + " exited at start: " + read_text(log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error(what + " did not answer on port " + std::to_string(port) + ": " + read_text(log));
}

}  // namespace

int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot find a free port on 127.0.0.1");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

std::string http_get_loopback(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {};
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  std::string answer;
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      ssize_t n;
      while ((n = ::read(fd, buffer, sizeof buffer)) > 0) answer.append(buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return answer;
}

RegistryFixture::RegistryFixture(RegistryFixtureOptions options)
    : dir_("mcore-registry"), options_(std::move(options)) {
  const int port = free_loopback_port();
  host_ = "127.0.0.1:" + std::to_string(port);
  std::string auth;
  if (options_.auth == RegistryAuth::basic) {
    const auto result = run_command({"/usr/bin/htpasswd", "-Bbn", options_.username, options_.password});
    if (result.exit_code != 0)
      throw std::runtime_error("htpasswd failed (install apache2-utils): " + result.err);
    std::ofstream(dir_.path() / "htpasswd") << result.out;
    auth =
        "auth:\n  htpasswd:\n    realm: mcore-test\n    path: " + (dir_.path() / "htpasswd").string() + "\n";
  } else if (options_.auth == RegistryAuth::token) {
    const auto key = dir_.path() / "token.key";
    const auto cert = dir_.path() / "token.crt";
    const auto result =
        run_command({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                     "-subj", "/CN=mcore-test-token", "-keyout", key.string(), "-out", cert.string()});
    if (result.exit_code != 0) throw std::runtime_error("openssl req failed: " + result.err);
    token_port_ = free_loopback_port();
    const auto log = dir_.path() / "token-server.log";
    token_pid_ = spawn({"/usr/bin/python3", std::string(MCORE_SOURCE_DIR) + "/tests/support/token_server.py",
                        std::to_string(token_port_), key.string(), cert.string(), "mcore-test-issuer",
                        "mcore-test-registry", options_.username, options_.password},
                       log);
    wait_for_http(token_port_, "/count", token_pid_, log, "the test token server");
    auth = "auth:\n  token:\n    realm: http://127.0.0.1:" + std::to_string(token_port_) +
           "/token\n    service: mcore-test-registry\n    issuer: mcore-test-issuer\n    rootcertbundle: " +
           cert.string() + "\n";
  }
  std::ofstream(dir_.path() / "config.yml") << "version: 0.1\n"
                                               "log:\n  level: info\n"
                                               "storage:\n  filesystem:\n    rootdirectory: "
                                            << (dir_.path() / "storage").string()
                                            << "\n  delete:\n    enabled: true\n"
                                               "http:\n  addr: "
                                            << host_ << "\n"
                                            << auth;
  const auto log = dir_.path() / "registry.log";
  registry_pid_ = spawn({"/usr/bin/docker-registry", "serve", (dir_.path() / "config.yml").string()}, log);
  try {
    wait_for_http(port, "/v2/", registry_pid_, log, "docker-registry");
  } catch (...) {
    kill_and_wait(registry_pid_);
    kill_and_wait(token_pid_);
    throw;
  }
}

RegistryFixture::~RegistryFixture() {
  kill_and_wait(registry_pid_);
  kill_and_wait(token_pid_);
}

void RegistryFixture::stop() { kill_and_wait(registry_pid_); }

void RegistryFixture::push(const fs::path& layout_dir, const std::string& repo_tag,
                           const std::string& oci_ref) {
  std::vector<std::string> argv = {"/usr/bin/skopeo", "--insecure-policy",      "copy", "--quiet",
                                   "--all",           "--dest-tls-verify=false"};
  if (options_.auth != RegistryAuth::none) {
    argv.push_back("--dest-creds=" + options_.username + ":" + options_.password);
  }
  argv.push_back("oci:" + layout_dir.string() + (oci_ref.empty() ? "" : ":" + oci_ref));
  argv.push_back("docker://" + host_ + "/" + repo_tag);
  // A private auth file so that the test machine's own logins never leak in.
  const auto result =
      run_command(argv, "", {{"REGISTRY_AUTH_FILE", (dir_.path() / "skopeo-auth.json").string()}});
  if (result.exit_code != 0) {
    throw std::runtime_error("skopeo copy to " + host_ + "/" + repo_tag + " failed: " + result.err +
                             result.out);
  }
}

fs::path RegistryFixture::blob_path(const std::string& digest) const {
  const auto hex = digest.substr(digest.find(':') + 1);
  return dir_.path() / "storage/docker/registry/v2/blobs/sha256" / hex.substr(0, 2) / hex / "data";
}

LoopbackHttpServer::LoopbackHttpServer(const fs::path& root) : log_dir_("mcore-http") {
  const int port = free_loopback_port();
  host_ = "127.0.0.1:" + std::to_string(port);
  const auto log = log_dir_.path() / "http.log";
  pid_ = spawn({"/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", root.string(),
                std::to_string(port)},
               log);
  try {
    wait_for_http(port, "/", pid_, log, "python3 -m http.server");
  } catch (...) {
    kill_and_wait(pid_);
    throw;
  }
}

LoopbackHttpServer::~LoopbackHttpServer() { kill_and_wait(pid_); }

FakeRegistry::FakeRegistry(const nlohmann::json& script) : dir_("mcore-fake-registry") {
  port_ = free_loopback_port();
  host_ = "127.0.0.1:" + std::to_string(port_);
  const auto script_file = dir_.path() / "script.json";
  std::ofstream(script_file) << script.dump();
  const auto log = dir_.path() / "fake-registry.log";
  pid_ = spawn({"/usr/bin/python3", std::string(MCORE_SOURCE_DIR) + "/tests/support/fake_registry.py",
                std::to_string(port_), script_file.string()},
               log);
  try {
    wait_for_http(port_, "/_requests", pid_, log, "the fake registry");
  } catch (...) {
    kill_and_wait(pid_);
    throw;
  }
}

FakeRegistry::~FakeRegistry() { kill_and_wait(pid_); }

nlohmann::json FakeRegistry::requests() const {
  const auto answer = http_get_loopback(port_, "/_requests");
  const auto body = answer.find("\r\n\r\n");
  if (body == std::string::npos) throw std::runtime_error("the fake registry on " + host_ + " did not answer");
  return nlohmann::json::parse(answer.substr(body + 4));
}

int RegistryFixture::tokens_issued() const {
  const auto answer = http_get_loopback(token_port_, "/count");
  const auto body = answer.find("\r\n\r\n");
  if (body == std::string::npos) return -1;
  return nlohmann::json::parse(answer.substr(body + 4)).value("issued", -1);
}

}  // namespace mcore::test
