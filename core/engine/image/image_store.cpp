#include "engine/image/image_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>  // renameat2
#include <set>
#include <system_error>

#include "engine/util/file_util.hpp"
#include "mcore/atomic_file.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kDigestPrefix = "sha256:";
constexpr int kIndexVersion = 1;

std::string_view hex_of(std::string_view digest) { return digest.substr(kDigestPrefix.size()); }

void require_valid_digest(const std::string& digest) {
  // Digests become file names: refusing anything else also refuses path tricks.
  if (!is_valid_digest(digest)) {
    throw Error("invalid digest \"" + digest + "\"", 0,
                "a digest is sha256: followed by 64 lowercase hex digits");
  }
}

void write_all(int fd, std::span<const std::byte> bytes, const fs::path& path) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      throw Error::from_errno("write " + path.string(), "check free space on the data root");
    }
    bytes = bytes.subspan(static_cast<std::size_t>(written));
  }
}

nlohmann::json to_json(const ImageRecord& record) {
  return {{"id", record.id},
          {"names", record.names},
          {"manifest_digest", record.manifest_digest},
          {"repo_digests", record.repo_digests},
          {"layers", record.layers},
          {"created", record.created},
          {"size", record.size}};
}

ImageRecord record_from_json(const nlohmann::json& json) {
  ImageRecord record;
  record.id = json.at("id").get<std::string>();
  record.names = json.value("names", std::vector<std::string>{});
  record.manifest_digest = json.value("manifest_digest", "");
  record.repo_digests = json.value("repo_digests", std::vector<std::string>{});
  record.layers = json.value("layers", std::vector<std::string>{});
  record.created = json.value("created", "");
  record.size = json.value("size", std::int64_t{0});
  return record;
}

void erase_value(std::vector<std::string>& values, const std::string& value) {
  values.erase(std::remove(values.begin(), values.end(), value), values.end());
}

void append_missing(std::vector<std::string>& values, const std::vector<std::string>& more) {
  for (const auto& value : more) {
    if (std::find(values.begin(), values.end(), value) == values.end()) values.push_back(value);
  }
}

bool contains(const std::vector<std::string>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

class Index {
 public:
  explicit Index(const fs::path& root) : path_(root / "index.json") {}

  std::vector<ImageRecord> load() const {
    std::error_code error;
    if (!fs::exists(path_, error)) return {};
    const std::string text = read_file(path_);
    try {
      const auto json = nlohmann::json::parse(text);
      std::vector<ImageRecord> records;
      for (const auto& image : json.at("images")) records.push_back(record_from_json(image));
      return records;
    } catch (const nlohmann::json::exception& parse_error) {
      throw Error("image index " + path_.string() + " is damaged: " + parse_error.what(), 0,
                  "move it aside and pull or load the images again");
    }
  }

  void save(const std::vector<ImageRecord>& records) const {
    nlohmann::json images = nlohmann::json::array();
    for (const auto& record : records) images.push_back(to_json(record));
    const nlohmann::json json = {{"version", kIndexVersion}, {"images", images}};
    write_file_atomic(path_, json.dump(2) + "\n");
  }

 private:
  fs::path path_;
};

}  // namespace

BlobWriter::BlobWriter(fs::path temp_path, fs::path final_path, std::string expected_digest, UniqueFd fd,
                       std::uint64_t resumed_bytes, Sha256 hash)
    : temp_path_(std::move(temp_path)),
      final_path_(std::move(final_path)),
      expected_digest_(std::move(expected_digest)),
      fd_(std::move(fd)),
      written_(resumed_bytes),
      hash_(std::move(hash)) {}

BlobWriter::~BlobWriter() = default;

void BlobWriter::write(std::span<const std::byte> bytes) {
  if (done_)
    throw Error("write blob " + expected_digest_ + ": the writer was already committed or discarded");
  write_all(fd_.get(), bytes, temp_path_);
  hash_.update(bytes);
  written_ += bytes.size();
}

