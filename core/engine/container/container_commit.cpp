#include "engine/container/container_commit.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>
#include <vector>

#include "engine/container/container_control.hpp"
#include "engine/container/container_liveness.hpp"
#include "engine/container/container_store.hpp"
#include "engine/image/digest.hpp"
#include "engine/image/gzip_sink.hpp"
#include "engine/image/image_archive.hpp"
#include "engine/image/image_config.hpp"
#include "engine/image/image_manifest.hpp"
#include "engine/image/image_puller.hpp"
#include "engine/image/layer_blob.hpp"
#include "engine/image/store_rollback.hpp"
#include "engine/image/tar_archive.hpp"
#include "engine/io/byte_pipe.hpp"
#include "engine/io/fd_stream.hpp"
#include "engine/userns/id_map.hpp"
#include "engine/util/rfc3339.hpp"

namespace mcore::engine {
namespace {

constexpr const char* kGzipLayerMediaType = "application/vnd.oci.image.layer.v1.tar+gzip";

// A diff without entries: the two zero blocks that end every tar. Docker adds no layer for it.
const std::string& empty_tar_digest() {
  static const std::string digest = sha256_digest(std::string(1024, '\0'));
  return digest;
}

// Environment entries `run` gives each container rather than taking from its image; a committed image
// keeping them would hand the old container's host name (and a terminal type) to every new one.
bool added_by_run(const std::string& entry, const ContainerSpec& spec) {
  return entry == "HOSTNAME=" + spec.hostname || (spec.tty && entry == "TERM=xterm");
}

std::vector<std::string> committed_env(const ContainerSpec& spec, const std::vector<std::string>& image_env) {
  std::vector<std::string> env;
  for (const auto& entry : spec.env) {
    const bool from_image = std::find(image_env.begin(), image_env.end(), entry) != image_env.end();
    if (from_image || !added_by_run(entry, spec)) env.push_back(entry);
  }
  return env;
}

// -u as run recorded it: "user[:group]".
std::string committed_user(const ContainerSpec& spec) {
  return spec.group ? spec.user + ":" + *spec.group : spec.user;
}

nlohmann::json list_or_null(const std::vector<std::string>& items) {
  return items.empty() ? nlohmann::json(nullptr) : nlohmann::json(items);
}

// Config.Entrypoint and Config.Cmd from the argv run decided (see make_commit_config).
void set_command(nlohmann::json& container_config, const ImageDefaults& image,
                 const std::vector<std::string>& args) {
  std::vector<std::string> image_command = image.entrypoint;
  image_command.insert(image_command.end(), image.cmd.begin(), image.cmd.end());
  if (args == image_command) return;
  const auto& entrypoint = image.entrypoint;
  if (!entrypoint.empty() && args.size() >= entrypoint.size() &&
      std::equal(entrypoint.begin(), entrypoint.end(), args.begin())) {
    container_config["Cmd"] =
        list_or_null({args.begin() + static_cast<std::ptrdiff_t>(entrypoint.size()), args.end()});
    return;
  }
  container_config["Entrypoint"] = nullptr;
  container_config["Cmd"] = list_or_null(args);
}

// Sets `key` to `text`, or removes it when `text` is empty (Docker omits empty author and comment).
void set_or_erase(nlohmann::json& object, const char* key, const std::string& text) {
  if (text.empty()) {
    object.erase(key);
  } else {
    object[key] = text;
  }
}

// Hashes what passes on to `next`: the diff's diff_id, on its way to the compressor.
class DigestingSink final : public ByteSink {
 public:
  explicit DigestingSink(ByteSink& next) : next_(next) {}
  void write(std::span<const std::byte> bytes) override {
    hash_.update(bytes);
    next_.write(bytes);
  }
  std::string digest() { return hash_.finish(); }

