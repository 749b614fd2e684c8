// Image archives without root: the metadata rules (manifest.json, index.json, names), the tar reader and
// writer, the import metadata, and save -> load through a stand-in storage driver, including how a
// failed load leaves the store.
#include "engine/image/image_archive.hpp"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "engine/image/image_archive_reader.hpp"
#include "engine/image/image_archive_writer.hpp"
#include "engine/image/image_import.hpp"
#include "engine/image/tar_archive.hpp"
#include "mcore/error.hpp"
#include "tar_writer.hpp"
#include "test_support.hpp"

namespace mcore::engine {
namespace {

namespace fs = std::filesystem;
using test::StringSource;
using test::error_of;

std::span<const std::byte> bytes_of(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

class StringSink final : public ByteSink {
 public:
  void write(std::span<const std::byte> bytes) override {
    text.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  std::string text;
};

std::string digest_x(char c) { return "sha256:" + std::string(64, c); }

// --- Paths and names ----------------------------------------------------------------------------------

TEST(ArchivePaths, NormalizesAndRefusesEscapes) {
  EXPECT_EQ(normalize_archive_path("./blobs//sha256/./ab"), "blobs/sha256/ab");
  EXPECT_EQ(normalize_archive_path("/manifest.json"), "manifest.json");
  EXPECT_EQ(normalize_archive_path("a/b/../c"), "a/c");
  EXPECT_EQ(normalize_archive_path("../x"), std::nullopt);
  EXPECT_EQ(normalize_archive_path("a/../../x"), std::nullopt);
  EXPECT_EQ(normalize_archive_path("./"), std::nullopt);
}

TEST(ArchivePaths, BlobPathsNameDigests) {
  EXPECT_EQ(blob_archive_path(digest_x('a')), "blobs/sha256/" + std::string(64, 'a'));
  EXPECT_EQ(digest_of_blob_path("blobs/sha256/" + std::string(64, 'b')), digest_x('b'));
  EXPECT_EQ(digest_of_blob_path("blobs/sha256/xyz"), std::nullopt);
  EXPECT_EQ(digest_of_blob_path(std::string(64, 'b') + ".tar"), std::nullopt);
}

TEST(ArchiveFormat, ParsesPodmansNames) {
  EXPECT_EQ(parse_archive_format("docker-archive"), ArchiveFormat::docker_archive);
  EXPECT_EQ(parse_archive_format("oci-archive"), ArchiveFormat::oci_archive);
  EXPECT_NE(error_of([] { parse_archive_format("oci"); }).find("unknown archive format \"oci\""),
            std::string::npos);
}

// --- docker-archive manifest.json ---------------------------------------------------------------------

TEST(DockerArchiveManifest, ReadsDockerAndPodmanSpellings) {
  // Docker writes familiar names, podman whole ones; both normalise alike.
  const auto items = parse_docker_archive_manifest(R"([
    {"Config":"abc.json","RepoTags":["busybox:1","localhost:5000/app:v2"],"Layers":["l1/layer.tar","l2.tar"]},
    {"Config":"blobs/sha256/def","RepoTags":["localhost/exp:1","docker.io/library/busybox:1"],"Layers":[]},
    {"Config":"untagged.json","RepoTags":null,"Layers":["x.tar"]}])");
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].config, "abc.json");
  EXPECT_EQ(items[0].layers, (std::vector<std::string>{"l1/layer.tar", "l2.tar"}));
  EXPECT_EQ(items[0].names,
            (std::vector<std::string>{"docker.io/library/busybox:1", "localhost:5000/app:v2"}));
  EXPECT_EQ(items[1].names, (std::vector<std::string>{"localhost/exp:1", "docker.io/library/busybox:1"}));
  EXPECT_TRUE(items[2].names.empty());
}

TEST(DockerArchiveManifest, RefusesWhatItCannotLoad) {
  EXPECT_NE(error_of([] { parse_docker_archive_manifest("{}"); }).find("not a list"), std::string::npos);
  EXPECT_NE(error_of([] { parse_docker_archive_manifest("[{"); }).find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of([] { parse_docker_archive_manifest(R"([{"Layers":[]}])"); }).find("names no Config"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              parse_docker_archive_manifest(R"([{"Config":"c","RepoTags":["Bad:x"],"Layers":[]}])");
            }).find("\"Bad:x\", which is no image name"),
            std::string::npos);
}

