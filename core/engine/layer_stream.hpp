#pragma once
// Byte-source decorators of the layer pipeline: decompression (gzip or zstd, detected from the first
// bytes, or none) and digest verification that fails the stream at its end instead of reporting end of
// file, so a storage driver never publishes a layer whose content does not match its diff_id.
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "engine/digest.hpp"
#include "mcore/io.hpp"

namespace mcore::engine {

class DecompressingSource final : public ByteSource {
 public:
  explicit DecompressingSource(ByteSource& compressed);
  ~DecompressingSource() override;
  std::size_t read(std::span<std::byte> buffer) override;

 private:
  struct Codec;
  std::size_t fill_input();

  ByteSource& input_;
  std::vector<std::byte> buffer_;
  std::size_t buffer_start_ = 0;
  std::size_t buffer_end_ = 0;
  bool input_done_ = false;
  std::unique_ptr<Codec> codec_;
};

class VerifyingSource final : public ByteSource {
 public:
  // `what` names the stream in the error ("layer sha256:ab12...").
  VerifyingSource(ByteSource& input, std::string expected_digest, std::string what);
  std::size_t read(std::span<std::byte> buffer) override;
  std::uint64_t bytes_read() const { return bytes_; }

 private:
  ByteSource& input_;
  std::string expected_;
  std::string what_;
  Sha256 hash_;
  std::uint64_t bytes_ = 0;
  bool verified_ = false;
};

}  // namespace mcore::engine
