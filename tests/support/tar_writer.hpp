#pragma once
// Tar archives built byte by byte in memory (ustar headers, pax records for xattrs and long names), so
// tests can make archives a careful writer refuses to: "../x", absolute names, links out of the tree,
// device nodes. Header-only: used by the layer store's unit and integration tests.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "mcore/io.hpp"

namespace mcore::test {

struct TarEntry {
  std::string name;
  char type = '0';  // '0' file, '1' hardlink, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo
  std::string data;
  std::string link;  // symlink or hardlink target
  unsigned mode = 0644;
  unsigned uid = 0;
  unsigned gid = 0;
  long long mtime = 1700000000;
  unsigned dev_major = 0;
  unsigned dev_minor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

inline TarEntry tar_entry(std::string name, char type, unsigned mode) {
  TarEntry entry;
  entry.name = std::move(name);
  entry.type = type;
  entry.mode = mode;
  return entry;
}
inline TarEntry tar_file(std::string name, std::string data, unsigned mode = 0644) {
  TarEntry entry = tar_entry(std::move(name), '0', mode);
  entry.data = std::move(data);
  return entry;
}
inline TarEntry tar_dir(std::string name, unsigned mode = 0755) {
  return tar_entry(std::move(name), '5', mode);
}
inline TarEntry tar_symlink(std::string name, std::string target) {
  TarEntry entry = tar_entry(std::move(name), '2', 0777);
  entry.link = std::move(target);
  return entry;
}
inline TarEntry tar_hardlink(std::string name, std::string target) {
  TarEntry entry = tar_entry(std::move(name), '1', 0644);
  entry.link = std::move(target);
  return entry;
}
// A character ('3') or block ('4') device.
inline TarEntry tar_device(std::string name, char type, unsigned major, unsigned minor) {
  TarEntry entry = tar_entry(std::move(name), type, 0600);
  entry.dev_major = major;
  entry.dev_minor = minor;
  return entry;
}

namespace tar_detail {

// Zero-padded octal ending in NUL, as ustar wants numbers.
inline void put_octal(char* field, std::size_t size, unsigned long long value) {
  field[size - 1] = '\0';
  for (std::size_t i = size - 1; i-- > 0; value /= 8) field[i] = static_cast<char>('0' + value % 8);
}

inline void put_text(char* field, std::size_t size, const std::string& text) {
  std::memcpy(field, text.data(), std::min(size, text.size()));
}

inline void pad(std::string& out) { out.append((512 - out.size() % 512) % 512, '\0'); }

inline void append_header(std::string& out, const std::string& name, char type, std::size_t size,
                          const TarEntry& entry) {
  char block[512] = {};
  put_text(block, 100, name);
  put_octal(block + 100, 8, entry.mode);
  put_octal(block + 108, 8, entry.uid);
  put_octal(block + 116, 8, entry.gid);
  put_octal(block + 124, 12, size);
  put_octal(block + 136, 12, static_cast<unsigned long long>(entry.mtime));
  block[156] = type;
  put_text(block + 157, 100, entry.link);
  std::memcpy(block + 257, "ustar", 6);
  std::memcpy(block + 263, "00", 2);
  put_octal(block + 329, 8, entry.dev_major);
  put_octal(block + 337, 8, entry.dev_minor);
  std::memset(block + 148, ' ', 8);
  unsigned sum = 0;
  for (const char c : block) sum += static_cast<unsigned char>(c);
  put_octal(block + 148, 7, sum);  // six digits, NUL, and the space already there
  out.append(block, sizeof block);
}

// One pax record: "<length> key=value\n", where the length counts itself.
inline std::string pax_record(const std::string& key, const std::string& value) {
  const std::size_t body = key.size() + value.size() + 3;  // ' ', '=', '\n'
  std::size_t length = body + 1;
  while (std::to_string(length).size() + body != length) ++length;
  return std::to_string(length) + " " + key + "=" + value + "\n";
}

}  // namespace tar_detail

// The whole archive, two zero blocks included.
inline std::string make_tar(const std::vector<TarEntry>& entries) {
  std::string out;
  for (const auto& entry : entries) {
    std::string pax;
    if (entry.name.size() > 100) pax += tar_detail::pax_record("path", entry.name);
    if (entry.link.size() > 100) pax += tar_detail::pax_record("linkpath", entry.link);
    for (const auto& [key, value] : entry.xattrs) pax += tar_detail::pax_record("SCHILY.xattr." + key, value);
    if (!pax.empty()) {
      tar_detail::append_header(out, "PaxHeaders/" + entry.name.substr(0, 80), 'x', pax.size(), entry);
      out += pax;
      tar_detail::pad(out);
    }
    const std::size_t size = entry.type == '0' ? entry.data.size() : 0;
    tar_detail::append_header(out, entry.name.substr(0, 100), entry.type, size, entry);
    if (size != 0) {
      out += entry.data;
      tar_detail::pad(out);
    }
  }
  out.append(1024, '\0');
  return out;
}

// Serves a string in small reads, as a network stream would arrive.
class StringSource : public ByteSource {
 public:
  explicit StringSource(std::string bytes, std::size_t chunk = 1000)
      : bytes_(std::move(bytes)), chunk_(chunk) {}
  std::size_t read(std::span<std::byte> buffer) override {
    const std::size_t n = std::min({buffer.size(), chunk_, bytes_.size() - position_});
    std::memcpy(buffer.data(), bytes_.data() + position_, n);
    position_ += n;
    return n;
  }
  std::size_t position() const { return position_; }

 private:
  std::string bytes_;
  std::size_t chunk_;
  std::size_t position_ = 0;
};

}  // namespace mcore::test
