#include "engine/image/image_puller.hpp"

#include <sys/utsname.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>

#include "engine/io/byte_pipe.hpp"
#include "engine/image/image_manifest.hpp"
#include "engine/image/layer_blob.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

class NullObserver final : public PullObserver {
 public:
  void layer(const std::string&, LayerState, std::uint64_t, std::uint64_t) override {}
};

// Collects a small blob (the config) in memory.
class StringSink final : public ByteSink {
 public:
  void write(std::span<const std::byte> bytes) override {
    text.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  std::string text;
};

// Every downloaded byte goes to the blob file (hashed there) and into the unpacker's pipe. When the
// unpacker gives up, the download still completes so the blob digest can tell corrupt data (the
// registry's fault) from a bad archive.
class TeeSink final : public ByteSink {
 public:
  TeeSink(BlobWriter& blob, BytePipe& pipe, PullObserver& observer, const LayerBlob& layer)
      : blob_(blob), pipe_(pipe), observer_(observer), layer_(layer), done_(blob.offset()) {}
  void write(std::span<const std::byte> bytes) override {
    blob_.write(bytes);
    if (!unpacker_gone_) {
      try {
        pipe_.write(bytes);
      } catch (const Error&) {
        unpacker_gone_ = true;
      }
    }
    done_ += bytes.size();
    observer_.layer(layer_.digest, LayerState::downloading, done_, static_cast<std::uint64_t>(layer_.size));
  }

 private:
  BlobWriter& blob_;
  BytePipe& pipe_;
  PullObserver& observer_;
  const LayerBlob& layer_;
  std::uint64_t done_;
  bool unpacker_gone_ = false;
};

// Feeds the bytes an earlier, interrupted pull already stored, so the unpacker sees the whole stream.
void replay_partial(const BlobWriter& blob, BytePipe& pipe) {
  if (blob.offset() == 0) return;
  std::ifstream partial(blob.partial_path(), std::ios::binary);
  std::vector<char> buffer(1 << 16);
  std::uint64_t left = blob.offset();
  while (left > 0 && partial) {
    partial.read(buffer.data(), static_cast<std::streamsize>(std::min<std::uint64_t>(left, buffer.size())));
    auto got = static_cast<std::size_t>(partial.gcount());
    if (got == 0) break;
    pipe.write(std::as_bytes(std::span(buffer.data(), got)));
    left -= got;
  }
  if (left > 0) throw Error("read the partial download " + blob.partial_path().string());
}

// One layer: download into the store and unpack through the storage driver, concurrently. Returns the
// unpacked size. When another process is pulling the same layer, waits for it and uses its result.
std::uint64_t pull_layer(ImageStore& store, RegistryDriver& registry, StorageDriver& storage,
                const ImageReference& reference, const LayerBlob& layer, const std::string& diff_id,
                PullObserver& observer) {
  BlobWriter blob = store.begin_blob(
      layer.digest, [&] { observer.layer(layer.digest, LayerState::waiting_for_other_pull, 0, 0); });
  if (const auto present = storage.find_layer(diff_id)) {
    blob.discard();  // the other pull finished it
    observer.layer(layer.digest, LayerState::already_exists, 0, 0);
    return present->size_bytes;
  }
  BytePipe pipe;
  std::exception_ptr unpack_error;
  std::uint64_t unpacked_size = 0;
  std::thread unpacker([&] {
    try {
      unpacked_size = apply_layer_stream(storage, pipe, diff_id, "layer " + layer.digest.substr(7, 12)).size_bytes;
    } catch (...) {
      unpack_error = std::current_exception();
      pipe.abandon();
    }
  });
  std::exception_ptr download_error;
  bool committed = false;
  try {
    replay_partial(blob, pipe);
    TeeSink sink(blob, pipe, observer, layer);
    ContentDescriptor descriptor;
    descriptor.media_type = layer.media_type;
    descriptor.digest = layer.digest;
    descriptor.size = layer.size;
    registry.fetch_blob(reference, descriptor, blob.offset(), sink);
    observer.layer(layer.digest, LayerState::extracting, 0, 0);
    blob.commit();  // throws on a digest mismatch, and the unpacker then fails too
    committed = true;
    pipe.close();
  } catch (...) {
    download_error = std::current_exception();
    pipe.fail(download_error);
  }
  unpacker.join();
  // A blob that failed its digest explains any unpack error; report the cause.
  if (download_error) std::rethrow_exception(download_error);
  if (unpack_error) {
    // A verified blob whose archive was refused (escaping paths, say) is not kept either.
    if (committed) store.remove_blob(layer.digest);
    std::rethrow_exception(unpack_error);
  }
  observer.layer(layer.digest, LayerState::done, 0, 0);
  return unpacked_size;
}

std::string fetch_config(ImageStore& store, RegistryDriver& registry, const ImageReference& reference,
                         const ImageManifest& manifest) {
  if (store.has_blob(manifest.config_digest)) return store.read_blob(manifest.config_digest);
  StringSink sink;
  ContentDescriptor descriptor;
  descriptor.media_type = "application/vnd.oci.image.config.v1+json";
  descriptor.digest = manifest.config_digest;
  descriptor.size = manifest.config_size;
  registry.fetch_blob(reference, descriptor, 0, sink);
  if (sha256_digest(sink.text) != manifest.config_digest) {
    throw Error("the image config does not match its digest " + manifest.config_digest, 0,
                "the registry sent corrupt data; nothing was stored");
  }
  store.put_blob(manifest.config_digest, sink.text);
  return sink.text;
}

}  // namespace

