#include "credential_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "docker_config.hpp"
#include "mcore/atomic_file.hpp"
#include "mcore/child_process.hpp"
#include "mcore/error.hpp"
#include "mcore/fd_io.hpp"
#include "mcore/unique_fd.hpp"

namespace mcore::registry {

namespace {

namespace fs = std::filesystem;
// Keeps the user's key order when the file is rewritten.
using ordered_json = nlohmann::ordered_json;

std::string trimmed(std::string text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

struct HelperAnswer {
  bool succeeded = false;  // exited 0
  std::string output;      // its stdout, where helpers also put their error messages
};

// Runs `docker-credential-<helper> <action>` with `input` on stdin. Its stderr is discarded as Docker
// does, so that a failing helper still gives one line. Throws Error when the program is missing.
HelperAnswer run_helper(const std::string& helper, const char* action, const std::string& input) {
  const std::string program = "docker-credential-" + helper;
  ChildResult result;
  try {
    ChildOptions options;
    options.input = input;
    options.capture_stderr = false;
    result = run_child({program, action}, options);
  } catch (const Error& error) {
    if (error.error_number() != ENOENT) throw;
    throw Error("credential helper " + program + " was not found", 0,
                "install it, or remove it from credHelpers/credsStore in the Docker config");
  }
  return {result.exit_code == 0, std::move(result.out)};
}

// Helpers answer an unknown server with a failure whose message says so.
bool says_not_found(const HelperAnswer& answer) {
  return answer.output.find("credentials not found") != std::string::npos;
}

[[noreturn]] void throw_helper_failure(const std::string& helper, const std::string& doing,
                                       const HelperAnswer& answer) {
  const auto detail = trimmed(answer.output);
  throw Error("credential helper docker-credential-" + helper + " failed to " + doing +
              (detail.empty() ? "" : ": " + detail));
}

// Docker writes through a symlinked config.json to its target; so does mcore.
fs::path write_target(const fs::path& path) {
  std::error_code error;
  if (!fs::is_symlink(path, error)) return path;
  const auto target = fs::read_symlink(path, error);
  if (error) return path;
  return target.is_absolute() ? target : path.parent_path() / target;
}

// Creates `dir` and its missing parents with mode 0700: they will hold credentials.
void make_private_directories(const fs::path& dir) {
  if (dir.empty() || fs::is_directory(dir)) return;
  make_private_directories(dir.parent_path());
  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno == EEXIST) return;
    throw Error::from_errno("create directory " + dir.string());
  }
  // The umask may have taken bits from 0700; it must not leave more.
  if (::chmod(dir.c_str(), 0700) != 0) throw Error::from_errno("chmod " + dir.string());
}

// Replaces `path` by a file with `content` and mode 0600, atomically and durably; an existing file's
// owner is kept.
void write_private_file(const fs::path& path, std::string_view content) {
  make_private_directories(path.parent_path());
  write_file_atomic(path, content, {.mode = 0600, .keep_owner = true, .sync_directory = true});
}

// The config file's text and its document; both empty when it does not exist. Throws Error naming the
// file when it is not a valid Docker config.
struct ConfigFile {
  fs::path path;
  bool exists = false;
  DockerConfig config;
  ordered_json document = ordered_json::object();
};

ConfigFile read_config_file(const fs::path& config_file) {
  ConfigFile file;
  file.path = write_target(config_file);
  const auto text = read_file_if_exists(file.path);
  if (!text) return file;
  file.exists = true;
  file.config = parse_docker_config(*text, file.path.string());  // throws on malformed files
  file.document = ordered_json::parse(*text);
  return file;
}

// The `auths` object of `file`, created when missing.
ordered_json& auths_of(ConfigFile& file) {
  auto& auths = file.document["auths"];
  if (auths.is_null()) auths = ordered_json::object();
  if (!auths.is_object()) {
    throw Error(file.path.string() + ": \"auths\" is not an object", 0, "fix or remove the file");
  }
  return auths;
}

// Removes every entry of `auths` that names `registry`, however spelled; returns how many there were.
std::size_t remove_entries(ordered_json& auths, const std::string& registry) {
  const auto key = auth_key(registry);
  std::size_t removed = 0;
  for (auto it = auths.begin(); it != auths.end();) {
    if (auth_key(it.key()) == key) {
      it = auths.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

std::string formatted(const ordered_json& document) { return document.dump(1, '\t') + "\n"; }

}  // namespace

void save_credentials(const fs::path& config_file, const std::string& registry,
                      const Credentials& credentials) {
  if (credentials.identity_token.empty() && credentials.username.find(':') != std::string::npos) {
    throw Error("the user name \"" + credentials.username + "\" contains ':'", 0,
                "registries cannot tell such a name from its password; use another user name");
  }
  auto file = read_config_file(config_file);
  const auto server = docker_server_address(registry);
  auto entry = ordered_json::object();
  if (const auto helper = credential_helper_for(file.config, registry); !helper.empty()) {
    const bool token = !credentials.identity_token.empty();
    const ordered_json request = {{"ServerURL", server},
                                  {"Username", token ? "<token>" : credentials.username},
                                  {"Secret", token ? credentials.identity_token : credentials.password}};
    const auto answer = run_helper(helper, "store", request.dump() + "\n");
    if (!answer.succeeded) throw_helper_failure(helper, "store the credentials for " + server, answer);
  } else if (!credentials.identity_token.empty()) {
    entry["identitytoken"] = credentials.identity_token;
  } else {
    entry["auth"] = base64_encode(credentials.username + ":" + credentials.password);
  }
  auto& auths = auths_of(file);
  remove_entries(auths, registry);
  auths[server] = entry;
  write_private_file(file.path, formatted(file.document));
}

bool erase_credentials(const fs::path& config_file, const std::string& registry) {
  auto file = read_config_file(config_file);
  if (!file.exists || !file.document.contains("auths")) return false;
  auto& auths = auths_of(file);
  if (remove_entries(auths, registry) == 0) return false;
  if (const auto helper = credential_helper_for(file.config, registry); !helper.empty()) {
    const auto server = docker_server_address(registry);
    const auto answer = run_helper(helper, "erase", server + "\n");
    if (!answer.succeeded && !says_not_found(answer))
      throw_helper_failure(helper, "erase the credentials for " + server, answer);
  }
  write_private_file(file.path, formatted(file.document));
  return true;
}

std::optional<Credentials> run_credential_helper(const std::string& helper, const std::string& server) {
  const auto answer = run_helper(helper, "get", server + "\n");
  if (!answer.succeeded) {
    if (says_not_found(answer)) return std::nullopt;
    throw_helper_failure(helper, "find the credentials for " + server, answer);
  }
  const auto document = nlohmann::json::parse(answer.output, nullptr, false);
  if (document.is_discarded() || !document.is_object()) {
    throw Error("credential helper docker-credential-" + helper + " answered something that is not JSON");
  }
  Credentials credentials;
  const auto username = document.value("Username", std::string());
  const auto secret = document.value("Secret", std::string());
  // Docker's convention: the user name "<token>" means the secret is an identity token.
  if (username == "<token>") {
    credentials.identity_token = secret;
  } else {
    credentials.username = username;
    credentials.password = secret;
  }
  return credentials;
}

}  // namespace mcore::registry
