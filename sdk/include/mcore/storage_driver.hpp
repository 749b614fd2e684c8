#pragma once
// Storage drivers own image layers and containers' writable layers. Like containerd's snapshotters they
// *describe* mounts and never perform them: the engine mounts inside the container's own mount namespace,
// so the dangerous syscalls stay in one audited place and nothing stays mounted after a crash.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "mcore/io.hpp"
#include "mcore/plugin.hpp"

namespace mcore {

// One mount(2) call, performed by the engine in order.
struct MountSpec {
  std::string source;          // "overlay", "tmpfs", or a host path for a bind
  std::filesystem::path target;  // absolute host path
  std::string fstype;          // "" for a bind mount
  unsigned long flags = 0;     // MS_* flags
  std::string data;            // file-system options ("lowerdir=...,upperdir=...")
  // When set, the engine chdir()s here before mount(2), so `data` may hold relative paths: mount(2)
  // copies only one page of options, too little for many absolute layer paths.
  // (Appended while ABI 1.0 was unreleased; later fields must keep this layout.)
  std::filesystem::path working_directory;
};

struct RootfsRequest {
  std::string container_id;
  // Image layers from this driver's store, lowest first (ids as given to apply_layer).
  std::vector<std::string> layers;
  // Directories outside the store stacked above `layers`, lowest first (mcore run --rootfs DIR).
  std::vector<std::filesystem::path> external_lowers;
};

struct RootfsPlan {
  std::vector<MountSpec> mounts;   // performed in order; the last one mounts `rootfs`
  std::filesystem::path rootfs;    // where the container's root appears once mounted
  std::filesystem::path upper_dir; // the writable layer's directory (diff source for commit)
};

struct LayerInfo {
  std::string id;
  std::uint64_t size_bytes = 0;  // unpacked size on disk
};

class StorageDriver : public Driver {
 public:
  ~StorageDriver() override;

  // Creates the container's writable layer and returns the mounts that assemble its root. Mounts nothing.
  // Throws Error when a layer or external lower is missing. Calling it again for the same container
  // returns the same plan and keeps the writable layer's content.
  virtual RootfsPlan prepare_rootfs(const RootfsRequest& request) = 0;

  // Deletes everything prepare_rootfs created for the container, including its writable layer. The
  // rootfs must no longer be mounted. Idempotent: an unknown container is not an error.
  virtual void release_rootfs(const std::string& container_id) = 0;

  // Containers that currently have storage, for pruning what a crash left behind.
  virtual std::vector<std::string> list_rootfs() const = 0;

  // --- Layer store. Optional: the defaults throw Error(ENOTSUP). -------------------------------------

  // The layer's id and unpacked size once it has been applied completely and verified; nullopt while it
  // is missing or half-applied.
  virtual std::optional<LayerInfo> find_layer(const std::string& layer_id) const;

  // Every complete layer, for garbage collection.
  virtual std::vector<LayerInfo> list_layers() const;

  // Unpacks an uncompressed tar stream as layer `layer_id` (a diff_id), converting whiteouts. The layer
  // becomes visible to find_layer only after the whole stream succeeded; on any failure nothing of it
  // remains. Refuses entries escaping the layer. Safe to call concurrently for different ids.
  virtual LayerInfo apply_layer(const std::string& layer_id, ByteSource& tar_stream);

  // Deletes a layer. Idempotent. The caller guarantees no container uses it.
  virtual void remove_layer(const std::string& layer_id);

  // Writes the container's changes as an uncompressed tar layer (deletions as .wh. entries).
  virtual void write_diff(const std::string& container_id, ByteSink& tar_out);

  // Deletes what calls killed midway left behind (half-applied layers, removals cut short), never
  // anything a call in progress still works on; returns one line per thing removed. The engine calls
  // it from `mcore prune`, `image prune` and `boot`. Default: nothing to sweep.
  virtual std::vector<std::string> sweep_interrupted();
};

}  // namespace mcore
