#include "engine/image/tar_archive.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <cerrno>
#include <exception>
#include <vector>

#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

constexpr const char* kDamagedHint = "the archive is damaged or truncated; nothing of it was kept";

struct EntryFree {
  void operator()(archive_entry* entry) const noexcept { archive_entry_free(entry); }
};

std::string archive_text(archive* handle) {
  const char* text = archive_error_string(handle);
  return text != nullptr ? text : "unknown libarchive error";
}

}  // namespace

// --- Reading ----------------------------------------------------------------------------------------

struct TarReader::Context {
  Context(ByteSource& source, std::string name) : input(&source), what(std::move(name)) {}
  ByteSource* input;
  std::string what;
  std::vector<std::byte> buffer = std::vector<std::byte>(std::size_t{1} << 17);
  std::exception_ptr failure;  // the input's own Error, rethrown instead of libarchive's text
};

class TarReader::Content final : public ByteSource {
 public:
  explicit Content(TarReader& reader) : reader_(reader) {}
  std::size_t read(std::span<std::byte> buffer) override {
    const la_ssize_t got = archive_read_data(reader_.archive_.get(), buffer.data(), buffer.size());
    if (got < 0) reader_.fail("read an entry");
    return static_cast<std::size_t>(got);
  }

 private:
  TarReader& reader_;
};

void TarReader::Free::operator()(archive* reader) const noexcept { archive_read_free(reader); }

TarReader::TarReader(ByteSource& input, std::string what)
    : context_(std::make_unique<Context>(input, std::move(what))), archive_(archive_read_new()) {
  if (!archive_) throw Error("create a tar reader", ENOMEM);
  // ustar, pax and GNU tar; no codecs, no other formats.
  archive_read_support_format_tar(archive_.get());
  const auto read_callback = [](archive* reader, void* client, const void** block) -> la_ssize_t {
    auto* context = static_cast<Context*>(client);
    try {
      const std::size_t got = context->input->read(context->buffer);
      *block = context->buffer.data();
      return static_cast<la_ssize_t>(got);
    } catch (...) {
      context->failure = std::current_exception();
      archive_set_error(reader, EIO, "reading the input failed");
      return -1;
    }
  };
  if (archive_read_open(archive_.get(), context_.get(), nullptr, read_callback, nullptr) != ARCHIVE_OK) {
    fail("open");
  }
  content_ = std::make_unique<Content>(*this);
}

TarReader::~TarReader() = default;

void TarReader::fail(const std::string& step) {
  if (context_->failure) {
    try {
      std::rethrow_exception(context_->failure);
    } catch (Error& error) {
      error.add_context(context_->what);
      throw;
    }
  }
  throw Error(context_->what + ": " + step + ": " + archive_text(archive_.get()), 0, kDamagedHint);
}

std::optional<TarEntry> TarReader::next() {
  archive_entry* entry = nullptr;
  const int rc = archive_read_next_header(archive_.get(), &entry);
  if (rc == ARCHIVE_EOF) return std::nullopt;
  if (rc < ARCHIVE_WARN) fail("read the next entry");
  TarEntry result;
  const char* path = archive_entry_pathname(entry);
  if (path == nullptr) fail("an entry has no name");
  result.path = path;
  result.size = archive_entry_size(entry);
  if (const char* target = archive_entry_hardlink(entry)) {
    result.type = TarEntry::Type::hardlink;
    result.link = target;
    return result;
  }
  switch (archive_entry_filetype(entry)) {
    case AE_IFREG: result.type = TarEntry::Type::file; break;
    case AE_IFDIR: result.type = TarEntry::Type::directory; break;
    case AE_IFLNK: {
      result.type = TarEntry::Type::symlink;
      const char* target = archive_entry_symlink(entry);
      result.link = target != nullptr ? target : "";
      break;
    }
    default: result.type = TarEntry::Type::other;
  }
  return result;
}

ByteSource& TarReader::content() { return *content_; }

// --- Writing ----------------------------------------------------------------------------------------

struct TarWriter::Context {
  explicit Context(ByteSink& sink) : output(&sink) {}
  ByteSink* output;  // null once the writer gave up: nothing more may reach the output
  std::exception_ptr failure;
  bool finished = false;
};

void TarWriter::Free::operator()(archive* writer) const noexcept { archive_write_free(writer); }

