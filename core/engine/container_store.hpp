#pragma once
// Container records on disk: <data_root>/containers/<id>/container.json, written atomically, and the
// name index <data_root>/containers/names/<name> -> <id>, a symlink whose creation is the atomic
// "is this name free" check.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mcore::engine {

enum class ContainerState { created, running, exited };
const char* to_string(ContainerState state);

struct ContainerRecord {
  std::string id;
  std::string name;
  ContainerState state = ContainerState::created;
  std::string created;      // RFC 3339, UTC
  std::string started_at;
  std::string finished_at;
  pid_t pid = 0;            // host pid while running; never used to signal (pidfds are)
  int exit_code = 0;
  bool oom_killed = false;
  std::vector<std::string> command;
  std::string rootfs;
  std::string image;         // as the user named it ("alpine"), "" with --rootfs
  std::string image_id;      // the image's config digest, so a later re-tag cannot hide the use
  std::vector<std::string> layers;  // the image's diff_ids, lowest first: kept while this record exists
  std::string hostname;
  std::string cgroup;       // the resource driver's group path

  nlohmann::json to_json() const;
  static ContainerRecord from_json(const nlohmann::json& json);
};

// 64 random hex digits.
std::string new_container_id();
// Docker-style "adjective_name".
std::string generate_container_name();
// Current time as RFC 3339 with nanoseconds, UTC.
std::string now_rfc3339();

class ContainerStore {
 public:
  explicit ContainerStore(std::filesystem::path data_root);

  // Claims `name` for `id`; throws Error naming the container that holds it.
  void reserve_name(const std::string& name, const std::string& id);
  void release_name(const std::string& name, const std::string& id) noexcept;

  // Writes the record (atomically; the container's directory is created when missing).
  void save(const ContainerRecord& record);
  std::optional<ContainerRecord> load(const std::string& id) const;
  // Every readable record; damaged ones are skipped (they cannot be trusted to name anything).
  std::vector<ContainerRecord> list() const;
  // Deletes the record and its directory. Idempotent.
  void remove(const std::string& id) noexcept;

  std::filesystem::path container_dir(const std::string& id) const;

 private:
  std::filesystem::path root_;
};

}  // namespace mcore::engine
