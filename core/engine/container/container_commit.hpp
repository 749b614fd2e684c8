#pragma once
// mcore commit: a container's changes become a new image, as `docker commit` does. The new image is the
// container's image layers plus one layer holding the writable layer's changes (whiteouts for
// deletions), described by a config derived from the image's and from what `run` decided.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/container/container_spec.hpp"
#include "engine/context/engine.hpp"
#include "engine/image/image_store.hpp"
#include "mcore/registry_driver.hpp"

namespace mcore::engine {

struct CommitOptions {
  std::string name;     // normalised reference ("docker.io/library/x:latest"); "" for an untagged image
  std::string author;   // -a: the config's author, "" for none
  std::string message;  // -m: the config's and the history entry's comment, "" for none
  bool pause = true;    // freeze a running container while its changes are read
  std::string created;  // RFC 3339; now when empty
};

// The new image's config. `base` is the config of the container's image (nullopt when that image is
// gone: then the platform is `platform` and there is no older history). Config.Env, WorkingDir, User,
// Entrypoint and Cmd become the container's; Env leaves out what run adds for each container
// (HOSTNAME, TERM of -t). The spec keeps only the final argv: when it is the image's Entrypoint followed
// by something, Entrypoint stays and Cmd becomes the rest, otherwise Entrypoint is null and Cmd the
// argv. `diff_id` is appended to rootfs.diff_ids, or "" for a commit without changes (the history entry
// is then an empty_layer, as Docker's). No I/O.
nlohmann::json make_commit_config(const std::optional<nlohmann::json>& base, const ContainerSpec& spec,
                                  const std::string& diff_id, const CommitOptions& options,
                                  const Platform& platform);

// Commits container `container_id` (a full id) under its lock and the image store's writing hold: a
// running container is frozen while its changes are read unless options.pause is false. The diff is
// stored as a gzip blob and applied as a layer, the config and an OCI manifest added, the image named
// options.name. On any failure the stores are left as they were. Throws ContainerRefusal
// (container_control.hpp) for a container made with --rootfs, which has no image below its changes, or
// one removed meanwhile; Error for everything else.
ImageRecord commit_container(Engine& engine, const std::string& container_id, const CommitOptions& options);

}  // namespace mcore::engine