// --- OCI index.json -----------------------------------------------------------------------------------

TEST(OciIndex, NamesComeFromContainerdsAnnotationThenAWholeRefName) {
  const std::string index = R"({"schemaVersion":2,"manifests":[
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                            digest_x('a') + R"(","size":10,
     "annotations":{"io.containerd.image.name":"docker.io/library/busybox:1","org.opencontainers.image.ref.name":"1"}},
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                            digest_x('b') + R"(","size":11,
     "annotations":{"org.opencontainers.image.ref.name":"localhost/exp:1"}},
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                            digest_x('c') + R"(","size":12,
     "annotations":{"org.opencontainers.image.ref.name":"latest"}},
    {"mediaType":"application/vnd.oci.image.index.v1+json","digest":")" +
                            digest_x('d') + R"(","size":13}]})";
  const auto entries = parse_oci_index(index);
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].digest, digest_x('a'));
  EXPECT_EQ(entries[0].size, 10);
  EXPECT_EQ(entries[0].name, "docker.io/library/busybox:1");
  EXPECT_EQ(entries[1].name, "localhost/exp:1");
  EXPECT_EQ(entries[2].name, std::nullopt) << "a bare tag names no repository";
  EXPECT_EQ(entries[3].name, std::nullopt);
  EXPECT_TRUE(is_index_media_type(entries[3].media_type));
  EXPECT_FALSE(is_index_media_type(entries[0].media_type));
}

TEST(OciIndex, RefusesBadDigests) {
  EXPECT_NE(
      error_of([] { parse_oci_index(R"({"manifests":[{"digest":"sha256:12"}]})"); }).find("invalid digest"),
      std::string::npos);
  EXPECT_NE(error_of([] { parse_oci_index(R"({"schemaVersion":2})"); }).find("no manifests list"),
            std::string::npos);
}

TEST(OciIndex, SelectsThePlatform) {
  const auto entries = parse_oci_index(R"({"manifests":[
    {"digest":")" + digest_x('a') + R"(","platform":{"os":"linux","architecture":"arm64"}},
    {"digest":")" + digest_x('b') + R"(","platform":{"os":"linux","architecture":"amd64"}},
    {"digest":")" + digest_x('c') + R"(","platform":{"os":"linux","architecture":"arm","variant":"v7"}}]})");
  EXPECT_EQ(select_platform(entries, Platform{"linux", "amd64", ""})->digest, digest_x('b'));
  EXPECT_EQ(select_platform(entries, Platform{"linux", "arm64", "v8"})->digest, digest_x('a'));
  EXPECT_EQ(select_platform(entries, Platform{"linux", "arm", "v7"})->digest, digest_x('c'));
  EXPECT_EQ(select_platform(entries, Platform{"linux", "arm", "v6"}), std::nullopt);
  EXPECT_EQ(select_platform(entries, Platform{"windows", "amd64", ""}), std::nullopt);
}

TEST(LayerMediaType, FollowsTheMagicBytes) {
  EXPECT_EQ(layer_media_type_of(bytes_of("\x1f\x8b\x08\x00")), "application/vnd.oci.image.layer.v1.tar+gzip");
  EXPECT_EQ(layer_media_type_of(bytes_of("\x28\xb5\x2f\xfd")), "application/vnd.oci.image.layer.v1.tar+zstd");
  EXPECT_EQ(layer_media_type_of(bytes_of("etc/")), "application/vnd.oci.image.layer.v1.tar");
  EXPECT_EQ(layer_media_type_of({}), "application/vnd.oci.image.layer.v1.tar");
}

// --- What mcore save writes ---------------------------------------------------------------------------

SavedImage saved_image(std::vector<std::string> names) {
  SavedImage image;
  image.manifest_digest = digest_x('e');
  image.manifest_media_type = "application/vnd.oci.image.manifest.v1+json";
  image.manifest_size = 400;
  image.config_digest = digest_x('c');
  image.layer_digests = {digest_x('1'), digest_x('2')};
  image.names = std::move(names);
  return image;
}

