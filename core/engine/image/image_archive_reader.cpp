#include "engine/image/image_archive_reader.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "engine/io/fd_stream.hpp"
#include "engine/image/image_archive.hpp"
#include "engine/image/image_manifest.hpp"
#include "engine/image/layer_blob.hpp"
#include "engine/image/layer_stream.hpp"
#include "engine/image/store_rollback.hpp"
#include "engine/image/tar_archive.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

constexpr const char* kDamagedHint = "the archive is damaged or truncated; nothing of it was kept";
// JSON members (manifest.json, index.json, docker-archive configs) are kept in memory up to these sizes;
// anything larger or beyond goes to the blob store like every other file.
constexpr std::uint64_t kMemberInMemory = 16u << 20;
constexpr std::uint64_t kAllInMemory = 64u << 20;

std::string base_name(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// One regular file of the archive: its text, or its blob in the store.
struct Member {
  std::optional<std::string> text;
  std::string digest;  // set once the member is in the blob store
  std::uint64_t size = 0;
};

// What the archive holds, after it was streamed once.
class ArchiveContents {
 public:
  ArchiveContents(ImageStore& store, StoreRollback& rollback) : store_(store), rollback_(rollback) {}

  void read(ByteSource& input) {
    DecompressingSource decompressed(input);
    TarReader tar(decompressed, "the archive");
    while (const auto entry = tar.next()) {
      const auto path = normalize_archive_path(entry->path);
      if (!path) continue;  // the root directory, or a name out of the archive no manifest can mean
      switch (entry->type) {
        case TarEntry::Type::symlink: {
          const std::string base =
              path->find('/') == std::string::npos ? "" : path->substr(0, path->rfind('/') + 1);
          if (auto target =
                  normalize_archive_path(entry->link.starts_with('/') ? entry->link : base + entry->link)) {
            links_[*path] = *target;
          }
          break;
        }
        case TarEntry::Type::hardlink:
          if (auto target = normalize_archive_path(entry->link)) links_[*path] = *target;
          break;
        case TarEntry::Type::file: add_file(*path, *entry, tar.content()); break;
        default: break;
      }
    }
  }

  bool contains(const std::string& path) { return lookup(path) != nullptr; }

  // A member's bytes (a small JSON file). Throws Error when the archive lacks it.
  std::string text(const std::string& path) {
    Member& member = need(path);
    if (member.text) return *member.text;
    return store_.read_blob(member.digest);
  }

  // A member as a blob in the store, stored now if it was kept in memory. Throws Error when missing.
  const Member& blob(const std::string& path) {
    Member& member = need(path);
    if (member.digest.empty()) {
      member.digest = sha256_digest(*member.text);
      if (!store_.has_blob(member.digest)) {
        store_.put_blob(member.digest, *member.text);
        rollback_.added_blob(member.digest);
      }
    }
    return member;
  }

 private:
  void add_file(const std::string& path, const TarEntry& entry, ByteSource& content) {
    const std::string name = base_name(path);
    // Docker's legacy per-layer metadata: nothing reads it.
    if (name == "VERSION" || name == "json") return;
    const auto size = static_cast<std::uint64_t>(std::max<std::int64_t>(entry.size, 0));
    const bool metadata = name.ends_with(".json") || name == kOciLayoutFile || name == "repositories";
    if (metadata && size <= kMemberInMemory && in_memory_ + size <= kAllInMemory) {
      std::string text;
      std::vector<std::byte> buffer(1 << 16);
      for (std::size_t got; (got = content.read(buffer)) != 0;)
        text.append(reinterpret_cast<const char*>(buffer.data()), got);
      in_memory_ += text.size();
      members_[path] = Member{std::move(text), "", size};
      return;
    }
    const ImageStore::AddedBlob added = store_.add_blob(content);
    if (added.created) rollback_.added_blob(added.digest);
    // An OCI layout names blobs by digest: a mismatch is corruption, caught before anything uses it.
    if (const auto named = digest_of_blob_path(path); named && *named != added.digest) {
      throw Error(
          "the archive's " + path + " does not match its digest: its content hashes to " + added.digest, 0,
          kDamagedHint);
    }
    members_[path] = Member{std::nullopt, added.digest, added.size};
  }

  Member* lookup(std::string path) {
    for (int hops = 0; hops < 16; ++hops) {
      if (const auto member = members_.find(path); member != members_.end()) return &member->second;
      const auto link = links_.find(path);
      if (link == links_.end()) return nullptr;
      path = link->second;
    }
    return nullptr;
  }

  Member& need(const std::string& path) {
    const auto normal = normalize_archive_path(path);
    Member* member = normal ? lookup(*normal) : nullptr;
    if (member == nullptr)
      throw Error("the archive lacks " + path + ", which its manifest names", 0, kDamagedHint);
    return *member;
  }

  ImageStore& store_;
  StoreRollback& rollback_;
  std::map<std::string, Member> members_;
  std::map<std::string, std::string> links_;
  std::uint64_t in_memory_ = 0;
};

// One image to add, resolved from the archive's metadata; all its blobs are in the store.
struct PlannedImage {
  std::string manifest_digest;
  ImageManifest manifest;
  nlohmann::json config;
  std::vector<std::string> diff_ids;
  std::vector<std::string> names;
};

void require_blob(const ImageStore& store, const std::string& digest, const std::string& what) {
  if (!store.has_blob(digest)) throw Error("the archive lacks the " + what + " " + digest, 0, kDamagedHint);
}

PlannedImage plan_from_manifest(const ImageStore& store, const std::string& manifest_digest) {
  PlannedImage plan;
  plan.manifest_digest = manifest_digest;
  plan.manifest = parse_image_manifest(store.read_blob(manifest_digest));
  require_blob(store, plan.manifest.config_digest, "image config");
  plan.config = nlohmann::json::parse(store.read_blob(plan.manifest.config_digest), nullptr, false);
  if (!plan.config.is_object())
    throw Error("the image config " + plan.manifest.config_digest + " is not JSON", 0, kDamagedHint);
  plan.diff_ids = config_diff_ids(plan.config, plan.manifest.layers.size());
  for (const auto& layer : plan.manifest.layers) require_blob(store, layer.digest, "layer");
  return plan;
}

void add_names(std::vector<std::string>& names, const std::vector<std::string>& more) {
  for (const auto& name : more) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
}

// The images index.json names, one per manifest, with the names of all its entries.
std::vector<PlannedImage> plan_oci(ImageStore& store, ArchiveContents& contents, const Platform& platform) {
  std::vector<PlannedImage> plans;
  for (const auto& entry : parse_oci_index(contents.text(std::string(kOciIndexFile)))) {
    require_blob(store, entry.digest, "manifest");
    std::string digest = entry.digest;
    const std::string bytes = store.read_blob(digest);
    const auto json = nlohmann::json::parse(bytes, nullptr, false);
    if (is_index_media_type(entry.media_type) || (json.is_object() && json.contains("manifests"))) {
      const auto chosen = select_platform(parse_oci_index(bytes), platform);
      if (!chosen) {
        throw Error("the archive has no image for " + platform.os + "/" + platform.architecture +
                        (platform.variant.empty() ? "" : "/" + platform.variant),
                    0, "load an archive saved for this platform");
      }
      digest = chosen->digest;
      require_blob(store, digest, "manifest");
    }
    const auto same =
        std::find_if(plans.begin(), plans.end(), [&](const auto& p) { return p.manifest_digest == digest; });
    PlannedImage& plan = same != plans.end() ? *same : plans.emplace_back(plan_from_manifest(store, digest));
    if (entry.name) add_names(plan.names, {*entry.name});
  }
  return plans;
}

// A manifest for layers stored as they came: their media types follow their first bytes.
std::string synthesize_manifest(const ImageStore& store, const Member& config,
                                const std::vector<const Member*>& layers) {
  std::vector<LayerBlob> blobs;
  for (const Member* layer : layers) {
    std::byte magic[4] = {};
    FileSource file(store.blob_path(layer->digest));
    std::size_t got = 0;
    for (std::size_t n; got < sizeof magic && (n = file.read(std::span(magic).subspan(got))) != 0;) got += n;
    blobs.push_back({layer_media_type_of(std::span(magic).first(got)), layer->digest,
                     static_cast<std::int64_t>(layer->size)});
  }
  return make_oci_manifest(config.digest, static_cast<std::int64_t>(config.size), blobs);
}

// The images manifest.json names. Where the archive also has an OCI layout (Docker 25, mcore save), the
// image keeps its original manifest; otherwise mcore writes one for it.
std::vector<PlannedImage> plan_docker(ImageStore& store, ArchiveContents& contents, StoreRollback& rollback,
                                      const Platform& platform) {
  std::vector<PlannedImage> layout;
  if (contents.contains(std::string(kOciIndexFile))) {
    try {
      layout = plan_oci(store, contents, platform);
    } catch (const Error&) {
      // manifest.json alone describes the images.
    }
  }
  std::vector<PlannedImage> plans;
  for (const auto& item : parse_docker_archive_manifest(contents.text(std::string(kDockerManifestFile)))) {
    const Member& config = contents.blob(item.config);
    std::vector<const Member*> layers;
    std::vector<std::string> layer_digests;
    for (const auto& path : item.layers) {
      layers.push_back(&contents.blob(path));
      layer_digests.push_back(layers.back()->digest);
    }
    const auto original = std::find_if(layout.begin(), layout.end(), [&](const PlannedImage& plan) {
      std::vector<std::string> digests;
      for (const auto& layer : plan.manifest.layers) digests.push_back(layer.digest);
      return plan.manifest.config_digest == config.digest && digests == layer_digests;
    });
    std::string manifest_digest;
    if (original != layout.end()) {
      manifest_digest = original->manifest_digest;
    } else {
      const std::string manifest = synthesize_manifest(store, config, layers);
      manifest_digest = sha256_digest(manifest);
      if (!store.has_blob(manifest_digest)) {
        store.put_blob(manifest_digest, manifest);
        rollback.added_blob(manifest_digest);
      }
    }
    const auto same = std::find_if(plans.begin(), plans.end(),
                                   [&](const auto& p) { return p.manifest_digest == manifest_digest; });
    PlannedImage& plan =
        same != plans.end() ? *same : plans.emplace_back(plan_from_manifest(store, manifest_digest));
    add_names(plan.names, item.names);
  }
  return plans;
}

}  // namespace

