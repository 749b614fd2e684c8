#pragma once
// Docker's syntax for the values of `mcore run` flags, shared by the CLI and deployment files (so a port
// or a volume means the same in both). Each parser throws mcore::Error naming the flag, the bad value and
// the expected form.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "engine/container/container_spec.hpp"

namespace mcore::engine {

// "a:b::c" -> {"a", "b", "", "c"}: flag values are lists split at every `separator`, empty parts kept.
std::vector<std::string> split_flag_value(const std::string& text, char separator);

// "512m", "1g", "1.5G", "1024", "64mb" -> bytes (Docker's RAMInBytes). `flag` names the flag in errors.
std::int64_t parse_size(const std::string& flag, const std::string& value);

// -p: "[IP:][HOST_PORT:]CONTAINER_PORT[/tcp|/udp]" ("8080:80", "127.0.0.1:8080:80/udp", "127.0.0.1::80",
// "80"); a missing or empty host port is 0, for the network driver to choose a free one.
PortMapping parse_publish(const std::string& value);

// An image's ExposedPorts key ("80/tcp", "53/udp", "8080") as -P publishes it: on a free host port.
PortMapping parse_exposed_port(const std::string& value);

// "/host:/ctr", "/host:/ctr:ro", "/host:/ctr:rw": a bind mount (the host path must exist);
// "NAME:/ctr[:ro]": the named volume NAME; "/ctr": an anonymous volume. Volumes are created at run.
VolumeSpec parse_volume(const std::string& value);

// "/run", "/run:rw,size=64m,mode=1777,noexec". Docker's default flags: noexec, nosuid, nodev.
TmpfsSpec parse_tmpfs(const std::string& value);

// "-e KEY=VALUE" stays; "-e KEY" takes KEY from mcore's environment, or is dropped when unset.
std::vector<std::string> parse_env(const std::vector<std::string>& values);

// KEY=VALUE lines; blank lines and lines starting with # are skipped; "KEY" alone as with -e.
std::vector<std::string> read_env_file(const std::filesystem::path& file);

// "1.5" -> 1'500'000'000; must be within (0, online CPUs].
std::int64_t parse_cpus(const std::string& value, unsigned online_cpus);

struct UserSpec {
  std::string user;                  // name or uid
  std::optional<std::string> group;  // name or gid
};
// "user", "1000", "user:group", "1000:1000". Names are resolved inside the container.
UserSpec parse_user(const std::string& value);

// Adds Docker's defaults (PATH, HOSTNAME, TERM with a tty) unless set; later entries for the same key
// win, as with repeated -e. HOME comes from the user's passwd entry, inside the container.
std::vector<std::string> finish_environment(std::vector<std::string> env, const std::string& hostname,
                                            bool tty);

struct SecurityOptions {
  bool no_new_privileges = false;
  SeccompMode seccomp = SeccompMode::default_profile;
  std::filesystem::path seccomp_file;
};
// "no-new-privileges[:true|false]", "seccomp=unconfined", "seccomp=/path/profile.json".
SecurityOptions parse_security_options(const std::vector<std::string>& values);

// Docker's container name rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+
void validate_container_name(const std::string& name);
// An RFC 1123 host name, at most 64 characters.
void validate_hostname(const std::string& hostname);

}  // namespace mcore::engine