TEST(SavedMetadata, DockerManifestUsesFamiliarTagsAndBlobPaths) {
  const auto manifest = make_docker_archive_manifest(
      {saved_image({"docker.io/library/busybox:1", "localhost:5000/app:v2"}), saved_image({})});
  ASSERT_EQ(manifest.size(), 2u);
  EXPECT_EQ(manifest[0]["Config"], "blobs/sha256/" + std::string(64, 'c'));
  EXPECT_EQ(manifest[0]["RepoTags"], nlohmann::json({"busybox:1", "localhost:5000/app:v2"}));
  EXPECT_EQ(manifest[0]["Layers"],
            nlohmann::json({"blobs/sha256/" + std::string(64, '1'), "blobs/sha256/" + std::string(64, '2')}));
  EXPECT_TRUE(manifest[1]["RepoTags"].is_null()) << manifest.dump();
  // And mcore load reads back what mcore save wrote.
  EXPECT_EQ(parse_docker_archive_manifest(manifest.dump())[0].names,
            (std::vector<std::string>{"docker.io/library/busybox:1", "localhost:5000/app:v2"}));
}

TEST(SavedMetadata, OciIndexHasOneAnnotatedDescriptorPerName) {
  const auto index =
      make_oci_index({saved_image({"docker.io/library/busybox:1", "localhost/exp:2"}), saved_image({})});
  const auto& manifests = index["manifests"];
  ASSERT_EQ(manifests.size(), 3u) << index.dump();
  EXPECT_EQ(manifests[0]["annotations"]["io.containerd.image.name"], "docker.io/library/busybox:1");
  EXPECT_EQ(manifests[0]["annotations"]["org.opencontainers.image.ref.name"], "1");
  EXPECT_EQ(manifests[1]["annotations"]["org.opencontainers.image.ref.name"], "2");
  EXPECT_FALSE(manifests[2].contains("annotations"));
  EXPECT_EQ(manifests[2]["digest"], digest_x('e'));
  EXPECT_EQ(manifests[2]["size"], 400);
  const auto parsed = parse_oci_index(index.dump());
  EXPECT_EQ(parsed[1].name, "localhost/exp:2");
  EXPECT_EQ(parsed[2].name, std::nullopt);
}

// --- Import metadata ----------------------------------------------------------------------------------

TEST(ImportMetadata, DescribesOneUncompressedLayer) {
  ImportOptions options;
  options.source = "-";
  options.platform = Platform{"linux", "arm64", "v8"};
  options.created = "2024-05-06T07:08:09Z";
  const auto metadata = make_import_metadata(digest_x('d'), 10240, options);
  const auto config = nlohmann::json::parse(metadata.config);
  EXPECT_EQ(config["architecture"], "arm64");
  EXPECT_EQ(config["variant"], "v8");
  EXPECT_EQ(config["os"], "linux");
  EXPECT_EQ(config["created"], "2024-05-06T07:08:09Z");
  EXPECT_EQ(config["rootfs"]["diff_ids"], nlohmann::json({digest_x('d')}));
  EXPECT_EQ(config["history"][0]["comment"], "Imported from -");
  const auto manifest = nlohmann::json::parse(metadata.manifest);
  EXPECT_EQ(manifest["config"]["digest"], sha256_digest(metadata.config));
  EXPECT_EQ(manifest["config"]["size"], metadata.config.size());
  ASSERT_EQ(manifest["layers"].size(), 1u);
  EXPECT_EQ(manifest["layers"][0]["mediaType"], "application/vnd.oci.image.layer.v1.tar");
  EXPECT_EQ(manifest["layers"][0]["digest"], digest_x('d'))
      << "an uncompressed layer's digest is its diff_id";
  EXPECT_EQ(manifest["layers"][0]["size"], 10240);

  options.message = "base system";
  EXPECT_EQ(
      nlohmann::json::parse(make_import_metadata(digest_x('d'), 1, options).config)["history"][0]["comment"],
      "base system");
}

// --- Tar reader and writer ----------------------------------------------------------------------------

TEST(TarArchive, WritesWhatItReadsBack) {
  StringSink sink;
  {
    TarWriter writer(sink);
    writer.add_directory("blobs");
    writer.add_file("blobs/a", "hello");
    StringSource big(std::string(300000, 'x'));
    writer.add_file("blobs/big", 300000, big);
    writer.finish();
  }
  StringSource source(sink.text, 777);
  TarReader reader(source, "the archive");
  std::vector<std::pair<std::string, std::string>> seen;
  while (auto entry = reader.next()) {
    std::string content;
    if (entry->type == TarEntry::Type::file) {
      std::byte buffer[4096];
      for (std::size_t n; (n = reader.content().read(buffer)) != 0;)
        content.append(reinterpret_cast<char*>(buffer), n);
    }
    seen.emplace_back(entry->path, content);
  }
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].first, "blobs/");
  EXPECT_EQ(seen[1], (std::pair<std::string, std::string>{"blobs/a", "hello"}));
  EXPECT_EQ(seen[2].first, "blobs/big");
  EXPECT_EQ(seen[2].second, std::string(300000, 'x'));
}

