#include "engine/oci/oci_state.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>

#include "mcore/atomic_file.hpp"
#include "mcore/error.hpp"
#include "mcore/fd_io.hpp"

namespace mcore::engine {

namespace fs = std::filesystem;
using nlohmann::json;

const char* to_string(OciStatus status) {
  switch (status) {
    case OciStatus::creating: return "creating";
    case OciStatus::created: return "created";
    case OciStatus::running: return "running";
    case OciStatus::paused: return "paused";
    case OciStatus::stopped: return "stopped";
  }
  return "unknown";
}

void check_oci_id(const std::string& id) {
  const bool valid_chars = !id.empty() && std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '+' || c == '-' || c == '.';
  });
  if (!valid_chars || id == "." || id == ".." || id.size() > 1024) {
    throw Error("invalid container id \"" + id + "\"", 0,
                "an id may hold letters, digits, '_', '+', '-' and '.', and may not be \".\" or \"..\"");
  }
}

OciStateDir::OciStateDir(fs::path root, std::string id) : dir_(std::move(root) / id), id_(std::move(id)) {
  check_oci_id(id_);
}

void OciStateDir::create_dir() const {
  // With its parents, as runc does: the shim names a root below its own state directory.
  const fs::path root = dir_.parent_path();
  fs::path made;
  for (const auto& part : root) {
    made /= part;
    if (::mkdir(made.c_str(), 0700) != 0 && errno != EEXIST) throw Error::from_errno("create the state root " + root.string());
  }
  if (::mkdir(dir_.c_str(), 0700) != 0) {
    if (errno == EEXIST) throw Error("container with id " + id_ + " already exists", EEXIST, "delete it first, or pick another id");
    throw Error::from_errno("create the state directory " + dir_.string());
  }
}

OciState OciStateDir::load() const {
  const auto text = read_file_if_exists(dir_ / "state.json");
  if (!text) throw Error("container " + id_ + " does not exist");
  try {
    const json document = json::parse(*text);
    OciState state;
    state.id = document.at("id").get<std::string>();
    state.pid = document.at("pid").get<pid_t>();
    state.pid_start_time = document.at("pid_start_time").get<std::uint64_t>();
    state.bundle = document.at("bundle").get<std::string>();
    state.rootfs = document.at("rootfs").get<std::string>();
    state.created = document.at("created").get<std::string>();
    state.annotations = document.at("annotations").get<std::map<std::string, std::string>>();
    state.cgroup_parent = document.at("cgroup_parent").get<std::string>();
    state.cgroup_name = document.at("cgroup_name").get<std::string>();
    state.creator_pid = document.value("creator_pid", pid_t{0});
    state.creator_start_time = document.value("creator_start_time", std::uint64_t{0});
    state.start_hooks = document.value("start_hooks", false);
    state.poststop_hooks = document.value("poststop_hooks", false);
    return state;
  } catch (const json::exception& error) {
    throw Error((dir_ / "state.json").string() + " is damaged: " + error.what(), 0,
                "kill the container's processes by hand and remove " + dir_.string());
  }
}

void OciStateDir::save(const OciState& state) const {
  const json document = {{"id", state.id},
                         {"pid", state.pid},
                         {"pid_start_time", state.pid_start_time},
                         {"bundle", state.bundle.string()},
                         {"rootfs", state.rootfs.string()},
                         {"created", state.created},
                         {"annotations", state.annotations},
                         {"cgroup_parent", state.cgroup_parent},
                         {"cgroup_name", state.cgroup_name},
                         {"creator_pid", state.creator_pid},
                         {"creator_start_time", state.creator_start_time},
                         {"start_hooks", state.start_hooks},
                         {"poststop_hooks", state.poststop_hooks}};
  // Under /run: a reboot clears it, so only the rename must be atomic.
  write_file_atomic(dir_ / "state.json", document.dump(), {.mode = 0600, .sync_file = false});
}

void OciStateDir::remove() const {
  std::error_code error;
  fs::remove_all(dir_, error);
  if (error) throw Error("remove the state directory " + dir_.string() + ": " + error.message());
}

std::optional<std::uint64_t> process_start_time(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  const auto stat = read_file_if_exists("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return std::nullopt;
  // "PID (comm) S ..." : comm may hold spaces and parentheses, so count from the last ')'.
  const auto close = stat->rfind(')');
  if (close == std::string::npos || close + 2 >= stat->size()) return std::nullopt;
  if ((*stat)[close + 2] == 'Z' || (*stat)[close + 2] == 'X') return std::nullopt;
  std::size_t at = close + 2;
  for (int field = 3; field < 22; ++field) {
    at = stat->find(' ', at);
    if (at == std::string::npos) return std::nullopt;
    ++at;
  }
  return std::stoull(stat->substr(at, stat->find(' ', at) - at));
}

OciStatus observe_status(const OciStateDir& dir, const OciState& state) {
  if (state.pid == 0) {
    const auto creator = process_start_time(state.creator_pid);
    return creator && *creator == state.creator_start_time ? OciStatus::creating : OciStatus::stopped;
  }
  const auto start_time = process_start_time(state.pid);
  if (!start_time || *start_time != state.pid_start_time) return OciStatus::stopped;
  std::error_code error;
  if (fs::exists(dir.fifo(), error)) return OciStatus::created;
  if (fs::exists(dir.paused_marker(), error)) return OciStatus::paused;
  return OciStatus::running;
}

json state_to_json(const OciState& state, OciStatus status) {
  return {{"ociVersion", kOciVersion},
          {"id", state.id},
          {"status", to_string(status)},
          {"pid", status == OciStatus::stopped ? 0 : state.pid},
          {"bundle", state.bundle.string()},
          {"rootfs", state.rootfs.string()},
          {"created", state.created},
          {"owner", ""},
          {"annotations", state.annotations}};
}

std::vector<std::string> list_oci_ids(const fs::path& root) {
  std::vector<std::string> ids;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(root, error)) {
    if (entry.is_directory(error) && fs::exists(entry.path() / "state.json", error)) {
      ids.push_back(entry.path().filename().string());
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace mcore::engine
