#pragma once
// The image store: content-addressed blobs and the index of images and their names.
//
//   <data_root>/images/blobs/sha256/<hex>        manifests, configs, compressed layers (verified)
//   <data_root>/images/blobs/tmp/                 downloads in progress (resumable, never visible)
//   <data_root>/images/index.json                 images: id, names, manifest, layers, config digest
//   <data_root>/images/index.lock                 flock for every read-modify-write of the index
//   <data_root>/images/gc.lock                    held shared by writers, exclusively by garbage collection
//
// A blob becomes visible under its digest only once every byte was hashed and matched; the index is
// replaced atomically. Unpacked layers belong to the storage driver, keyed by diff_id.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/image/digest.hpp"
#include "engine/util/file_util.hpp"
#include "mcore/unique_fd.hpp"
#include "mcore/io.hpp"

namespace mcore::engine {

struct ImageRecord {
  std::string id;                         // the config digest, "sha256:..." (Docker's IMAGE ID)
  std::vector<std::string> names;         // normalised references, "docker.io/library/alpine:latest"
  std::string manifest_digest;            // the image manifest (after platform selection)
  std::vector<std::string> repo_digests;  // "docker.io/library/alpine@sha256:..." as pulled
  std::vector<std::string> layers;        // diff_ids, lowest first
  std::string created;                    // from the config, RFC 3339
  std::int64_t size = 0;                  // sum of the unpacked layer sizes
};

// Writes one blob: bytes are hashed as they arrive; commit() checks the digest and renames the file into
// place. Destroying an uncommitted writer keeps the partial file for resume unless discard() was called.
class BlobWriter {
 public:
  BlobWriter(std::filesystem::path temp_path, std::filesystem::path final_path, std::string expected_digest,
             UniqueFd fd, std::uint64_t resumed_bytes, Sha256 hash);
  BlobWriter(BlobWriter&&) noexcept = default;
  ~BlobWriter();

  // Bytes already present from an earlier, interrupted download (resume from here).
  std::uint64_t offset() const { return written_; }
  // The partial file, whose first offset() bytes a resumed pull replays into its unpacker.
  const std::filesystem::path& partial_path() const { return temp_path_; }
  void write(std::span<const std::byte> bytes);
  // Verifies and publishes the blob; throws Error (and deletes the partial file) on a digest mismatch.
  void commit();
  // Deletes the partial file.
  void discard() noexcept;

 private:
  std::filesystem::path temp_path_;
  std::filesystem::path final_path_;
  std::string expected_digest_;
  UniqueFd fd_;
  std::uint64_t written_ = 0;
  Sha256 hash_;
  bool done_ = false;
};

class ImageStore {
 public:
  // Creates <data_root>/images and its blob directories when missing. Throws Error.
  explicit ImageStore(std::filesystem::path data_root);

  bool has_blob(const std::string& digest) const;
  std::filesystem::path blob_path(const std::string& digest) const;
  // Reads a small blob (manifest, config) and verifies it against its digest. Throws Error.
  std::string read_blob(const std::string& digest) const;
  // Stores `content` under its digest (which must equal `digest`). Idempotent.
  void put_blob(const std::string& digest, std::string_view content);
  // Starts or resumes writing `digest`. One writer per blob: while another process writes it, calls
  // `on_wait` once and blocks until that one is done (the blob may then be complete: check has_blob).
  // Throws Error on an invalid digest.
  BlobWriter begin_blob(const std::string& digest, const std::function<void()>& on_wait = [] {});
  void remove_blob(const std::string& digest);

  // Adds or updates an image and points each of `record.names` at it, taking names away from any
  // other image (which keeps existing, untagged, as in Docker). Updating a known id replaces its fields
  // but keeps the names and repo_digests it already had. Atomic, under the index lock.
  void add_image(const ImageRecord& record);
  // Finds by normalised name ("docker.io/library/alpine:latest") or repo digest, by id, or by an
  // unambiguous id prefix (with or without "sha256:"); names win over id prefixes. Throws Error on an
  // ambiguous prefix.
  std::optional<ImageRecord> find(const std::string& name_or_id) const;
  std::vector<ImageRecord> list() const;
  // Removes a name; returns the image it named. Throws Error when the name is unknown.
  ImageRecord untag(const std::string& name);
  // Removes an image from the index (blobs stay until garbage-collected). Idempotent.
  void remove_image(const std::string& id);
  // Blobs no image refers to (manifests, configs, layers), sorted, for rmi and prune. Only meaningful
  // under hold_for_collection(): a pull's blobs are unreferenced until it adds its image.
  std::vector<std::string> unreferenced_blobs() const;
  // Deletes what pulls, loads, imports and commits killed midway left in blobs/tmp (partial downloads,
  // temporary blobs) and the temporary files of atomic writes beside blobs and the index; adds the
  // bytes freed to `freed`. Only under hold_for_collection(), when none of
  // them runs. Returns one line per file.
  std::vector<std::string> remove_unfinished_blobs(std::uint64_t& freed);

  // Whatever stores blobs or layers before it adds the image (pull, load, import) or a container record
  // naming an image's layers (run) holds the store for writing until it has done so; many may at once.
  // Garbage collection holds it for collection, alone, so it never frees what a writer is about to
  // reference. Blocks until granted. A process must not ask for collection while it holds for writing.
  FileLock hold_for_writing() const;
  FileLock hold_for_collection() const;

  // Stores a blob whose digest is known only at its end (a member of an image archive, an imported
  // layer): all of `content` is hashed while written to a temporary file, then published under its
  // digest unless that blob exists already. Throws Error; nothing of it remains on failure.
  struct AddedBlob {
    std::string digest;
    std::uint64_t size = 0;
    bool created = false;  // false when the store already had it
  };
  AddedBlob add_blob(ByteSource& content);

  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
};

}  // namespace mcore::engine