TEST(TarArchive, AnAbandonedWriterLeavesNoEndMarker) {
  StringSink sink;
  {
    TarWriter writer(sink);
    writer.add_file("a", std::string(25000, 'a'));  // two 10 KiB blocks reach the sink, mid-way through "a"
    StringSource short_source("abc");
    EXPECT_NE(error_of([&] { writer.add_file("b", 10, short_source); }).find("b ended 7 bytes early"),
              std::string::npos);
  }
  // Whatever reached the sink must not read as a whole archive.
  EXPECT_EQ(sink.text.size(), 20480u);
  StringSource source(sink.text);
  EXPECT_THROW(
      {
        TarReader reader(source, "the archive");
        while (reader.next()) {
        }
      },
      Error);
}

TEST(TarArchive, ATruncatedArchiveFails) {
  const std::string tar =
      test::make_tar({test::tar_file("a", std::string(5000, 'a')), test::tar_file("b", "b")});
  StringSource source(tar.substr(0, 3000));
  TarReader reader(source, "the archive");
  ASSERT_TRUE(reader.next());
  std::byte buffer[8192];
  const std::string error = error_of([&] {
    while (reader.content().read(buffer) != 0) {
    }
  });
  EXPECT_NE(error.find("the archive: read an entry"), std::string::npos) << error;
}

// --- The blob store's digest-at-the-end writer --------------------------------------------------------

TEST(ImageStoreAddBlob, PublishesUnderTheDigestAndReportsWhetherItWasNew) {
  test::TempDir dir("mcore-unit");
  ImageStore store(dir.path());
  StringSource first("layer bytes", 3);
  const auto added = store.add_blob(first);
  EXPECT_EQ(added.digest, sha256_digest("layer bytes"));
  EXPECT_EQ(added.size, 11u);
  EXPECT_TRUE(added.created);
  EXPECT_EQ(store.read_blob(added.digest), "layer bytes");
  StringSource again("layer bytes");
  EXPECT_FALSE(store.add_blob(again).created);
  EXPECT_TRUE(fs::is_empty(store.root() / "blobs/tmp")) << "no temporary file stays behind";
}

// --- save -> load through a stand-in storage driver ---------------------------------------------------

// Layers in memory; apply_layer reads the whole stream (so the engine's diff_id check runs) and refuses
// a tar whose first entry is named "refuse-me", standing in for an escaping path.
class MemoryStorage final : public StorageDriver {
 public:
  RootfsPlan prepare_rootfs(const RootfsRequest&) override { return {}; }
  void release_rootfs(const std::string&) override {}
  std::vector<std::string> list_rootfs() const override { return {}; }
  std::optional<LayerInfo> find_layer(const std::string& id) const override {
    if (!layers.contains(id)) return std::nullopt;
    return LayerInfo{id, layers.at(id).size()};
  }
  LayerInfo apply_layer(const std::string& id, ByteSource& stream) override {
    std::string tar;
    std::byte buffer[4096];
    for (std::size_t n; (n = stream.read(buffer)) != 0;) tar.append(reinterpret_cast<char*>(buffer), n);
    if (tar.compare(0, 9, "refuse-me") == 0) throw Error("entry \"refuse-me\": has a \"..\" component");
    layers[id] = tar;
    return {id, tar.size()};
  }
  void remove_layer(const std::string& id) override { layers.erase(id); }
  std::map<std::string, std::string> layers;
};

std::set<std::string> blob_files(const ImageStore& store) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(store.root() / "blobs/sha256"))
    names.insert(entry.path().filename());
  return names;
}

