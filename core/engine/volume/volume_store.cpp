#include "engine/volume/volume_store.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "engine/container/container_store.hpp"
#include "engine/util/rfc3339.hpp"
#include "mcore/atomic_file.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {
namespace fs = std::filesystem;

namespace {

nlohmann::json to_json(const VolumeRecord& volume) {
  return {{"name", volume.name}, {"created", volume.created}, {"anonymous", volume.anonymous},
          {"populated", volume.populated}};
}

}  // namespace

void check_volume_name(const std::string& name) {
  const bool valid = name.size() >= 2 && std::isalnum(static_cast<unsigned char>(name[0])) &&
                     name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
                         std::string::npos;
  if (!valid) {
    throw Error("invalid volume name \"" + name + "\"", 0,
                "use two or more letters, digits, '_', '.' or '-', starting with a letter or digit; "
                "a host directory to bind must be an absolute path");
  }
}

VolumeStore::VolumeStore(fs::path data_root) : root_(std::move(data_root) / "volumes") {}

FileLock VolumeStore::lock(FileLock::Mode mode) const {
  std::error_code error;
  fs::create_directories(root_, error);
  if (error) throw Error("create " + root_.string(), error.value());
  return FileLock(root_ / ".lock", mode);
}

std::optional<VolumeRecord> VolumeStore::find(const std::string& name) const {
  std::string text;
  try {
    text = read_file(dir(name) / "volume.json");
  } catch (const Error&) {
    return std::nullopt;
  }
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object()) return std::nullopt;
  VolumeRecord volume;
  volume.name = json.value("name", name);
  volume.created = json.value("created", "");
  volume.anonymous = json.value("anonymous", false);
  volume.populated = json.value("populated", false);
  volume.mountpoint = dir(name) / "_data";
  return volume;
}

std::vector<std::string> VolumeStore::remove_abandoned() {
  std::vector<std::string> removed;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(root_, error)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(".new-")) continue;
    const auto dash = name.rfind('-');
    const pid_t creator = static_cast<pid_t>(std::strtol(name.c_str() + dash + 1, nullptr, 10));
    if (creator > 0 && (::kill(creator, 0) == 0 || errno != ESRCH)) continue;  // still being created
    fs::remove_all(entry.path(), error);
    removed.push_back("unfinished volume " + entry.path().string());
  }
  return removed;
}

VolumeRecord VolumeStore::create(const std::string& requested, bool anonymous) {
  // Docker names an anonymous volume as it names a container: 64 random hex digits.
  const std::string name = requested.empty() ? new_container_id() : requested;
  check_volume_name(name);
  if (auto existing = find(name)) return *existing;
  VolumeRecord volume;
  volume.name = name;
  volume.created = now_rfc3339();
  volume.anonymous = anonymous;
  volume.mountpoint = dir(name) / "_data";
  const fs::path staging = root_ / (".new-" + name + "-" + std::to_string(::getpid()));
  std::error_code error;
  fs::remove_all(staging, error);
  fs::create_directories(staging / "_data", error);
  if (error) throw Error("create " + (staging / "_data").string(), error.value());
  fs::permissions(staging / "_data", fs::perms(0755), error);
  write_file_atomic(staging / "volume.json", to_json(volume).dump());
  if (::rename(staging.c_str(), dir(name).c_str()) != 0) {
    const int failure = errno;
    fs::remove_all(staging, error);
    // Another command created it first: theirs is as good as ours.
    if (failure == EEXIST || failure == ENOTEMPTY) {
      if (auto existing = find(name)) return *existing;
    }
    errno = failure;
    throw Error::from_errno("create volume " + name);
  }
  return volume;
}

std::vector<VolumeRecord> VolumeStore::list() const {
  std::vector<VolumeRecord> volumes;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(root_, error)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    if (auto volume = find(name)) volumes.push_back(std::move(*volume));
  }
  std::sort(volumes.begin(), volumes.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return volumes;
}

void VolumeStore::remove(const std::string& name) {
  check_volume_name(name);
  // Renamed aside first, so that a crash mid-way never leaves a volume half its content.
  const fs::path doomed = root_ / (".gone-" + name + "-" + std::to_string(::getpid()));
  if (::rename(dir(name).c_str(), doomed.c_str()) != 0) {
    if (errno == ENOENT) return;
    throw Error::from_errno("remove volume " + name);
  }
  std::error_code error;
  fs::remove_all(doomed, error);
  if (error) throw Error("remove " + doomed.string(), error.value());
}

void VolumeStore::mark_populated(const std::string& name) {
  auto volume = find(name);
  if (!volume || volume->populated) return;
  volume->populated = true;
  write_file_atomic(dir(name) / "volume.json", to_json(*volume).dump());
}

}  // namespace mcore::engine
