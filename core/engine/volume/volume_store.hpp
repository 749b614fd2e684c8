#pragma once
// Named volumes, Docker's "local" driver: <data_root>/volumes/<name>/_data is the directory containers
// mount, <name>/volume.json what mcore knows about it. A volume is created whole (staged and renamed)
// or not at all, so concurrent creations of one name agree without a lock. volumes/.lock orders use
// against removal: `run` holds it shared from creating its volumes until its record names them; `volume
// rm` and prune hold it exclusive while they check that no record names a volume and remove it.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "engine/util/file_util.hpp"

namespace mcore::engine {

struct VolumeRecord {
  std::string name;
  std::string created;      // RFC 3339, UTC
  bool anonymous = false;   // made for `-v /path`: removed with its container by rm -v and --rm
  bool populated = false;   // filled from an image (or found non-empty) on its first mount
  std::filesystem::path mountpoint;  // the _data directory
};

// Docker's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+. Throws Error naming the value.
void check_volume_name(const std::string& name);

class VolumeStore {
 public:
  explicit VolumeStore(std::filesystem::path data_root);

  // Creates the volume, or returns it when it exists (Docker's `volume create` and `-v` both do).
  // `name` "" makes an anonymous volume with a random 64-hex name.
  VolumeRecord create(const std::string& name, bool anonymous = false);
  std::optional<VolumeRecord> find(const std::string& name) const;
  std::vector<VolumeRecord> list() const;
  // Deletes the volume and its content. Idempotent. The caller checks that no container uses it.
  void remove(const std::string& name);
  // Records that the first mount has filled (or found filled) the volume.
  void mark_populated(const std::string& name);
  // Deletes the staged volumes (.new-<name>-<pid>) of creations whose process is gone; one line each.
  std::vector<std::string> remove_abandoned();

  FileLock lock(FileLock::Mode mode) const;

 private:
  std::filesystem::path dir(const std::string& name) const { return root_ / name; }
  std::filesystem::path root_;
};

}  // namespace mcore::engine
