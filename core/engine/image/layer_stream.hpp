#pragma once
// Byte-source decorators of the layer pipeline: decompression (gzip or zstd, detected from the first
// bytes, or none) and digest verification that fails the stream at its end instead of reporting end of
// file, so a storage driver never publishes a layer whose content does not match its diff_id.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/io/byte_pipe.hpp"
#include "engine/image/digest.hpp"
#include "mcore/io.hpp"

namespace mcore::engine {

// A compressed stream is decompressed on a thread of its own, started by the first read, while the
// reader consumes the output (decompression is the slowest stage of a pull; overlapping it with hashing
// and unpacking shortens a layer by nearly the unpacking time). From that first read on, `compressed`
// is read by that thread only; the destructor stops it, waiting for a pending read of `compressed` to
// return. Errors of `compressed`, and corrupt or truncated data, reach the reader as the Error thrown.
class DecompressingSource final : public ByteSource {
 public:
  explicit DecompressingSource(ByteSource& compressed);
  ~DecompressingSource() override;
  std::size_t read(std::span<std::byte> buffer) override;

 private:
  struct Codec;
  void detect();
  std::size_t fill_input();
  std::size_t decompress(std::span<std::byte> out);
  void decompress_all() noexcept;

  ByteSource& input_;
  std::vector<std::byte> buffer_;
  std::size_t buffer_start_ = 0;
  std::size_t buffer_end_ = 0;
  bool input_done_ = false;
  std::unique_ptr<Codec> codec_;
  std::unique_ptr<BytePipe> output_;  // decompressed bytes, from worker_ to read()
  std::thread worker_;
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
