#pragma once
// Writes OCI image layouts (oci-layout, index.json, blobs/sha256) for tests: gzip-compressed tar layers
// built from lists of files, a config with rootfs.diff_ids, single- and multi-platform images. skopeo
// pushes them to the test registry (registry_fixture.hpp); mcore loads them as archives.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mcore::test {

// One entry of a layer tar.
struct LayerEntry {
  enum class Kind { file, directory, symlink };
  std::string path;     // relative, e.g. "etc/hostname"
  std::string content;  // a file's bytes, or a symlink's target
  std::uint32_t mode = 0644;
  Kind kind = Kind::file;

  static LayerEntry file(std::string path, std::string content, std::uint32_t mode = 0644);
  static LayerEntry directory(std::string path, std::uint32_t mode = 0755);
  static LayerEntry symlink(std::string path, std::string target);
  // ".wh.<name>" beside `path`: deletes `path` from the layers below.
  static LayerEntry whiteout(const std::string& path);
  // "<dir>/.wh..wh..opq": hides everything below `dir` in the layers below.
  static LayerEntry opaque(const std::string& dir);
};
using Layer = std::vector<LayerEntry>;

struct BuiltLayer {
  std::string digest;   // of the gzip blob
  std::string diff_id;  // of the uncompressed tar
  std::int64_t size = 0;
};

struct BuiltImage {
  std::string manifest_digest;
  std::int64_t manifest_size = 0;
  std::string manifest;
  std::string config_digest;
  std::int64_t config_size = 0;
  std::vector<BuiltLayer> layers;
  std::string architecture;
  std::string variant;
};

class OciImageBuilder {
 public:
  // Creates `layout_dir` with oci-layout and an empty index.json.
  explicit OciImageBuilder(std::filesystem::path layout_dir);

  // Writes the layer, config and manifest blobs of one image. `config_extra` is merged into the image
  // config's "config" object (Cmd, Env, ...). Not named in index.json until tag() or tag_index().
  BuiltImage add_image(const std::vector<Layer>& layers, const std::string& architecture = "amd64",
                       const std::string& variant = "",
                       const nlohmann::json& config_extra = nlohmann::json::object());
  // Names `image` as `ref` in index.json (skopeo's oci:DIR:ref).
  void tag(const BuiltImage& image, const std::string& ref);
  // Writes a multi-platform index blob of `images` and names it `ref`; returns the index's digest.
  std::string tag_index(const std::vector<BuiltImage>& images, const std::string& ref);
  // Stores `bytes` as a blob; returns its digest.
  std::string write_blob(std::string_view bytes);

  const std::filesystem::path& dir() const { return dir_; }

 private:
  void add_to_index(nlohmann::json descriptor, const std::string& ref);
  std::filesystem::path dir_;
};

// "sha256:<hex>" of `bytes`.
std::string sha256_hex_digest(std::string_view bytes);
// A gzip-compressed tar of `layer`; `tar` receives the uncompressed tar.
std::string make_layer_tar_gz(const Layer& layer, std::string* tar = nullptr);

}  // namespace mcore::test
