#pragma once
// Tar archives through libarchive, tar formats only: image archives are read entry by entry from a
// ByteSource and written to a ByteSink. Compression is layer_stream's business, never libarchive's,
// so the engine links none of libarchive's codecs (see core/CMakeLists.txt).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "mcore/io.hpp"

struct archive;

namespace mcore::engine {

struct TarEntry {
  enum class Type { file, directory, symlink, hardlink, other };
  std::string path;  // as stored ("./blobs/sha256/ab..", "manifest.json")
  Type type = Type::other;
  std::string link;  // symlink target, or the archive path a hardlink repeats
  std::int64_t size = 0;
};

class TarReader {
 public:
  // `what` names the archive in errors ("the archive").
  TarReader(ByteSource& input, std::string what);
  ~TarReader();
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  // The next entry's header; nullopt at the end of the archive. Throws Error on a damaged or truncated
  // archive (the input's own Error when reading it failed).
  std::optional<TarEntry> next();
  // The current regular file's bytes, until the next call to next(). Throws Error when they end early.
  ByteSource& content();

 private:
  friend class TarWriter;  // copy_entries reads whole entries
  class Content;
  struct Context;
  [[noreturn]] void fail(const std::string& step);
  struct Free {
    void operator()(archive* reader) const noexcept;
  };
  std::unique_ptr<Context> context_;
  std::unique_ptr<archive, Free> archive_;
  std::unique_ptr<Content> content_;
};

class TarWriter {
 public:
  explicit TarWriter(ByteSink& output);
  ~TarWriter();
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  // Entries are owned by root, dated 1970-01-01 (the same image saves to the same bytes), 0755 or 0644.
  void add_directory(const std::string& path);
  // Copies exactly `size` bytes of `content`; throws Error when it has fewer.
  void add_file(const std::string& path, std::uint64_t size, ByteSource& content);
  void add_file(const std::string& path, std::string_view content);
  // Copies every remaining entry of `reader` whole (type, mode, times, links, extended attributes,
  // data), its uid and gid passed through `owner_id` (called once for each) and its owner names
  // dropped, so that the numbers alone say who owns it.
  void copy_entries(TarReader& reader,
                    const std::function<std::uint32_t(std::uint32_t id, bool group)>& owner_id);
  // Writes the end-of-archive blocks. Without it the archive is incomplete.
  void finish();

 private:
  struct Context;
  [[noreturn]] void fail(const std::string& step);
  void add_header(const std::string& path, unsigned type, unsigned mode, std::uint64_t size);
  struct Free {
    void operator()(archive* writer) const noexcept;
  };
  std::unique_ptr<Context> context_;
  std::unique_ptr<archive, Free> archive_;
};

}  // namespace mcore::engine
