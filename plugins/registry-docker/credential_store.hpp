#pragma once
// Saving and forgetting credentials as `docker login` and `docker logout` do: through the registry's
// credential helper (docker-credential-<name> store|erase) when the config names one, else in `auths`
// of the Docker config file itself. Either way the file records the server, so logout knows it.
#include <filesystem>
#include <optional>
#include <string>

#include "mcore/registry_driver.hpp"

namespace mcore::registry {

// Saves `credentials` for `registry` (a host[:port] or URL; Docker Hub under
// "https://index.docker.io/v1/"), replacing every entry that names the same registry. The file keeps
// all its other keys, is created with mode 0600 (missing directories 0700) and replaced atomically, so
// a failure leaves it as it was. Throws Error on malformed files and failing helpers.
void save_credentials(const std::filesystem::path& config_file, const std::string& registry,
                      const Credentials& credentials);

// Removes every `auths` entry for `registry`, erasing it from the credential helper first; returns false
// (changing nothing) when the file has none. Throws Error as save_credentials does.
bool erase_credentials(const std::filesystem::path& config_file, const std::string& registry);

// Runs `docker-credential-<helper> get` with `server` on stdin; nullopt when it knows no credentials.
std::optional<Credentials> run_credential_helper(const std::string& helper, const std::string& server);

}  // namespace mcore::registry
