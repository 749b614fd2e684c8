// Image layers as registries and archives deliver them: gzip, zstd or plain tar (detected from the first
// bytes), decompressed and unpacked into a scratch directory that is emptied after each input. The
// unpacker must refuse escapes (.., absolute paths, symlink and hardlink tricks) with an Error and never
// write outside the directory (device nodes, which it now creates, included); scripts/fuzz runs this
// target with / read-only to catch it if it did.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <span>

#include "engine/image/layer_stream.hpp"
#include "fuzz_target.hpp"
#include "layer_unpacker.hpp"
#include "mcore/unique_fd.hpp"
#include "tree_remover.hpp"

namespace {

class MemorySource final : public mcore::ByteSource {
 public:
  explicit MemorySource(std::span<const std::byte> bytes) : bytes_(bytes) {}
  std::size_t read(std::span<std::byte> buffer) override {
    const std::size_t n = std::min(buffer.size(), bytes_.size());
    std::memcpy(buffer.data(), bytes_.data(), n);
    bytes_ = bytes_.subspan(n);
    return n;
  }

 private:
  std::span<const std::byte> bytes_;
};

const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    const char* base = std::getenv("TMPDIR");
    std::string path = std::string(base != nullptr ? base : "/tmp") + "/mcore-fuzz-layer-XXXXXX";
    if (::mkdtemp(path.data()) == nullptr) std::abort();
    return std::filesystem::path(path);
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::filesystem::path& dir = scratch_dir();
  const mcore::UniqueFd root(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root) std::abort();
  mcore::fuzz::refusing_with_errors([&] {
    MemorySource input(std::as_bytes(std::span(data, size)));
    mcore::engine::DecompressingSource layer(input);
    (void)mcore::overlay::unpack_layer(layer, root.get(), dir);
  });
  mcore::overlay::empty_tree(root.get(), dir);
  return 0;
}