 private:
  ByteSink& next_;
  Sha256 hash_;
};

struct StoredDiff {
  ImageStore::AddedBlob blob;  // gzip-compressed
  std::string diff_id;         // of the uncompressed tar
};

// The kernel's overflow id: what an id the map does not reach shows as inside the container.
constexpr std::uint32_t kOverflowId = 65534;

// The container's changes as a tar. In a user namespace of its own, its writable layer holds host ids
// (100000 for its root): they are mapped back through its maps, so that the layer has the ids the
// container saw and another container (mapped or not) sees the same owners.
void write_changes(StorageDriver& storage, const ContainerSpec& spec, const std::string& container_id,
                   ByteSink& tar) {
  if (!has_own_user_namespace(spec)) {
    storage.write_diff(container_id, tar);
    return;
  }
  pipe_through([&](ByteSink& host_ids) { storage.write_diff(container_id, host_ids); },
               [&](ByteSource& host_ids) {
                 TarReader reader(host_ids, "the container's changes");
                 TarWriter writer(tar);
                 writer.copy_entries(reader, [&](std::uint32_t id, bool group) {
                   return container_id_of(group ? spec.gid_map : spec.uid_map, id).value_or(kOverflowId);
                 });
                 writer.finish();
               });
}

// The container's diff as a gzip blob. The driver writes it on a thread of its own into a pipe that
// add_blob reads, so the diff is never held whole in memory nor written to disk twice.
StoredDiff store_diff(ImageStore& store, StorageDriver& storage, const ContainerSpec& spec,
                      const std::string& container_id) {
  StoredDiff stored;
  pipe_through(
      [&](ByteSink& compressed) {
        GzipSink gzip(compressed);
        DigestingSink tar(gzip);
        write_changes(storage, spec, container_id, tar);
        gzip.finish();
        stored.diff_id = tar.digest();
      },
      [&](ByteSource& compressed) { stored.blob = store.add_blob(compressed); });
  return stored;
}

// The media type mcore's manifests give a stored layer blob, from its first bytes (a Docker manifest's
// types name the same content, but an OCI manifest must use OCI's).
std::string stored_layer_media_type(const ImageStore& store, const std::string& digest) {
  FileSource blob(store.blob_path(digest));
  std::array<std::byte, 4> magic{};
  std::size_t got = 0;
  while (got < magic.size()) {
    const std::size_t n = blob.read(std::span(magic).subspan(got));
    if (n == 0) break;
    got += n;
  }
  return layer_media_type_of(std::span(magic).first(got));
}

// The stored blob of each of the container's image layers, for the new manifest: from the manifest of
// any image listing the layer, the container's own image first. Layers are shared by diff_id, so
// another image may still hold a blob that `rmi -f` of the container's image let go.
std::vector<LayerBlob> image_layer_blobs(const ImageStore& store, const ContainerSpec& spec) {
  std::vector<ImageRecord> images = store.list();
  std::stable_partition(images.begin(), images.end(),
                        [&](const ImageRecord& image) { return image.id == spec.image_id; });
  const auto& diff_ids = spec.image_layers;
  std::vector<std::optional<LayerBlob>> found(diff_ids.size());
  auto missing = [&] { return std::find(found.begin(), found.end(), std::nullopt) != found.end(); };
  for (const auto& image : images) {
    if (!missing()) break;
    const bool useful = std::any_of(diff_ids.begin(), diff_ids.end(), [&](const std::string& diff_id) {
      return std::find(image.layers.begin(), image.layers.end(), diff_id) != image.layers.end();
    });
    if (!useful || !store.has_blob(image.manifest_digest)) continue;
    const ImageManifest manifest = parse_image_manifest(store.read_blob(image.manifest_digest));
    if (manifest.layers.size() != image.layers.size()) continue;
    for (std::size_t i = 0; i < diff_ids.size(); ++i) {
      const auto at = std::find(image.layers.begin(), image.layers.end(), diff_ids[i]);
      if (found[i] || at == image.layers.end()) continue;
      const LayerBlob& blob = manifest.layers[static_cast<std::size_t>(at - image.layers.begin())];
      if (store.has_blob(blob.digest)) {
        found[i] = LayerBlob{stored_layer_media_type(store, blob.digest), blob.digest, blob.size};
      }
    }
  }
  std::vector<LayerBlob> blobs;
  for (std::size_t i = 0; i < diff_ids.size(); ++i) {
    if (!found[i]) {
      const std::string image = spec.image.empty() ? spec.image_id : spec.image;
      throw Error("layer " + diff_ids[i] + " of the container's image " + image +
                      " has no stored blob: the image was removed, and the new image's manifest must name it",
                  0, "pull, load or import " + image + " again, then commit");
    }
    blobs.push_back(std::move(*found[i]));
  }
  return blobs;
}

// Freezes a running container (unless asked not to) until the end of the scope.
class FrozenForCommit {
 public:
  FrozenForCommit(Engine& engine, const ContainerRecord& record, bool pause) {
    if (!pause || record.state != ContainerState::running) return;
    resource_ = engine.resource();
    resource_->freeze(record.id);
    id_ = record.id;
    logger_ = engine.logger();
  }
  FrozenForCommit(const FrozenForCommit&) = delete;
  FrozenForCommit& operator=(const FrozenForCommit&) = delete;
  ~FrozenForCommit() {
    if (!resource_) return;
    try {
      resource_->thaw(id_);
    } catch (const Error& error) {
      logger_->error("container {} stays frozen: {}", id_.substr(0, 12), error.what());
    }
  }