class ArchiveRoundTrip : public ::testing::Test {
 protected:
  // A two-layer image: layer 1 plain tar, layer 2 gzip would need zlib here; plain is enough for logic.
  ImageRecord add_image(const std::string& name, const std::vector<std::string>& layer_tars) {
    nlohmann::json diff_ids = nlohmann::json::array();
    nlohmann::json layers = nlohmann::json::array();
    ImageRecord record;
    for (const auto& tar : layer_tars) {
      const std::string digest = sha256_digest(tar);
      store_.put_blob(digest, tar);
      storage_.layers[digest] = tar;
      diff_ids.push_back(digest);
      layers.push_back({{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
                        {"digest", digest},
                        {"size", tar.size()}});
      record.layers.push_back(digest);
    }
    const std::string config = nlohmann::json{{"architecture", "amd64"},
                                              {"os", "linux"},
                                              {"created", "2024-01-02T03:04:05Z"},
                                              {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}}
                                   .dump();
    const std::string manifest = nlohmann::json{
        {"schemaVersion", 2},
        {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
        {"config",
         {{"mediaType", "application/vnd.oci.image.config.v1+json"},
          {"digest", sha256_digest(config)},
          {"size", config.size()}}},
        {"layers", layers}}.dump();
    store_.put_blob(sha256_digest(config), config);
    store_.put_blob(sha256_digest(manifest), manifest);
    record.id = sha256_digest(config);
    record.names = {name};
    record.manifest_digest = sha256_digest(manifest);
    record.created = "2024-01-02T03:04:05Z";
    store_.add_image(record);
    return record;
  }

  std::string save(const std::vector<ImageToSave>& images, ArchiveFormat format) {
    StringSink sink;
    write_image_archive(store_, images, format, sink);
    return sink.text;
  }

  // Empties both stores, as rmi + GC would.
  void forget_everything() {
    for (const auto& image : store_.list()) store_.remove_image(image.id);
    for (const auto& blob : store_.unreferenced_blobs()) store_.remove_blob(blob);
    storage_.layers.clear();
  }

  std::vector<ImageRecord> load(const std::string& archive) {
    StringSource source(archive, 4000);
    return load_image_archive(store_, storage_, source, Platform{"linux", "amd64", ""});
  }

  test::TempDir dir_{"mcore-unit"};
  ImageStore store_{dir_.path()};
  MemoryStorage storage_;
};

TEST_F(ArchiveRoundTrip, SaveThenLoadRestoresImagesInBothFormats) {
  const auto one = add_image("docker.io/library/one:1", {"layer-a", "layer-b"});
  const auto two = add_image("localhost:5000/two:2", {"layer-a", "layer-c"});
  for (const auto format : {ArchiveFormat::docker_archive, ArchiveFormat::oci_archive}) {
    SCOPED_TRACE(format == ArchiveFormat::docker_archive ? "docker-archive" : "oci-archive");
    const std::string archive = save({{one, one.names}, {two, two.names}}, format);
    const auto blobs_before = blob_files(store_);
    forget_everything();
    const auto loaded = load(archive);
    ASSERT_EQ(loaded.size(), 2u);
    EXPECT_EQ(loaded[0].id, one.id);
    EXPECT_EQ(loaded[0].names, one.names);
    EXPECT_EQ(loaded[0].manifest_digest, one.manifest_digest) << "the original manifest survives";
    EXPECT_EQ(loaded[1].names, two.names);
    EXPECT_EQ(loaded[1].layers, two.layers);
    EXPECT_EQ(loaded[1].created, "2024-01-02T03:04:05Z");
    EXPECT_EQ(storage_.layers.size(), 3u);
    EXPECT_EQ(storage_.layers[one.layers[1]], "layer-b");
    EXPECT_EQ(blob_files(store_), blobs_before) << "exactly the images' blobs, no archive leftovers";
    EXPECT_EQ(store_.find("docker.io/library/one:1")->id, one.id);
  }
}

TEST_F(ArchiveRoundTrip, AnImageSavedByIdLoadsUntagged) {
  const auto one = add_image("docker.io/library/one:1", {"layer-a"});
  const std::string archive = save({{one, {}}}, ArchiveFormat::docker_archive);
  forget_everything();
  const auto loaded = load(archive);
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_TRUE(loaded[0].names.empty());
  EXPECT_EQ(store_.find(one.id)->names, std::vector<std::string>{});
}

TEST_F(ArchiveRoundTrip, ALegacyDockerArchiveGetsAManifestWritten) {
  // docker save before 25 / podman: configs as <hex>.json, layers as <dir>/layer.tar symlinked to the tar.
  const std::string layer = test::make_tar({test::tar_file("etc/marker", "m\n")});
  const std::string diff_id = sha256_digest(layer);
  const std::string config = nlohmann::json{{"architecture", "amd64"},
                                            {"os", "linux"},
                                            {"rootfs", {{"type", "layers"}, {"diff_ids", {diff_id}}}}}
                                 .dump();
  const std::string config_hex = sha256_digest(config).substr(7);
  const std::string manifest = nlohmann::json::array({{{"Config", config_hex + ".json"},
                                                       {"RepoTags", {"localhost/exp:1"}},
                                                       {"Layers", {"abc/layer.tar"}}}})
                                   .dump();
  test::TarEntry link = test::tar_symlink("abc/layer.tar", "../" + diff_id.substr(7) + ".tar");
  const std::string archive = test::make_tar(
      {test::tar_file(diff_id.substr(7) + ".tar", layer), test::tar_file(config_hex + ".json", config), link,
       test::tar_file("abc/VERSION", "1.0"), test::tar_file("abc/json", "{}"),
       test::tar_file("manifest.json", manifest)});
  const auto loaded = load(archive);
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].names, std::vector<std::string>{"localhost/exp:1"});
  EXPECT_EQ(loaded[0].layers, std::vector<std::string>{diff_id});
  EXPECT_EQ(storage_.layers[diff_id], layer);
  const auto written = nlohmann::json::parse(store_.read_blob(loaded[0].manifest_digest));
  EXPECT_EQ(written["config"]["digest"], sha256_digest(config));
  EXPECT_EQ(written["layers"][0]["digest"], diff_id);
  EXPECT_EQ(written["layers"][0]["mediaType"], "application/vnd.oci.image.layer.v1.tar");
  EXPECT_EQ(blob_files(store_).size(), 3u) << "layer, config and manifest; not VERSION or json";
}

