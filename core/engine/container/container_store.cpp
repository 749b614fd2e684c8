#include "engine/container/container_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <ctime>

#include "engine/container/container_spec_json.hpp"
#include "engine/util/file_util.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {
namespace fs = std::filesystem;

namespace {

void random_bytes(void* buffer, std::size_t size) {
  auto* out = static_cast<unsigned char*>(buffer);
  while (size > 0) {
    ssize_t n = ::getrandom(out, size, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error::from_errno("read random bytes for a container id");
    }
    out += n;
    size -= static_cast<std::size_t>(n);
  }
}

constexpr std::array kAdjectives = {"agile", "bold", "brave", "calm", "clever", "eager", "fair", "gentle",
                                    "happy", "keen", "lucid", "merry", "nimble", "proud", "quiet", "rapid",
                                    "sharp", "steady", "swift", "tidy", "vivid", "wise", "witty", "zen"};
constexpr std::array kNames = {"babbage", "curie", "dijkstra", "euler", "feynman", "gauss", "hopper",
                               "knuth", "lamport", "lovelace", "noether", "pascal", "ritchie", "shannon",
                               "thompson", "turing", "wirth", "hamilton", "liskov", "torvalds"};

}  // namespace

const char* to_string(ContainerState state) {
  switch (state) {
    case ContainerState::created: return "created";
    case ContainerState::running: return "running";
    case ContainerState::paused: return "paused";
    case ContainerState::restarting: return "restarting";
    case ContainerState::exited: return "exited";
    case ContainerState::dead: return "dead";
  }
  return "dead";
}

ContainerState container_state_from_string(const std::string& text) {
  for (auto state : {ContainerState::created, ContainerState::running, ContainerState::paused,
                     ContainerState::restarting, ContainerState::exited}) {
    if (text == to_string(state)) return state;
  }
  return ContainerState::dead;
}