 private:
  std::shared_ptr<ResourceDriver> resource_;
  std::string id_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace

nlohmann::json make_commit_config(const std::optional<nlohmann::json>& base, const ContainerSpec& spec,
                                  const std::string& diff_id, const CommitOptions& options,
                                  const Platform& platform) {
  nlohmann::json config = base && base->is_object() ? *base : nlohmann::json::object();
  if (!base) {
    config["architecture"] = platform.architecture;
    config["os"] = platform.os;
    if (!platform.variant.empty()) config["variant"] = platform.variant;
  }
  // Docker's legacy fields describe the image they were written for: its id, parent and container.
  for (const char* key : {"id", "parent", "container", "container_config"}) config.erase(key);
  const std::string created = options.created.empty() ? now_rfc3339() : options.created;
  config["created"] = created;
  set_or_erase(config, "author", options.author);
  set_or_erase(config, "comment", options.message);

  const ImageDefaults image = base ? read_image_defaults(*base) : ImageDefaults{};
  nlohmann::json& container_config = config["config"];
  if (!container_config.is_object()) container_config = nlohmann::json::object();
  container_config["Env"] = committed_env(spec, image.env);
  set_command(container_config, image, spec.args);
  // "/" is where a container without WorkingDir starts anyway: an image without one keeps it unset.
  if (spec.working_dir != image.working_dir && !(spec.working_dir == "/" && image.working_dir.empty())) {
    container_config["WorkingDir"] = spec.working_dir;
  }
  if (committed_user(spec) != image.user) container_config["User"] = committed_user(spec);

  std::vector<std::string> diff_ids = spec.image_layers;
  if (!diff_id.empty()) diff_ids.push_back(diff_id);
  config["rootfs"] = {{"type", "layers"}, {"diff_ids", diff_ids}};

  nlohmann::json entry = {{"created", created}, {"created_by", "mcore commit"}};
  set_or_erase(entry, "author", options.author);
  set_or_erase(entry, "comment", options.message);
  if (diff_id.empty()) entry["empty_layer"] = true;
  nlohmann::json& history = config["history"];
  if (!history.is_array()) history = nlohmann::json::array();
  history.push_back(std::move(entry));
  return config;
}

ImageRecord commit_container(Engine& engine, const std::string& container_id, const CommitOptions& options) {
  const Config& config = engine.config();
  ContainerStore containers(config.data_root);
  // Nothing may remove the container or its files while they are read.
  const FileLock container_lock = containers.lock(container_id);
  auto loaded = containers.load(container_id);
  if (!loaded) throw ContainerRefusal("no such container: " + container_id, 0, "it was removed meanwhile");
  const ContainerRecord record = observe_container(config, std::move(*loaded));
  const ContainerSpec& spec = record.spec;
  if (!spec.rootfs.empty() || spec.image_layers.empty()) {
    throw ContainerRefusal(
        "container " + record.name + " runs from the directory " + spec.rootfs.string() +
            " (--rootfs), not from an image: there are no image layers to put its changes on",
        0,
        "import the directory as an image (tar -C DIR -c . | mcore import - NAME), run the "
        "container from that image, then commit");
  }

  StorageDriver& storage = *engine.storage();
  ImageStore store(config.data_root);
  const FileLock writing = store.hold_for_writing();
  StoreRollback rollback(store, storage);
  ImageRecord image;
  for (const auto& diff_id : spec.image_layers) {
    const auto layer = storage.find_layer(diff_id);
    if (!layer) {
      throw Error(
          "layer " + diff_id + " of the container's image is missing from the layer store", 0,
          "the storage driver's files were changed behind mcore's back; the container cannot be committed");
    }
    image.size += static_cast<std::int64_t>(layer->size_bytes);
  }
  std::vector<LayerBlob> layers = image_layer_blobs(store, spec);

  StoredDiff diff;
  {
    const FrozenForCommit frozen(engine, record, options.pause);
    diff = store_diff(store, storage, spec, container_id);
  }
  std::vector<std::string> diff_ids = spec.image_layers;
  const bool unchanged = diff.diff_id == empty_tar_digest();
  if (unchanged) {
    if (diff.blob.created) store.remove_blob(diff.blob.digest);
  } else {
    if (diff.blob.created) rollback.added_blob(diff.blob.digest);
    auto layer = storage.find_layer(diff.diff_id);
    if (!layer) {
      layer = apply_layer_blob(store, storage, diff.blob.digest, diff.diff_id);
      rollback.added_layer(diff.diff_id);
    }
    image.size += static_cast<std::int64_t>(layer->size_bytes);
    layers.push_back({kGzipLayerMediaType, diff.blob.digest, static_cast<std::int64_t>(diff.blob.size)});
    diff_ids.push_back(diff.diff_id);
  }

  CommitOptions dated = options;
  if (dated.created.empty()) dated.created = now_rfc3339();
  std::optional<nlohmann::json> base;
  if (store.has_blob(spec.image_id)) base = nlohmann::json::parse(store.read_blob(spec.image_id));
  const std::string image_config =
      make_commit_config(base, spec, unchanged ? "" : diff.diff_id, dated, host_platform()).dump();
  const std::string manifest =
      make_oci_manifest(sha256_digest(image_config), static_cast<std::int64_t>(image_config.size()), layers);

  image.id = sha256_digest(image_config);
  image.manifest_digest = sha256_digest(manifest);
  for (const auto& [digest, content] :
       {std::pair{image.id, &image_config}, std::pair{image.manifest_digest, &manifest}}) {
    if (store.has_blob(digest)) continue;
    store.put_blob(digest, *content);
    rollback.added_blob(digest);
  }
  if (!options.name.empty()) image.names.push_back(options.name);
  image.layers = diff_ids;
  image.created = dated.created;
  store.add_image(image);
  rollback.commit();
  return image;
}

}  // namespace mcore::engine
