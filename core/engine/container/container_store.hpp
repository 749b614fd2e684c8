#pragma once
// Container records on disk: <data_root>/containers/<id>/container.json, written atomically, the
// name index <data_root>/containers/names/<name> -> <id>, a symlink whose creation is the atomic
// "is this name free" check. A flock on the container's directory serialises commands on it. New
// records are staged in containers/.new-<id> (flocked by their creator) and renamed into place.
// A name and its record change in an order a crash cannot turn into two holders (the record goes
// first, the name after), and a name left pointing at no record, at a creation nobody finishes, or
// at a record that names itself otherwise is taken over by the next reservation.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/container/container_spec.hpp"
#include "engine/util/file_util.hpp"
#include "engine/util/rfc3339.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {

// Docker's State.Status values mcore uses. `running`, `paused` and `restarting` are only true while the
// container's supervisor lives: read them through observe_container() (container_liveness.hpp).
enum class ContainerState { created, running, paused, restarting, exited, dead };
const char* to_string(ContainerState state);
ContainerState container_state_from_string(const std::string& text);  // unknown text -> dead

// Where a running container is attached: the network driver's Endpoint as the record keeps it.
struct NetworkEndpoint {
  std::string network;
  std::string address;      // CIDR, e.g. "172.17.0.2/16"
  std::string gateway;
  std::string mac_address;
  std::vector<PortMapping> ports;  // as published, chosen host ports filled in
  bool default_network = false;    // members of the driver's default network do not resolve by name
};

// One container: what `run` decided (spec) and what happened since. Written only under the
// container's lock (ContainerStore::lock), always atomically.
struct ContainerRecord {
  std::string id;
  std::string name;
  ContainerSpec spec;
  ContainerState state = ContainerState::created;
  std::string created;      // RFC 3339, UTC
  std::string started_at;
  std::string finished_at;
  pid_t pid = 0;            // host pid of the init while running, for display; never signalled (pidfds are)
  int exit_code = 0;
  bool oom_killed = false;
  std::string error;        // why the last start failed ("" when it did not)
  int restart_count = 0;    // restarts by the restart policy since the last `start`
  bool stop_requested = false;  // stop/kill/rm asked for the exit: the restart policy does not apply
  std::uint64_t log_write_failures = 0;  // log entries lost over the container's runs (disk full...)
  std::string cgroup;       // the resource driver's group path
  std::optional<NetworkEndpoint> endpoint;  // while attached to a network (from start until exit)

  nlohmann::json to_json() const;
  static ContainerRecord from_json(const nlohmann::json& json);
};

// A container whose record cannot be read: not JSON, the wrong shape, empty after a crash or a full
// disk. It may name any image, volume or network, so nothing it might name is ever collected while it
// exists; `mcore rm -f` removes it by what its id alone names (its cgroup, mounts, leases, rules).
struct UnreadableRecord {
  std::string id;
  std::filesystem::path file;
  std::string reason;  // "not JSON: ...", "empty", ...
};

// Thrown by ContainerStore::load for such a record: names the file and the way out.
class UnreadableRecordError : public Error {
 public:
  explicit UnreadableRecordError(UnreadableRecord record);
  const UnreadableRecord& record() const { return record_; }

 private:
  UnreadableRecord record_;
};

// Every container the store holds.
struct ContainerListing {
  std::vector<ContainerRecord> records;
  std::vector<UnreadableRecord> unreadable;
  // The ids of all of them, readable or not: what is not here belongs to no container.
  std::vector<std::string> ids() const;
};

// 64 random hex digits.
std::string new_container_id();
// Docker-style "adjective_name".
std::string generate_container_name();

class ContainerStore {
 public:
  explicit ContainerStore(std::filesystem::path data_root);

  // Claims `name` for `id`, taking over a name a crash left behind; throws Error naming the container
  // that holds it.
  void reserve_name(const std::string& name, const std::string& id);
  void release_name(const std::string& name, const std::string& id) noexcept;

  // Serialises commands on one container (start, stop, rm, the supervisor's exit handling...). Take it
  // before reading a record you will write back; re-read after taking it. Holds nothing when the
  // container has no directory (nothing to serialise: the re-read finds no record).
  FileLock lock(const std::string& id) const;

  // Creates a new container's directory with its record and claims its name, all or nothing: a crash
  // leaves at most what remove_abandoned() removes. Throws Error when the name is taken.
  void create(const ContainerRecord& record);
  // Writes an existing container's record atomically.
  void save(const ContainerRecord& record);
  // Held, no container can be created: the ids listed meanwhile are every container there is.
  FileLock block_creations() const;
  // Held while a --userns=auto container's id range is chosen and its record written: the records
  // are the ledger of ranges in use.
  FileLock lock_id_ranges() const;
  // Removes what crashed creations left (staging directories, names without a record) and says what.
  std::vector<std::string> remove_abandoned();
  // The record; nullopt when there is none. Throws UnreadableRecordError when it cannot be read.
  std::optional<ContainerRecord> load(const std::string& id) const;
  // Every container: the records, and those that cannot be read (never silently skipped).
  ContainerListing list() const;
  // The name that points at `id` in the name index ("" when none does): for records that cannot say.
  std::string name_of(const std::string& id) const;
  // Deletes the record and its directory. Idempotent.
  void remove(const std::string& id) noexcept;

  std::filesystem::path container_dir(const std::string& id) const;
  std::filesystem::path staging_dir(const std::string& id) const;
  // The json-file log: <container_dir>/container.log, rotated to container.log.1, .2 ...
  std::filesystem::path log_path(const std::string& id) const;

 private:
  // Whether `name`'s link to `holder` holds nothing any more (see the header comment).
  bool is_stale_name(const std::string& name, const std::string& holder) const;

  std::filesystem::path root_;
};

}  // namespace mcore::engine