std::string new_container_id() {
  std::array<unsigned char, 32> bytes{};
  random_bytes(bytes.data(), bytes.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(64);
  for (unsigned char byte : bytes) {
    id += kHex[byte >> 4];
    id += kHex[byte & 15];
  }
  return id;
}

std::string generate_container_name() {
  std::array<std::uint32_t, 2> picks{};
  random_bytes(picks.data(), sizeof picks);
  return std::string(kAdjectives[picks[0] % kAdjectives.size()]) + "_" + kNames[picks[1] % kNames.size()];
}

nlohmann::json ContainerRecord::to_json() const {
  nlohmann::json json = {{"id", id},
          {"name", name},
          {"spec", spec_to_json(spec)},
          {"state", to_string(state)},
          {"created", created},
          {"started_at", started_at},
          {"finished_at", finished_at},
          {"pid", pid},
          {"exit_code", exit_code},
          {"oom_killed", oom_killed},
          {"error", error},
          {"restart_count", restart_count},
          {"stop_requested", stop_requested},
          {"log_write_failures", log_write_failures},
          {"cgroup", cgroup}};
  if (endpoint) {
    json["endpoint"] = {{"network", endpoint->network},
                        {"address", endpoint->address},
                        {"gateway", endpoint->gateway},
                        {"mac_address", endpoint->mac_address},
                        {"ports", ports_to_json(endpoint->ports)},
                        {"default_network", endpoint->default_network}};
  }
  return json;
}

ContainerRecord ContainerRecord::from_json(const nlohmann::json& json) {
  ContainerRecord record;
  record.id = json.value("id", "");
  record.name = json.value("name", "");
  record.spec = spec_from_json(json.value("spec", nlohmann::json::object()));
  record.spec.id = record.id;
  record.spec.name = record.name;
  record.state = container_state_from_string(json.value("state", "created"));
  record.created = json.value("created", "");
  record.started_at = json.value("started_at", "");
  record.finished_at = json.value("finished_at", "");
  record.pid = json.value("pid", 0);
  record.exit_code = json.value("exit_code", 0);
  record.oom_killed = json.value("oom_killed", false);
  record.error = json.value("error", "");
  record.restart_count = json.value("restart_count", 0);
  record.stop_requested = json.value("stop_requested", false);
  record.log_write_failures = json.value("log_write_failures", std::uint64_t{0});
  record.cgroup = json.value("cgroup", "");
  if (json.contains("endpoint") && json["endpoint"].is_object()) {
    const auto& endpoint = json["endpoint"];
    record.endpoint = NetworkEndpoint{endpoint.value("network", ""), endpoint.value("address", ""),
                                      endpoint.value("gateway", ""), endpoint.value("mac_address", ""),
                                      ports_from_json(endpoint.value("ports", nlohmann::json::array())),
                                      endpoint.value("default_network", false)};
  }
  return record;
}

namespace {

// Where a new record is written before its directory is renamed into place.
constexpr const char* kStagingPrefix = ".new-";
// Held shared by every creation, exclusively by remove_abandoned(): what that sees staged was abandoned.
constexpr const char* kCreationLock = ".creating";
constexpr const char* kIdRangeLock = ".id-ranges";

}  // namespace

ContainerStore::ContainerStore(fs::path data_root) : root_(std::move(data_root) / "containers") {}

fs::path ContainerStore::container_dir(const std::string& id) const { return root_ / id; }

fs::path ContainerStore::log_path(const std::string& id) const { return container_dir(id) / "container.log"; }

FileLock ContainerStore::lock(const std::string& id) const {
  // The container's own directory is its lock: it goes with the record, so removal leaves no lock file
  // behind, and a command that waited through a removal holds a deleted directory and finds no record.
  return FileLock::on_existing(container_dir(id));
}

fs::path ContainerStore::staging_dir(const std::string& id) const { return root_ / (kStagingPrefix + id); }

bool ContainerStore::is_stale_name(const std::string& name, const std::string& holder) const {
  std::error_code error;
  if (holder.empty()) return true;
  if (fs::exists(container_dir(holder) / "container.json", error)) {
    try {
      const auto record = load(holder);
      return record && record->name != name;  // renamed: a crash kept the old link
    } catch (const UnreadableRecordError&) {
      return false;  // it may hold the name: keep it
    }
  }
  // A creation in progress holds its staging directory's lock until the record is in place.
  const UniqueFd staging(::open(staging_dir(holder).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!staging) return true;  // neither record nor creation: a removal stopped between the two
  return ::flock(staging.get(), LOCK_EX | LOCK_NB) == 0;  // nobody finishes that creation
}

void ContainerStore::reserve_name(const std::string& name, const std::string& id) {
  fs::path names = root_ / "names";
  std::error_code error;
  fs::create_directories(names, error);
  if (error) throw Error("create " + names.string(), error.value());
  const fs::path link = names / name;
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (::symlink(id.c_str(), link.c_str()) == 0) return;
    if (errno != EEXIST) throw Error::from_errno("reserve the container name " + name);
    // Take-overs are serialised, so two commands cannot both find the link stale and both claim it.
    FileLock repairing(names / ".repair");
    const std::string holder = fs::read_symlink(link, error).string();
    if (error) continue;  // removed meanwhile: try again
    if (!is_stale_name(name, holder)) {
      throw Error("the container name \"" + name + "\" is already in use by container " + holder.substr(0, 12), 0,
                  "remove that container (mcore rm -f " + name + ") or choose another --name");
    }
    if (!holder.empty() && !fs::exists(container_dir(holder), error)) fs::remove_all(staging_dir(holder), error);
    fs::remove(link, error);
  }
  throw Error("reserve the container name " + name + ": it keeps changing hands", EAGAIN, "retry");
}

void ContainerStore::release_name(const std::string& name, const std::string& id) noexcept {
  fs::path link = root_ / "names" / name;
  std::error_code error;
  if (fs::read_symlink(link, error).string() == id) fs::remove(link, error);
}

namespace {

// The record of an --rm container lives only as long as its command: a crash removes it (boot, or the
// next command on it) rather than reading it back. Its writes skip the fsync that a kept record needs
// (the rename alone keeps a crash from tearing it), which is two of a `run --rm`'s start-path syncs.
AtomicWriteOptions record_write_options(const ContainerRecord& record) {
  AtomicWriteOptions options;
  options.sync_file = !record.spec.remove_on_exit;
  return options;
}

}  // namespace

void ContainerStore::create(const ContainerRecord& record) {
  const fs::path staging = staging_dir(record.id);
  std::error_code error;
  fs::create_directories(root_, error);
  if (error) throw Error("create " + root_.string(), error.value());
  FileLock creating(root_ / kCreationLock, FileLock::Mode::shared);
  if (::mkdir(staging.c_str(), 0700) != 0) throw Error::from_errno("create " + staging.string());
  // Held until the record is in place: a name reserved for it is not stale meanwhile.
  FileLock in_progress = FileLock::on_existing(staging);
  try {
    reserve_name(record.name, record.id);
    try {
      write_file_atomic(staging / "container.json", record.to_json().dump(), record_write_options(record));
      if (::rename(staging.c_str(), container_dir(record.id).c_str()) != 0) {
        throw Error::from_errno("rename " + staging.string() + " to " + container_dir(record.id).string());
      }
    } catch (...) {
      release_name(record.name, record.id);
      throw;
    }
  } catch (...) {
    fs::remove_all(staging, error);
    throw;
  }
}

FileLock ContainerStore::block_creations() const {
  std::error_code error;
  fs::create_directories(root_, error);
  if (error) throw Error("create " + root_.string(), error.value());
  return FileLock(root_ / kCreationLock);
}

FileLock ContainerStore::lock_id_ranges() const {
  std::error_code error;
  fs::create_directories(root_, error);
  if (error) throw Error("create " + root_.string(), error.value());
  return FileLock(root_ / kIdRangeLock);
}

std::vector<std::string> ContainerStore::remove_abandoned() {
  std::vector<std::string> removed;
  std::error_code error;
  if (!fs::exists(root_, error)) return removed;
  FileLock no_creations = block_creations();
  const std::string prefix = kStagingPrefix;
  for (const auto& entry : fs::directory_iterator(root_, error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0) {
      fs::remove_all(entry.path(), error);
      removed.push_back("unfinished record of " + name.substr(prefix.size(), 12));
    } else if (name.size() == 64 && !fs::exists(entry.path() / "container.json")) {
      // A container's directory without its record: files written for a container removed meanwhile
      // (its hosts file, say). Under the container's lock, so no removal is half-way through it.
      const FileLock held = lock(name);
      if (fs::exists(entry.path() / "container.json")) continue;
      fs::remove_all(entry.path(), error);
      removed.push_back("files of removed container " + name.substr(0, 12));
    }
  }
  for (const auto& link : fs::directory_iterator(root_ / "names", error)) {
    if (link.path().filename().string().rfind('.', 0) == 0) continue;  // the take-over lock
    const std::string id = fs::read_symlink(link.path(), error).string();
    if (!is_stale_name(link.path().filename().string(), id)) continue;
    fs::remove(link.path(), error);
    removed.push_back("name " + link.path().filename().string());
  }
  return removed;
}

void ContainerStore::save(const ContainerRecord& record) {
  // Never creates the directory: a record removed meanwhile stays removed.
  write_file_atomic(container_dir(record.id) / "container.json", record.to_json().dump(), record_write_options(record));
}

std::optional<ContainerRecord> ContainerStore::load(const std::string& id) const {
  fs::path file = container_dir(id) / "container.json";
  std::error_code error;
  if (!fs::exists(file, error)) return std::nullopt;
  std::string text;
  try {
    text = read_file(file);
  } catch (const Error& failure) {
    throw UnreadableRecordError({id, file, failure.what()});
  }
  if (text.empty()) throw UnreadableRecordError({id, file, "it is empty"});
  const auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) throw UnreadableRecordError({id, file, "it is not a JSON object"});
  try {
    ContainerRecord record = ContainerRecord::from_json(json);
    if (record.id != id) throw UnreadableRecordError({id, file, "it names another container, " + record.id});
    return record;
  } catch (const nlohmann::json::exception& failure) {
    // "[json.exception.type_error.302] type must be string, but is number" -> what follows the tag.
    std::string what = failure.what();
    if (const auto tag_end = what.find("] "); tag_end != std::string::npos) what.erase(0, tag_end + 2);
    throw UnreadableRecordError({id, file, "a field has the wrong type: " + what});
  }
}

