#pragma once
// mcore-oci's record of a container: ROOT/ID/state.json (written atomically) beside the exec FIFO
// (ROOT/ID/exec.fifo, present from create until start). The status is never stored: it is read from the
// init process (alive, and still the same process by its start time), the FIFO and the freezer.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mcore::engine {

inline constexpr const char* kOciVersion = "1.0.2";

struct OciState {
  std::string id;
  pid_t pid = 0;
  std::uint64_t pid_start_time = 0;  // /proc/PID/stat field 22: tells the init from a reused PID
  std::filesystem::path bundle;
  std::filesystem::path rootfs;
  std::string created;  // RFC 3339
  std::map<std::string, std::string> annotations;
  std::string cgroup_parent;  // the resource driver's cgroup_parent and group name for this container
  std::string cgroup_name;
  // The `create` that made it, saved before anything else is made: while pid is 0 the container is
  // "creating" as long as that process lives, and "stopped" (so delete cleans up) once it died.
  pid_t creator_pid = 0;
  std::uint64_t creator_start_time = 0;
  // config.json has startContainer or poststart hooks (start reads it then), or poststop ones (delete).
  bool start_hooks = false;
  bool poststop_hooks = false;
};

enum class OciStatus { creating, created, running, paused, stopped };
const char* to_string(OciStatus status);

// A container ID as runc accepts it: letters, digits, '_', '+', '-', '.', not "." or "..". Throws Error.
void check_oci_id(const std::string& id);

class OciStateDir {
 public:
  // `root` is --root (default /run/mcore-oci).
  OciStateDir(std::filesystem::path root, std::string id);

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path fifo() const { return dir_ / "exec.fifo"; }
  // Present while the container is paused.
  std::filesystem::path paused_marker() const { return dir_ / "paused"; }
  // The bundle's config.json as it was at create.
  std::filesystem::path config() const { return dir_ / "config.json"; }

  // Creates ROOT (0700) and ROOT/ID; throws Error "container with id ID already exists" when it does.
  void create_dir() const;
  // Throws Error "container ID does not exist" (runc's words) when there is no state.
  OciState load() const;
  void save(const OciState& state) const;
  // Removes the directory and everything in it; a missing one is not an error.
  void remove() const;

 private:
  std::filesystem::path dir_;
  std::string id_;
};

// The init's start time, or nullopt when no process has that PID (or it is a zombie).
std::optional<std::uint64_t> process_start_time(pid_t pid);

// creating (no init yet, its `create` alive), created (the FIFO is still there), paused (pause's
// marker), running, or stopped (the init is gone or its PID was reused, or `create` died first).
OciStatus observe_status(const OciStateDir& dir, const OciState& state);

// The runtime-spec state document ("ociVersion", "id", "status", "pid", "bundle", "annotations") with
// runc's extra "rootfs", "created" and "owner".
nlohmann::json state_to_json(const OciState& state, OciStatus status);

// Every container under `root` with a readable state, in name order.
std::vector<std::string> list_oci_ids(const std::filesystem::path& root);

}  // namespace mcore::engine
