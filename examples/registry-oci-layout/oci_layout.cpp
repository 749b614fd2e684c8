#include "oci_layout.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <fstream>
#include <iterator>
#include <span>

#include "digest.hpp"
#include "mcore/error.hpp"
#include "mcore/unique_fd.hpp"

namespace oci_layout {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::uint64_t kMaxManifestSize = 4 << 20;  // the limit registries apply
constexpr const char* kDamaged = "the layout is damaged; copy the image into it again";

mcore::UniqueFd open_file(const fs::path& path) {
  mcore::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    auto error = mcore::Error::from_errno("open " + path.string());
    if (error.error_number() == ENOENT) error.set_hint(kDamaged);
    throw error;
  }
  return fd;
}

std::uint64_t file_size(int fd, const fs::path& path) {
  struct stat status {};
  if (::fstat(fd, &status) != 0) throw mcore::Error::from_errno("stat " + path.string());
  return static_cast<std::uint64_t>(status.st_size);
}

// Reads from `fd` at `offset` until the end of the file, handing each chunk to `consume`.
template <class Consume>
void read_from(int fd, std::uint64_t offset, const fs::path& path, Consume consume) {
  std::array<std::byte, 1 << 16> buffer{};
  for (;;) {
    const ssize_t got = ::pread(fd, buffer.data(), buffer.size(), static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw mcore::Error::from_errno("read " + path.string());
    if (got == 0) return;
    consume(std::span<const std::byte>(buffer.data(), static_cast<std::size_t>(got)));
    offset += static_cast<std::uint64_t>(got);
  }
}

json read_json(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw mcore::Error("cannot read " + path.string(), 0, kDamaged);
  auto document =
      json::parse(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), nullptr, false);
  if (!document.is_object()) throw mcore::Error(path.string() + " is not a JSON object", 0, kDamaged);
  return document;
}

}  // namespace

OciLayout::OciLayout(fs::path dir) : dir_(std::move(dir)) {
  const fs::path marker = dir_ / "oci-layout";
  std::error_code error;
  if (!fs::exists(marker, error)) {
    throw mcore::Error(dir_.string() + " is not an OCI image layout: it has no oci-layout file", 0,
                       "write one with skopeo copy (oci:" + dir_.string() + ":TAG) or another OCI tool");
  }
  const auto version = read_json(marker).value("imageLayoutVersion", "");
  if (!version.starts_with("1.")) {
    throw mcore::Error(marker.string() + ": unsupported imageLayoutVersion \"" + version + "\"", 0,
                       "this driver reads layouts of version 1.x");
  }
}

std::vector<IndexEntry> OciLayout::index() const {
  const fs::path file = dir_ / "index.json";
  return parse_index(read_json(file), file.string());
}

fs::path OciLayout::blob_path(const std::string& digest) const {
  if (!is_sha256_digest(digest)) {
    throw mcore::Error("unsupported digest \"" + digest + "\" for a blob of " + dir_.string(), 0,
                       "this driver reads sha256 blobs only");
  }
  return dir_ / "blobs" / "sha256" / digest.substr(7);
}

std::string OciLayout::read_manifest(const mcore::ContentDescriptor& descriptor) const {
  const fs::path path = blob_path(descriptor.digest);
  const auto fd = open_file(path);
  const auto size = file_size(fd.get(), path);
  if (size > kMaxManifestSize) {
    throw mcore::Error(path.string() + ": a manifest of " + std::to_string(size) + " bytes is over the " +
                           std::to_string(kMaxManifestSize) + " bytes allowed",
                       0, kDamaged);
  }
  std::string bytes;
  read_from(fd.get(), 0, path, [&bytes](std::span<const std::byte> chunk) {
    bytes.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
  });
  if (const auto actual = sha256_digest(bytes); actual != descriptor.digest) {
    throw mcore::Error(path.string() + ": digest mismatch: its content hashes to " + actual, 0, kDamaged);
  }
  if (descriptor.size != 0 && bytes.size() != static_cast<std::uint64_t>(descriptor.size)) {
    throw mcore::Error(path.string() + " has " + std::to_string(bytes.size()) +
                           " bytes, its descriptor says " + std::to_string(descriptor.size),
                       0, kDamaged);
  }
  return bytes;
}

void OciLayout::stream_blob(const mcore::ContentDescriptor& blob, std::uint64_t offset,
                            mcore::ByteSink& sink) const {
  const fs::path path = blob_path(blob.digest);
  const auto fd = open_file(path);
  const auto size = file_size(fd.get(), path);
  if (blob.size != 0 && size != static_cast<std::uint64_t>(blob.size)) {
    throw mcore::Error(path.string() + " has " + std::to_string(size) + " bytes, the manifest says " +
                           std::to_string(blob.size),
                       0, kDamaged);
  }
  if (offset > size) {
    throw mcore::Error("cannot resume blob " + blob.digest + " at byte " + std::to_string(offset) + ": " +
                       path.string() + " has only " + std::to_string(size) + " bytes");
  }
  read_from(fd.get(), offset, path, [&sink](std::span<const std::byte> chunk) { sink.write(chunk); });
}

}  // namespace oci_layout