ContainerListing ContainerStore::list() const {
  ContainerListing listing;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(root_, error)) {
    if (entry.path().filename().string().rfind('.', 0) == 0) continue;  // a record being created
    if (!fs::exists(entry.path() / "container.json")) continue;         // also skips names/
    try {
      if (auto record = load(entry.path().filename().string())) listing.records.push_back(std::move(*record));
    } catch (const UnreadableRecordError& unreadable) {
      listing.unreadable.push_back(unreadable.record());
    }
  }
  return listing;
}

std::string ContainerStore::name_of(const std::string& id) const {
  std::error_code error;
  for (const auto& link : fs::directory_iterator(root_ / "names", error)) {
    if (fs::read_symlink(link.path(), error).string() == id) return link.path().filename().string();
  }
  return "";
}

std::vector<std::string> ContainerListing::ids() const {
  std::vector<std::string> all;
  for (const auto& record : records) all.push_back(record.id);
  for (const auto& record : unreadable) all.push_back(record.id);
  return all;
}

UnreadableRecordError::UnreadableRecordError(UnreadableRecord record)
    : Error("container " + record.id.substr(0, 12) + ": its record " + record.file.string() + " cannot be read: " +
                record.reason,
            0,
            "mcore keeps it, and every image, volume and network it may use; `mcore rm -f " + record.id.substr(0, 12) +
                "` stops and removes the container (its image and volumes stay), or restore the file from a backup"),
      record_(std::move(record)) {}

void ContainerStore::remove(const std::string& id) noexcept {
  std::error_code error;
  fs::remove_all(container_dir(id), error);
}

}  // namespace mcore::engine
