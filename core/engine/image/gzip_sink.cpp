#include "engine/image/gzip_sink.hpp"

#include <algorithm>
#include <cerrno>
#include <vector>

#include "engine/image/compression_libraries.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {

struct GzipSink::Stream {
  z_stream zlib{};
  std::vector<std::byte> piece = std::vector<std::byte>(std::size_t{1} << 17);
  ~Stream() { engine::zlib().deflate_end(&zlib); }  // loaded: the constructor asked for it first
};

GzipSink::GzipSink(ByteSink& output) : output_(output) {
  const ZlibFunctions& functions = zlib();
  auto stream = std::make_unique<Stream>();
  // 15 + 16: the largest window, with a gzip header and trailer instead of zlib's.
  if (functions.deflate_init(stream->zlib, Z_DEFAULT_COMPRESSION, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    // deflateEnd on a stream whose init failed is harmless: it reports Z_STREAM_ERROR and frees nothing.
    throw Error("start gzip compression", ENOMEM);
  }
  stream_ = std::move(stream);
}

GzipSink::~GzipSink() = default;

void GzipSink::deflate_into_output(int flush) {
  auto& z = stream_->zlib;
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(stream_->piece.data());
    z.avail_out = static_cast<uInt>(stream_->piece.size());
    const int rc = zlib().deflate(&z, flush);
    if (rc == Z_STREAM_ERROR) throw Error("gzip compression failed");
    const std::size_t produced = stream_->piece.size() - z.avail_out;
    if (produced > 0) output_.write(std::span(stream_->piece).first(produced));
    // More output may wait only when this call filled the whole piece; Z_FINISH ends with Z_STREAM_END.
    if (flush == Z_FINISH ? rc == Z_STREAM_END : z.avail_out != 0) return;
  }
}

void GzipSink::write(std::span<const std::byte> bytes) {
  auto& z = stream_->zlib;
  // avail_in is 32 bits wide: feed large writes in slices.
  constexpr std::size_t kSlice = std::size_t{1} << 30;
  while (!bytes.empty()) {
    const auto slice = bytes.first(std::min(bytes.size(), kSlice));
    z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(slice.data()));
    z.avail_in = static_cast<uInt>(slice.size());
    deflate_into_output(Z_NO_FLUSH);
    bytes = bytes.subspan(slice.size());
  }
}

void GzipSink::finish() {
  auto& z = stream_->zlib;
  z.next_in = nullptr;
  z.avail_in = 0;
  deflate_into_output(Z_FINISH);
}

}  // namespace mcore::engine
