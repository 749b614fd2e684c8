#include "oci_image_builder.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <memory>
#include <stdexcept>

#include <openssl/evp.h>

namespace fs = std::filesystem;
using nlohmann::json;

namespace mcore::test {

namespace {

void write_file(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

la_ssize_t append_to_string(struct archive*, void* user, const void* buffer, size_t length) {
  static_cast<std::string*>(user)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

// Writes `layer` as a tar into a string, gzip-compressed when asked. The same entries give the same tar
// bytes both times, so the gzip stream decompresses to exactly the tar hashed for diff_id.
std::string write_tar(const Layer& layer, bool gzip) {
  std::string out;
  std::unique_ptr<struct archive, decltype(&archive_write_free)> writer(archive_write_new(),
                                                                        archive_write_free);
  archive_write_set_format_pax_restricted(writer.get());
  if (gzip) archive_write_add_filter_gzip(writer.get());
  archive_write_set_bytes_in_last_block(writer.get(), 1);
  if (archive_write_open(writer.get(), &out, nullptr, append_to_string, nullptr) != ARCHIVE_OK) {
    throw std::runtime_error(std::string("archive_write_open: ") + archive_error_string(writer.get()));
  }
  for (const auto& item : layer) {
    std::unique_ptr<struct archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(),
                                                                               archive_entry_free);
    archive_entry_set_pathname(entry.get(), item.path.c_str());
    archive_entry_set_mtime(entry.get(), 1700000000, 0);
    switch (item.kind) {
      case LayerEntry::Kind::file:
        archive_entry_set_filetype(entry.get(), AE_IFREG);
        archive_entry_set_size(entry.get(), static_cast<la_int64_t>(item.content.size()));
        break;
      case LayerEntry::Kind::directory: archive_entry_set_filetype(entry.get(), AE_IFDIR); break;
      case LayerEntry::Kind::symlink:
        archive_entry_set_filetype(entry.get(), AE_IFLNK);
        archive_entry_set_symlink(entry.get(), item.content.c_str());
        break;
    }
    archive_entry_set_perm(entry.get(), item.kind == LayerEntry::Kind::symlink ? 0777 : item.mode);
    if (archive_write_header(writer.get(), entry.get()) != ARCHIVE_OK) {
      throw std::runtime_error("tar header for " + item.path + ": " + archive_error_string(writer.get()));
    }
    if (item.kind == LayerEntry::Kind::file && !item.content.empty() &&
        archive_write_data(writer.get(), item.content.data(), item.content.size()) < 0) {
      throw std::runtime_error("tar data for " + item.path + ": " + archive_error_string(writer.get()));
    }
  }
  if (archive_write_close(writer.get()) != ARCHIVE_OK) {
    throw std::runtime_error(std::string("archive_write_close: ") + archive_error_string(writer.get()));
  }
  return out;
}

json descriptor(const std::string& media_type, const std::string& digest, std::int64_t size) {
  return {{"mediaType", media_type}, {"digest", digest}, {"size", size}};
}

}  // namespace

LayerEntry LayerEntry::file(std::string path, std::string content, std::uint32_t mode) {
  return {std::move(path), std::move(content), mode, Kind::file};
}
LayerEntry LayerEntry::directory(std::string path, std::uint32_t mode) {
  return {std::move(path), "", mode, Kind::directory};
}
LayerEntry LayerEntry::symlink(std::string path, std::string target) {
  return {std::move(path), std::move(target), 0777, Kind::symlink};
}
LayerEntry LayerEntry::whiteout(const std::string& path) {
  const fs::path p(path);
  const auto parent = p.parent_path().string();
  return file((parent.empty() ? "" : parent + "/") + ".wh." + p.filename().string(), "");
}
LayerEntry LayerEntry::opaque(const std::string& dir) { return file(dir + "/.wh..wh..opq", ""); }

std::string sha256_hex_digest(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> hash{};
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), hash.data(), &length, EVP_sha256(), nullptr);
  std::string text = "sha256:";
  char hex[3];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", hash[i]);
    text += hex;
  }
  return text;
}