TarWriter::TarWriter(ByteSink& output)
    : context_(std::make_unique<Context>(output)), archive_(archive_write_new()) {
  if (!archive_) throw Error("create a tar writer", ENOMEM);
  const auto write_callback = [](archive* writer, void* client, const void* buffer,
                                 std::size_t length) -> la_ssize_t {
    auto* context = static_cast<Context*>(client);
    if (context->output == nullptr) {
      archive_set_error(writer, EIO, "the archive was abandoned");
      return -1;
    }
    try {
      context->output->write(std::span(static_cast<const std::byte*>(buffer), length));
      return static_cast<la_ssize_t>(length);
    } catch (...) {
      context->failure = std::current_exception();
      archive_set_error(writer, EIO, "writing the output failed");
      return -1;
    }
  };
  // ustar headers, pax records only where ustar cannot say it; no padding past the last record.
  // Extended attributes in SCHILY.xattr records alone, which is what OCI layers and Docker use
  // (libarchive would add a LIBARCHIVE.xattr twin of each).
  if (archive_write_set_format_pax_restricted(archive_.get()) != ARCHIVE_OK ||
      archive_write_set_format_option(archive_.get(), "pax", "xattrheader", "SCHILY") != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(archive_.get(), 1) != ARCHIVE_OK ||
      archive_write_open(archive_.get(), context_.get(), nullptr, write_callback, nullptr) != ARCHIVE_OK) {
    fail("start the archive");
  }
}

TarWriter::~TarWriter() {
  // archive_write_free closes the archive, which would append the end-of-archive blocks and make an
  // incomplete archive look whole: cut the output off first.
  if (!context_->finished) context_->output = nullptr;
}

void TarWriter::fail(const std::string& step) {
  context_->output = nullptr;
  if (context_->failure) std::rethrow_exception(context_->failure);
  throw Error("write the archive: " + step + ": " + archive_text(archive_.get()));
}

void TarWriter::add_header(const std::string& path, unsigned type, unsigned mode, std::uint64_t size) {
  std::unique_ptr<archive_entry, EntryFree> entry(archive_entry_new());
  if (!entry) throw Error("create a tar entry", ENOMEM);
  archive_entry_set_pathname(entry.get(), path.c_str());
  archive_entry_set_filetype(entry.get(), type);
  archive_entry_set_perm(entry.get(), mode);
  archive_entry_set_size(entry.get(), static_cast<la_int64_t>(size));
  archive_entry_set_mtime(entry.get(), 0, 0);
  archive_entry_set_uid(entry.get(), 0);
  archive_entry_set_gid(entry.get(), 0);
  if (archive_write_header(archive_.get(), entry.get()) != ARCHIVE_OK) fail("add " + path);
}

void TarWriter::copy_entries(TarReader& reader,
                             const std::function<std::uint32_t(std::uint32_t id, bool group)>& owner_id) {
  std::vector<std::byte> buffer(std::size_t{1} << 17);
  for (;;) {
    archive_entry* entry = nullptr;
    const int rc = archive_read_next_header(reader.archive_.get(), &entry);
    if (rc == ARCHIVE_EOF) return;
    if (rc < ARCHIVE_WARN) reader.fail("read the next entry");
    const std::string path = archive_entry_pathname(entry) != nullptr ? archive_entry_pathname(entry) : "";
    archive_entry_set_uid(entry, owner_id(static_cast<std::uint32_t>(archive_entry_uid(entry)), false));
    archive_entry_set_gid(entry, owner_id(static_cast<std::uint32_t>(archive_entry_gid(entry)), true));
    archive_entry_set_uname(entry, nullptr);
    archive_entry_set_gname(entry, nullptr);
    if (archive_write_header(archive_.get(), entry) != ARCHIVE_OK) fail("add " + path);
    for (;;) {
      const la_ssize_t got = archive_read_data(reader.archive_.get(), buffer.data(), buffer.size());
      if (got < 0) reader.fail("read " + path);
      if (got == 0) break;
      if (archive_write_data(archive_.get(), buffer.data(), static_cast<std::size_t>(got)) != got)
        fail("write " + path);
    }
  }
}

void TarWriter::add_directory(const std::string& path) { add_header(path, AE_IFDIR, 0755, 0); }

void TarWriter::add_file(const std::string& path, std::uint64_t size, ByteSource& content) {
  add_header(path, AE_IFREG, 0644, size);
  std::vector<std::byte> buffer(std::size_t{1} << 17);
  for (std::uint64_t left = size; left > 0;) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, buffer.size()));
    const std::size_t got = content.read(std::span(buffer).first(want));
    if (got == 0) {
      context_->output = nullptr;
      throw Error("write the archive: " + path + " ended " + std::to_string(left) + " bytes early");
    }
    if (archive_write_data(archive_.get(), buffer.data(), got) != static_cast<la_ssize_t>(got))
      fail("write " + path);
    left -= got;
  }
}

void TarWriter::add_file(const std::string& path, std::string_view content) {
  add_header(path, AE_IFREG, 0644, content.size());
  if (!content.empty() && archive_write_data(archive_.get(), content.data(), content.size()) !=
                              static_cast<la_ssize_t>(content.size())) {
    fail("write " + path);
  }
}

void TarWriter::finish() {
  if (archive_write_close(archive_.get()) != ARCHIVE_OK) fail("finish");
  context_->finished = true;
}

}  // namespace mcore::engine