TEST_F(ArchiveRoundTrip, AFailedLoadLeavesTheStoresAsTheyWere) {
  const auto one = add_image("docker.io/library/one:1", {"layer-a", "layer-b"});
  const std::string good = save({{one, one.names}}, ArchiveFormat::docker_archive);
  forget_everything();
  const auto keep = add_image("docker.io/library/keep:1", {"layer-a"});
  const auto blobs_before = blob_files(store_);
  const auto layers_before = storage_.layers;

  // Truncated mid-way, cut after the first blob, a corrupted blob, a layer the driver refuses.
  std::string corrupt = good;
  corrupt.replace(corrupt.find("layer-b"), 7, "layer-X");
  const std::string refused_layer = "refuse-me";
  const auto bad = add_image("docker.io/library/bad:1", {"layer-a", refused_layer});
  const std::string refused = save({{bad, bad.names}}, ArchiveFormat::oci_archive);
  store_.remove_image(bad.id);
  store_.remove_blob(bad.id);
  store_.remove_blob(bad.manifest_digest);
  store_.remove_blob(sha256_digest(refused_layer));
  storage_.layers.erase(sha256_digest(refused_layer));
  ASSERT_EQ(blob_files(store_), blobs_before);

  const std::vector<std::pair<std::string, std::string>> cases = {
      {good.substr(0, good.size() / 2), "the archive"},
      {good.substr(0, 3 * 512), "the archive"},
      {corrupt, "does not match its digest"},
      {refused, "has a \"..\" component"},
      {"not a tar archive at all, just text", "the archive"},
  };
  for (const auto& [archive, expected] : cases) {
    const std::string error = error_of([&] { load(archive); });
    EXPECT_NE(error.find(expected), std::string::npos) << error;
    EXPECT_EQ(blob_files(store_), blobs_before) << error;
    EXPECT_EQ(storage_.layers, layers_before) << error;
    ASSERT_EQ(store_.list().size(), 1u);
    EXPECT_EQ(store_.list()[0].id, keep.id);
    EXPECT_TRUE(fs::is_empty(store_.root() / "blobs/tmp"));
  }
}

TEST_F(ArchiveRoundTrip, AnArchiveWithoutMetadataIsNoImageArchive) {
  const std::string rootfs = test::make_tar({test::tar_dir("etc"), test::tar_file("etc/hostname", "x\n")});
  const std::string error = error_of([&] { load(rootfs); });
  EXPECT_NE(error.find("neither manifest.json nor index.json"), std::string::npos) << error;
  EXPECT_TRUE(blob_files(store_).empty());
}

}  // namespace
}  // namespace mcore::engine