void BlobWriter::commit() {
  if (done_)
    throw Error("commit blob " + expected_digest_ + ": the writer was already committed or discarded");
  done_ = true;
  const std::string actual = hash_.finish();
  if (actual != expected_digest_) {
    ::unlink(temp_path_.c_str());
    throw Error("blob " + expected_digest_ + " failed verification: the " + std::to_string(written_) +
                    " bytes received hash to " + actual,
                0, "the download or the registry is faulty; pull again, and report it if it keeps failing");
  }
  if (::fsync(fd_.get()) != 0) throw Error::from_errno("fsync " + temp_path_.string());
  // Renamed while still locked: a waiting writer that got the lock first would take the complete file
  // for a partial one, and find it gone when it reads it.
  if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
    const Error error =
        Error::from_errno("publish blob " + expected_digest_ + ": rename " + temp_path_.string());
    ::unlink(temp_path_.c_str());
    throw error;
  }
  fd_.reset();
}

void BlobWriter::discard() noexcept {
  if (done_) return;
  done_ = true;
  if (!temp_path_.empty()) ::unlink(temp_path_.c_str());  // before the lock goes, as in commit()
  fd_.reset();
}

ImageStore::ImageStore(fs::path data_root) : root_(std::move(data_root) / "images") {
  for (const fs::path& dir : {root_ / "blobs" / "sha256", root_ / "blobs" / "tmp"}) {
    std::error_code error;
    fs::create_directories(dir, error);
    if (error) {
      throw Error("create image store directory " + dir.string(), error.value(),
                  "check that the data root is writable (or set another one in the config)");
    }
  }
}

bool ImageStore::has_blob(const std::string& digest) const {
  std::error_code error;
  return is_valid_digest(digest) && fs::is_regular_file(blob_path(digest), error);
}

fs::path ImageStore::blob_path(const std::string& digest) const {
  require_valid_digest(digest);
  return root_ / "blobs" / "sha256" / std::string(hex_of(digest));
}

std::string ImageStore::read_blob(const std::string& digest) const {
  const fs::path path = blob_path(digest);
  std::string content;
  try {
    content = read_file(path);
  } catch (Error& error) {
    if (error.error_number() == ENOENT) {
      throw Error("blob " + digest + " is not in the image store", 0, "pull or load the image again");
    }
    throw;
  }
  const std::string actual = sha256_digest(content);
  if (actual != digest) {
    throw Error("blob " + digest + " is corrupted: its content hashes to " + actual, 0,
                "remove the image (mcore rmi) and pull or load it again");
  }
  return content;
}

void ImageStore::put_blob(const std::string& digest, std::string_view content) {
  require_valid_digest(digest);
  const std::string actual = sha256_digest(content);
  if (actual != digest) {
    throw Error("store blob " + digest + ": the content hashes to " + actual, 0,
                "the content was damaged on its way; fetch it again");
  }
  if (has_blob(digest)) return;
  write_file_atomic(blob_path(digest), content);
}

BlobWriter ImageStore::begin_blob(const std::string& digest, const std::function<void()>& on_wait) {
  require_valid_digest(digest);
  const fs::path temp_path = root_ / "blobs" / "tmp" / std::string(hex_of(digest));
  UniqueFd fd;
  bool waited = false;
  for (;;) {
    fd.reset(::open(temp_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd) throw Error::from_errno("open partial blob " + temp_path.string());
    // Two pulls appending to one partial file would corrupt it; the lock lives as long as the writer. A
    // second puller waits for the first, then goes on from what it left.
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK) throw Error::from_errno("lock partial blob " + temp_path.string());
      if (!waited) on_wait();
      waited = true;
      int locked;
      do {
        locked = ::flock(fd.get(), LOCK_EX);
      } while (locked != 0 && errno == EINTR);
      if (locked != 0) throw Error::from_errno("lock partial blob " + temp_path.string());
    }
    // The holder may have published the blob meanwhile, renaming this very file into blobs/: the file
    // we locked must still be the partial one.
    struct stat held {}, named {};
    if (::fstat(fd.get(), &held) == 0 && ::stat(temp_path.c_str(), &named) == 0 && held.st_ino == named.st_ino &&
        held.st_dev == named.st_dev) {
      break;
    }
  }
  // Hash what an interrupted download left, so that commit() verifies every byte of the blob.
  Sha256 hash;
  std::uint64_t resumed = 0;
  std::byte buffer[65536];
  for (;;) {
    const ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw Error::from_errno("read partial blob " + temp_path.string());
    }
    if (got == 0) break;
    hash.update(std::span(buffer, static_cast<std::size_t>(got)));
    resumed += static_cast<std::uint64_t>(got);
  }
  return BlobWriter(temp_path, blob_path(digest), digest, std::move(fd), resumed, std::move(hash));
}