std::string make_layer_tar_gz(const Layer& layer, std::string* tar) {
  if (tar) *tar = write_tar(layer, false);
  return write_tar(layer, true);
}

OciImageBuilder::OciImageBuilder(fs::path layout_dir) : dir_(std::move(layout_dir)) {
  fs::create_directories(dir_ / "blobs" / "sha256");
  write_file(dir_ / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  write_file(dir_ / "index.json", json{{"schemaVersion", 2}, {"manifests", json::array()}}.dump());
}

std::string OciImageBuilder::write_blob(std::string_view bytes) {
  const auto digest = sha256_hex_digest(bytes);
  write_file(dir_ / "blobs" / "sha256" / digest.substr(7), bytes);
  return digest;
}

BuiltImage OciImageBuilder::add_image(const std::vector<Layer>& layers, const std::string& architecture,
                                      const std::string& variant, const json& config_extra) {
  BuiltImage image;
  image.architecture = architecture;
  image.variant = variant;
  json diff_ids = json::array();
  json layer_descriptors = json::array();
  for (const auto& layer : layers) {
    std::string tar;
    const auto gz = make_layer_tar_gz(layer, &tar);
    BuiltLayer built{write_blob(gz), sha256_hex_digest(tar), static_cast<std::int64_t>(gz.size())};
    diff_ids.push_back(built.diff_id);
    layer_descriptors.push_back(
        descriptor("application/vnd.oci.image.layer.v1.tar+gzip", built.digest, built.size));
    image.layers.push_back(built);
  }
  json config = {{"architecture", architecture},
                 {"os", "linux"},
                 {"created", "2024-01-01T00:00:00Z"},
                 {"config",
                  {{"Cmd", {"/bin/sh"}},
                   {"Env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}}}},
                 {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
  if (!variant.empty()) config["variant"] = variant;
  config["config"].update(config_extra);
  const auto config_bytes = config.dump();
  image.config_digest = write_blob(config_bytes);
  image.config_size = static_cast<std::int64_t>(config_bytes.size());
  const json manifest = {{"schemaVersion", 2},
                         {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                         {"config", descriptor("application/vnd.oci.image.config.v1+json",
                                               image.config_digest, image.config_size)},
                         {"layers", layer_descriptors}};
  image.manifest = manifest.dump();
  image.manifest_digest = write_blob(image.manifest);
  image.manifest_size = static_cast<std::int64_t>(image.manifest.size());
  return image;
}

void OciImageBuilder::add_to_index(json entry, const std::string& ref) {
  std::ifstream in(dir_ / "index.json");
  auto index = json::parse(in);
  entry["annotations"] = {{"org.opencontainers.image.ref.name", ref}};
  auto& manifests = index["manifests"];
  for (auto it = manifests.begin(); it != manifests.end();) {
    const bool same = it->contains("annotations") &&
                      (*it)["annotations"].value("org.opencontainers.image.ref.name", "") == ref;
    it = same ? manifests.erase(it) : it + 1;
  }
  manifests.push_back(entry);
  write_file(dir_ / "index.json", index.dump());
}

void OciImageBuilder::tag(const BuiltImage& image, const std::string& ref) {
  add_to_index(
      descriptor("application/vnd.oci.image.manifest.v1+json", image.manifest_digest, image.manifest_size),
      ref);
}

std::string OciImageBuilder::tag_index(const std::vector<BuiltImage>& images, const std::string& ref) {
  json manifests = json::array();
  for (const auto& image : images) {
    auto entry =
        descriptor("application/vnd.oci.image.manifest.v1+json", image.manifest_digest, image.manifest_size);
    entry["platform"] = {{"os", "linux"}, {"architecture", image.architecture}};
    if (!image.variant.empty()) entry["platform"]["variant"] = image.variant;
    manifests.push_back(entry);
  }
  const auto bytes = json{
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.index.v1+json"},
      {"manifests",
       manifests}}.dump();
  const auto digest = write_blob(bytes);
  add_to_index(
      descriptor("application/vnd.oci.image.index.v1+json", digest, static_cast<std::int64_t>(bytes.size())),
      ref);
  return digest;
}

}  // namespace mcore::test
