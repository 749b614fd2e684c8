#pragma once
// Gzip compression as a ByteSink decorator: what mcore itself makes into a layer blob (mcore commit) is
// stored compressed, like a pulled layer. The header carries no name and no time, so the same tar always
// compresses to the same blob.
#include <memory>

#include "mcore/io.hpp"

namespace mcore::engine {

class GzipSink final : public ByteSink {
 public:
  // Compresses into `output` at zlib's default level (Docker's and containerd's).
  explicit GzipSink(ByteSink& output);
  ~GzipSink() override;
  GzipSink(const GzipSink&) = delete;
  GzipSink& operator=(const GzipSink&) = delete;

  void write(std::span<const std::byte> bytes) override;
  // Flushes the rest and writes the gzip trailer. Without it the stream is truncated.
  void finish();

 private:
  struct Stream;
  // Runs deflate over the pending input with `flush`, passing every output piece on.
  void deflate_into_output(int flush);

  ByteSink& output_;
  std::unique_ptr<Stream> stream_;
};

}  // namespace mcore::engine