void ImageStore::remove_blob(const std::string& digest) {
  const fs::path path = blob_path(digest);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw Error::from_errno("remove blob " + path.string());
}

ImageStore::AddedBlob ImageStore::add_blob(ByteSource& content) {
  std::string temp = (root_ / "blobs" / "tmp" / "add-XXXXXX").string();
  UniqueFd fd(::mkostemp(temp.data(), O_CLOEXEC));
  if (!fd) throw Error::from_errno("create a temporary blob in " + (root_ / "blobs" / "tmp").string());
  struct RemoveTemp {
    const std::string& path;
    ~RemoveTemp() { ::unlink(path.c_str()); }  // after a successful rename, ENOENT: harmless
  } remove_temp{temp};
  if (::fchmod(fd.get(), 0644) != 0) throw Error::from_errno("chmod " + temp);

  Sha256 hash;
  AddedBlob added;
  std::vector<std::byte> buffer(std::size_t{1} << 17);
  for (std::size_t got; (got = content.read(buffer)) != 0;) {
    const auto bytes = std::span<const std::byte>(buffer).first(got);
    write_all(fd.get(), bytes, temp);
    hash.update(bytes);
    added.size += got;
  }
  added.digest = hash.finish();
  if (::fsync(fd.get()) != 0) throw Error::from_errno("fsync " + temp);
  fd.reset();
  // RENAME_NOREPLACE tells apart a blob this call created from one that was there (or raced in).
  const fs::path final_path = blob_path(added.digest);
  if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, final_path.c_str(), RENAME_NOREPLACE) == 0) {
    added.created = true;
  } else if (errno != EEXIST) {
    throw Error::from_errno("publish blob " + added.digest + ": rename " + temp);
  }
  return added;
}

void ImageStore::add_image(const ImageRecord& record) {
  require_valid_digest(record.id);
  FileLock lock(root_ / "index.lock");
  const Index index(root_);
  std::vector<ImageRecord> records = index.load();
  for (auto& other : records) {
    if (other.id == record.id) continue;
    for (const auto& name : record.names) erase_value(other.names, name);
  }
  auto existing =
      std::find_if(records.begin(), records.end(), [&](const auto& r) { return r.id == record.id; });
  if (existing == records.end()) {
    records.push_back(record);
  } else {
    // Pulling one more name of a known image must not drop the names it already had.
    ImageRecord merged = record;
    merged.names = existing->names;
    append_missing(merged.names, record.names);
    merged.repo_digests = existing->repo_digests;
    append_missing(merged.repo_digests, record.repo_digests);
    *existing = std::move(merged);
  }
  index.save(records);
}

