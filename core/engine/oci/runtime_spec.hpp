#pragma once
// An OCI bundle's config.json (runtime-spec 1.0.2, and the 1.1 fields clients send), parsed into typed
// fields and checked before anything is created: every error names the field's JSON path. Fields mcore
// does not honour yet are refused with the reason rather than ignored (docs/oci-runtime.md lists both).
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/oci/oci_hooks.hpp"
#include "engine/security/capabilities.hpp"
#include "engine/userns/id_map.hpp"
#include "mcore/resource_driver.hpp"

namespace mcore::engine {

struct OciMount {
  std::string destination;  // absolute path in the container
  std::string type;         // "bind" for bind mounts (also when only the options say bind/rbind)
  std::string source;       // a host path for binds (made absolute against the bundle), else the fs source
  unsigned long flags = 0;       // MS_* from the options (MS_BIND, MS_REC, MS_RDONLY, MS_NOSUID, ...)
  unsigned long propagation = 0; // MS_PRIVATE, MS_SLAVE, MS_SHARED or MS_UNBINDABLE (with MS_REC), or 0
  std::string data;         // the options that are file system data ("mode=755,size=65536k")
  bool copy_up = false;     // Podman's tmpcopyup: a tmpfs starts with what the directory under it held
  // "idmap"/"ridmap", or the mount's own uidMappings/gidMappings (which must be the container's): a
  // bind seen through the container's user namespace's maps.
  bool idmap = false;
  IdMap uid_map;  // the mount's own mappings, as given
  IdMap gid_map;
};

// linux.devices: a node the init creates in the container.
struct OciDevice {
  std::string path;  // absolute in the container
  mode_t type = 0;   // S_IFCHR, S_IFBLK or S_IFIFO
  dev_t device = 0;
  mode_t mode = 0666;  // fileMode's permission bits
  uid_t uid = 0;
  gid_t gid = 0;
};

enum class OciNamespace { pid, network, mount, ipc, uts, user, cgroup };

struct OciNamespaceEntry {
  OciNamespace type;
  std::string path;  // join this one ("" makes a new one)
};

struct OciProcess {
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd = "/";
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> additional_gids;
  std::optional<mode_t> umask;
  bool terminal = false;
  unsigned short console_height = 0;  // consoleSize; 0 leaves the terminal's size alone
  unsigned short console_width = 0;
  CapabilitySet capabilities = 0;  // the permitted and effective set (they must agree)
  CapabilitySet bounding = 0;
  bool no_new_privileges = false;
  std::optional<int> oom_score_adj;
  struct Rlimit {
    int resource;
    std::uint64_t soft;
    std::uint64_t hard;
  };
  std::vector<Rlimit> rlimits;
};

struct RuntimeSpec {
  std::string oci_version;
  std::filesystem::path root;  // absolute (a relative root.path is resolved against the bundle)
  bool root_readonly = false;
  std::string hostname;
  std::string domainname;
  OciProcess process;
  std::vector<OciMount> mounts;
  std::vector<OciNamespaceEntry> namespaces;
  ResourceLimits limits;
  bool devices_unrestricted = true;  // false once linux.resources.devices denies by default
  std::vector<DeviceAllowance> allowed_devices;  // its allow rules after that, beyond the defaults
  std::vector<HugepageLimit> hugepage_limits;    // linux.resources.hugepageLimits
  std::vector<OciDevice> devices;
  OciHooks hooks;
  std::string cgroups_path;          // as given; "" lets the runtime choose
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  std::map<std::string, std::string> sysctl;
  std::optional<nlohmann::json> seccomp;  // linux.seccomp as given: compiled at create
  unsigned long rootfs_propagation = 0;   // linux.rootfsPropagation as MS_* flags; 0 when absent
  std::map<std::string, std::string> annotations;
  // linux.uidMappings / gidMappings: set exactly when the spec asks for a new user namespace.
  IdMap uid_map;
  IdMap gid_map;

  bool has_namespace(OciNamespace type) const;
};

// Parses `document` (the bundle's config.json; `bundle` is the absolute bundle directory). Throws Error
// "config.json: <path>: <problem>".
RuntimeSpec parse_runtime_spec(const nlohmann::json& document, const std::filesystem::path& bundle);

// A runtime-spec Process on its own (`mcore-oci exec --process FILE`). Throws Error "<what>: <path>: ...".
OciProcess parse_oci_process(const nlohmann::json& document, const std::string& what);

// A runtime-spec LinuxResources document on its own (`mcore-oci update --resources FILE`): the limits
// it sets. Throws Error "<what>: <path>: ...".
ResourceLimits parse_oci_resources(const nlohmann::json& document, const std::string& what);

// Reads and parses BUNDLE/config.json. Throws Error naming the file.
RuntimeSpec load_runtime_spec(const std::filesystem::path& bundle);

// What `mcore-oci spec` writes, as `runc spec` does: sh in ./rootfs, read-only, a terminal, the
// default namespaces, mounts, masks and capabilities.
nlohmann::json default_runtime_spec();

}  // namespace mcore::engine
