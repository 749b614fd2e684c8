#pragma once
// Everything `mcore run` decided about one container, before any of it exists. The CLI fills it from
// flags and the image config; the container's record keeps it (container_spec_json.hpp), so that
// `mcore start`, restart policies, exec, inspect and commit all see what `run` decided.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/logs/log_options.hpp"
#include "engine/security/capabilities.hpp"
#include "engine/userns/id_map.hpp"
#include "mcore/network_driver.hpp"
#include "mcore/resource_driver.hpp"

namespace mcore::engine {

struct VolumeSpec {
  std::filesystem::path host_path;       // absolute, must exist (a named volume's _data directory)
  std::string container_path;            // absolute inside the container
  bool read_only = false;
  std::string volume;                    // the named volume mounted, "" for a bind mount of a host path
  // :idmap (Podman's): in a user namespace of the container's own, the source is seen through the
  // container's id maps (host 0 is its root) rather than with its host ids (nobody where unmapped).
  bool idmap = false;
};

struct TmpfsSpec {
  std::string container_path;  // absolute inside the container
  unsigned long flags = 0;     // MS_* from the options
  std::string data;            // remaining options ("size=64m,mode=1777")
};

// none: a network namespace with only lo; host: the host's; network: a namespace of its own joined to
// the network `network_name` through the network driver.
enum class NetworkMode { none, host, network };

enum class SeccompMode { default_profile, unconfined, file };

// --restart: what the supervisor does when the command exits. A container stopped with `mcore stop`
// (or kill/rm) is never restarted; without a daemon, `always` and `unless-stopped` behave alike.
struct RestartPolicy {
  enum class Kind { no, on_failure, always, unless_stopped };
  Kind kind = Kind::no;
  int max_retries = 0;  // on-failure:N; 0 means no limit
};


struct ContainerSpec {
  std::string id;        // 64 hex digits
  std::string name;
  std::string hostname;  // defaults to the short id
  std::vector<std::string> args;  // the command; args[0] is looked up in PATH inside the container
  std::vector<std::string> env;   // KEY=VALUE, final (defaults already added)
  std::string working_dir = "/";
  // -u as given, resolved by the init against the container's own /etc/passwd and /etc/group:
  // a name or uid ("" for root), and a group name or gid when one was given.
  std::string user;
  std::optional<std::string> group;

  std::string image;              // the image as named on the command line, "" with --rootfs
  std::string image_id;           // its config digest
  std::vector<std::string> image_layers;  // the image's diff_ids, lowest first
  std::filesystem::path rootfs;   // --rootfs: the read-only lower directory
  std::vector<VolumeSpec> volumes;
  std::vector<TmpfsSpec> tmpfs;
  bool read_only_rootfs = false;

  NetworkMode network = NetworkMode::none;
  std::string network_name;              // with NetworkMode::network: "bridge" or a user network
  std::vector<PortMapping> ports;        // -p; -P adds the image's exposed ports with host port 0
  std::vector<std::string> dns;          // --dns: nameservers replacing the host's
  std::vector<std::string> dns_search;   // --dns-search
  std::vector<std::string> dns_options;  // --dns-option
  std::vector<std::string> extra_hosts;  // --add-host as given ("name:ip"), checked by run
  std::vector<std::string> network_aliases;  // --network-alias: more names peers resolve it by
  std::map<std::string, std::string> labels;  // --label KEY=VALUE (deployments mark their containers)

  bool privileged = false;
  CapabilitySet capabilities = 0;
  bool no_new_privileges = false;
  SeccompMode seccomp = SeccompMode::default_profile;
  std::filesystem::path seccomp_file;
  // --uidmap/--gidmap: a user namespace of its own with these maps, so that its root is not the
  // host's. Both empty (--userns=host, the default): the host's user namespace.
  IdMap uid_map;
  IdMap gid_map;

  bool tty = false;
  bool interactive = false;
  bool remove_on_exit = false;
  bool detach = false;            // -d: print the id and leave the container to its supervisor

  RestartPolicy restart;
  LogOptions log;
  int stop_signal = 15;           // SIGTERM; the image's StopSignal when it sets one
  int stop_timeout = 10;          // seconds `mcore stop` waits before SIGKILL

  ResourceLimits limits;
};

inline bool has_own_user_namespace(const ContainerSpec& spec) { return !spec.uid_map.empty(); }

}  // namespace mcore::engine