std::optional<ImageRecord> ImageStore::find(const std::string& name_or_id) const {
  if (name_or_id.empty()) return std::nullopt;
  const std::vector<ImageRecord> records = Index(root_).load();
  for (const auto& record : records) {
    if (contains(record.names, name_or_id) || contains(record.repo_digests, name_or_id)) return record;
  }

  std::string_view prefix = name_or_id;
  if (prefix.starts_with(kDigestPrefix)) prefix.remove_prefix(kDigestPrefix.size());
  const bool hex = !prefix.empty() && prefix.size() <= 64 &&
                   std::all_of(prefix.begin(), prefix.end(),
                               [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
  if (!hex) return std::nullopt;
  std::vector<const ImageRecord*> matches;
  for (const auto& record : records) {
    if (hex_of(record.id).starts_with(prefix)) matches.push_back(&record);
  }
  if (matches.empty()) return std::nullopt;
  if (matches.size() > 1) {
    std::string ids;
    for (const auto* match : matches)
      ids += (ids.empty() ? "" : ", ") + std::string(hex_of(match->id).substr(0, 12));
    throw Error("image ID prefix \"" + name_or_id + "\" is ambiguous: it matches " +
                    std::to_string(matches.size()) + " images (" + ids + ")",
                0, "give more characters of the ID (mcore images --no-trunc shows them in full)");
  }
  return *matches.front();
}

std::vector<ImageRecord> ImageStore::list() const { return Index(root_).load(); }

ImageRecord ImageStore::untag(const std::string& name) {
  FileLock lock(root_ / "index.lock");
  const Index index(root_);
  std::vector<ImageRecord> records = index.load();
  for (auto& record : records) {
    if (!contains(record.names, name)) continue;
    erase_value(record.names, name);
    const ImageRecord result = record;
    index.save(records);
    return result;
  }
  throw Error("no image is named " + name, 0, "mcore images lists the names in use");
}

void ImageStore::remove_image(const std::string& id) {
  FileLock lock(root_ / "index.lock");
  const Index index(root_);
  std::vector<ImageRecord> records = index.load();
  const auto removed = std::erase_if(records, [&](const auto& record) { return record.id == id; });
  if (removed > 0) index.save(records);
}

FileLock ImageStore::hold_for_writing() const { return FileLock(root_ / "gc.lock", FileLock::Mode::shared); }

FileLock ImageStore::hold_for_collection() const { return FileLock(root_ / "gc.lock", FileLock::Mode::exclusive); }

std::vector<std::string> ImageStore::unreferenced_blobs() const {
  std::set<std::string> referenced;
  for (const auto& record : list()) {
    referenced.insert(record.id);
    if (record.manifest_digest.empty() || !has_blob(record.manifest_digest)) continue;
    referenced.insert(record.manifest_digest);
    // Parse without verifying: a damaged manifest must not make its layers look free to delete.
    nlohmann::json manifest;
    try {
      manifest = nlohmann::json::parse(read_file(blob_path(record.manifest_digest)));
    } catch (const nlohmann::json::exception&) {
      continue;
    }
    const auto digest_of = [&](const nlohmann::json& descriptor) {
      if (descriptor.is_object() && descriptor.contains("digest") && descriptor["digest"].is_string()) {
        referenced.insert(descriptor["digest"].get<std::string>());
      }
    };
    if (manifest.contains("config")) digest_of(manifest["config"]);
    for (const char* list_key : {"layers", "manifests"}) {
      if (manifest.contains(list_key) && manifest[list_key].is_array()) {
        for (const auto& descriptor : manifest[list_key]) digest_of(descriptor);
      }
    }
  }

  std::vector<std::string> unreferenced;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(root_ / "blobs" / "sha256", error)) {
    // Skips write_file_atomic's hidden temporaries and anything else that is not a blob.
    const std::string digest = std::string(kDigestPrefix) + entry.path().filename().string();
    if (is_valid_digest(digest) && !referenced.contains(digest)) unreferenced.push_back(digest);
  }
  if (error) throw Error("list blobs in " + (root_ / "blobs" / "sha256").string(), error.value());
  std::sort(unreferenced.begin(), unreferenced.end());
  return unreferenced;
}

std::vector<std::string> ImageStore::remove_unfinished_blobs(std::uint64_t& freed) {
  std::vector<std::string> removed;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(root_ / "blobs" / "tmp", error)) {
    const std::string name = entry.path().filename().string();
    std::error_code size_error;
    const auto size = fs::file_size(entry.path(), size_error);
    if (::unlink(entry.path().c_str()) != 0) continue;
    if (!size_error) freed += size;
    removed.push_back((name.starts_with("add-") ? "temporary blob " : "partial download ") + entry.path().string());
  }
  // A writer killed inside write_file_atomic leaves its temporary file: beside a blob it was storing
  // (no writer runs now), or beside the index (whose writers hold the index lock).
  auto remove_leftovers = [&](const fs::path& dir) {
    for (const auto& leftover : remove_atomic_write_leftovers(dir)) {
      freed += leftover.size;
      removed.push_back("unfinished write " + leftover.path.string());
    }
  };
  remove_leftovers(root_ / "blobs" / "sha256");
  {
    FileLock lock(root_ / "index.lock");
    remove_leftovers(root_);
  }
  return removed;
}

}  // namespace mcore::engine