Platform host_platform() {
  Platform platform;
  utsname names{};
  ::uname(&names);
  std::string machine = names.machine;
  if (machine == "x86_64") {
    platform.architecture = "amd64";
  } else if (machine == "aarch64") {
    platform.architecture = "arm64";
    platform.variant = "v8";
  } else {
    platform.architecture = machine;
  }
  return platform;
}

ImageRecord pull_image(ImageStore& store, RegistryDriver& registry, StorageDriver& storage,
                       const ImageReference& reference, const PullOptions& options) {
  NullObserver silent;
  PullObserver& observer = options.observer != nullptr ? *options.observer : silent;
  const FileLock writing = store.hold_for_writing();

  ResolvedManifest resolved = registry.resolve(reference, options.platform);
  ImageManifest manifest = parse_image_manifest(resolved.manifest_bytes);
  std::string config_text = fetch_config(store, registry, reference, manifest);
  nlohmann::json config = nlohmann::json::parse(config_text, nullptr, false);
  if (!config.is_object()) throw Error("the image config of " + to_string(reference) + " is not JSON");
  std::vector<std::string> diff_ids = config_diff_ids(config, manifest.layers.size());

  // Layers already unpacked (shared with other images) are skipped; the rest go to a few workers.
  std::vector<std::uint64_t> unpacked_sizes(manifest.layers.size(), 0);
  std::vector<std::size_t> missing;
  for (std::size_t i = 0; i < manifest.layers.size(); ++i) {
    if (const auto present = storage.find_layer(diff_ids[i])) {
      unpacked_sizes[i] = present->size_bytes;
      observer.layer(manifest.layers[i].digest, LayerState::already_exists, 0, 0);
    } else {
      observer.layer(manifest.layers[i].digest, LayerState::waiting, 0, 0);
      missing.push_back(i);
    }
  }
  std::atomic<std::size_t> next{0};
  std::mutex failure_mutex;
  std::exception_ptr failure;
  auto worker = [&] {
    for (std::size_t slot = next++; slot < missing.size(); slot = next++) {
      {
        std::lock_guard lock(failure_mutex);
        if (failure) return;
      }
      std::size_t i = missing[slot];
      try {
        unpacked_sizes[i] =
            pull_layer(store, registry, storage, reference, manifest.layers[i], diff_ids[i], observer);
      } catch (...) {
        std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
      }
    }
  };
  std::vector<std::thread> workers;
  unsigned count = std::max(1u, std::min<unsigned>(options.parallel_layers, static_cast<unsigned>(missing.size())));
  for (unsigned i = 0; i + 1 < count; ++i) workers.emplace_back(worker);
  worker();
  for (auto& thread : workers) thread.join();
  if (failure) std::rethrow_exception(failure);

  store.put_blob(resolved.manifest.digest, resolved.manifest_bytes);
  ImageRecord record;
  record.id = manifest.config_digest;
  if (!reference.tag.empty()) {
    ImageReference tagged = reference;
    tagged.digest.clear();
    record.names.push_back(to_string(tagged));
  }
  record.manifest_digest = resolved.manifest.digest;
  record.repo_digests.push_back(reference.registry + "/" + reference.repository + "@" + resolved.manifest.digest);
  record.layers = diff_ids;
  record.created = config.value("created", "");
  for (const auto size : unpacked_sizes) record.size += static_cast<std::int64_t>(size);
  store.add_image(record);
  return record;
}

ImageRecord pull_image(Engine& engine, const ImageReference& reference, const Platform& platform, PullSink* sink,
                       bool missing_locally) {
  PullOptions options;
  options.platform = platform;
  options.parallel_layers = engine.config().max_concurrent_downloads;
  if (sink != nullptr) options.observer = sink->pulling(reference, missing_locally);
  ImageStore store(engine.config().data_root);
  ImageRecord record;
  try {
    record = pull_image(store, *engine.registry(), *engine.storage(), reference, options);
  } catch (...) {
    if (sink != nullptr) sink->pull_failed();
    throw;
  }
  if (sink != nullptr) sink->pulled(reference, record);
  return record;
}

}  // namespace mcore::engine