std::vector<ImageRecord> load_image_archive(ImageStore& store, StorageDriver& storage, ByteSource& archive,
                                            const Platform& platform) {
  const FileLock writing = store.hold_for_writing();
  StoreRollback rollback(store, storage);
  ArchiveContents contents(store, rollback);
  contents.read(archive);

  std::vector<PlannedImage> plans;
  if (contents.contains(std::string(kDockerManifestFile))) {
    plans = plan_docker(store, contents, rollback, platform);
  } else if (contents.contains(std::string(kOciIndexFile))) {
    plans = plan_oci(store, contents, platform);
  } else {
    throw Error(
        "the input is no image archive: it has neither manifest.json nor index.json", 0,
        "mcore load reads docker-archive and oci-archive files (docker save, podman save, mcore save); "
        "use mcore import for a root filesystem tarball");
  }
  if (plans.empty()) throw Error("the archive holds no image", 0, kDamagedHint);

  std::map<std::string, std::uint64_t> layer_sizes;
  for (const auto& plan : plans) {
    for (std::size_t i = 0; i < plan.diff_ids.size(); ++i) {
      const std::string& diff_id = plan.diff_ids[i];
      if (layer_sizes.contains(diff_id)) continue;
      if (const auto present = storage.find_layer(diff_id)) {
        layer_sizes[diff_id] = present->size_bytes;
        continue;
      }
      layer_sizes[diff_id] =
          apply_layer_blob(store, storage, plan.manifest.layers[i].digest, diff_id).size_bytes;
      rollback.added_layer(diff_id);
    }
  }

  std::vector<ImageRecord> loaded;
  std::set<std::string> referenced;
  for (const auto& plan : plans) {
    ImageRecord record;
    record.id = plan.manifest.config_digest;
    record.names = plan.names;
    record.manifest_digest = plan.manifest_digest;
    record.layers = plan.diff_ids;
    record.created = plan.config.value("created", "");
    for (const auto& diff_id : plan.diff_ids) record.size += static_cast<std::int64_t>(layer_sizes[diff_id]);
    store.add_image(record);
    loaded.push_back(std::move(record));
    referenced.insert({plan.manifest_digest, plan.manifest.config_digest});
    for (const auto& layer : plan.manifest.layers) referenced.insert(layer.digest);
  }
  rollback.commit();
  // Members no image uses (indexes, other platforms, stray files) were stored on the way: drop them.
  for (const auto& blob : rollback.blobs()) {
    if (!referenced.contains(blob)) store.remove_blob(blob);
  }
  return loaded;
}

}  // namespace mcore::engine
