#include "engine/image/layer_stream.hpp"

#include <cstring>

#include "engine/image/compression_libraries.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {

// One decompressor, chosen by the stream's magic bytes.
struct DecompressingSource::Codec {
  enum class Kind { none, gzip, zstd } kind = Kind::none;
  z_stream zlib{};
  ZSTD_DStream* zstd = nullptr;
  bool finished = false;

  ~Codec() {
    if (kind == Kind::gzip) engine::zlib().inflate_end(&zlib);
    if (zstd != nullptr) engine::zstd().free_dstream(zstd);
  }
};

namespace {
// 128 KiB pieces (what libarchive asks for) through a 1 MiB pipe: the decompressor runs up to eight
// pieces ahead, and both threads' working sets stay in the cache.
constexpr std::size_t kInputBuffer = std::size_t{1} << 17;
constexpr std::size_t kOutputPiece = std::size_t{1} << 17;
constexpr std::size_t kOutputPipe = std::size_t{1} << 20;
}  // namespace

DecompressingSource::DecompressingSource(ByteSource& compressed)
    : input_(compressed), buffer_(kInputBuffer) {}

DecompressingSource::~DecompressingSource() {
  if (worker_.joinable()) {
    output_->abandon();  // a worker blocked on a full pipe gets an Error and ends
    worker_.join();
  }
}

std::size_t DecompressingSource::fill_input() {
  if (buffer_start_ == buffer_end_ && !input_done_) {
    buffer_start_ = 0;
    buffer_end_ = input_.read(buffer_);
    input_done_ = buffer_end_ == 0;
  }
  return buffer_end_ - buffer_start_;
}

void DecompressingSource::detect() {
  codec_ = std::make_unique<Codec>();
  // Magic numbers need the first bytes; a stream shorter than four bytes is passed through.
  while (buffer_end_ < 4 && !input_done_) {
    std::size_t n = input_.read(std::span(buffer_).subspan(buffer_end_));
    input_done_ = n == 0;
    buffer_end_ += n;
  }
  const auto* magic = reinterpret_cast<const unsigned char*>(buffer_.data());
  if (buffer_end_ >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    const ZlibFunctions& functions = zlib();
    codec_->kind = Codec::Kind::gzip;
    // 15 + 32: a gzip (or zlib) header, detected automatically.
    if (functions.inflate_init(codec_->zlib, 15 + 32) != Z_OK) throw Error("start gzip decompression");
  } else if (buffer_end_ >= 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f &&
             magic[3] == 0xfd) {
    codec_->kind = Codec::Kind::zstd;
    codec_->zstd = zstd().create_dstream();
    if (codec_->zstd == nullptr) throw Error("start zstd decompression");
  }
}

std::size_t DecompressingSource::read(std::span<std::byte> out) {
  if (!codec_) detect();
  if (out.empty()) return 0;

  if (codec_->kind == Codec::Kind::none) {
    if (fill_input() == 0) return 0;
    std::size_t n = std::min(out.size(), buffer_end_ - buffer_start_);
    std::memcpy(out.data(), buffer_.data() + buffer_start_, n);
    buffer_start_ += n;
    return n;
  }
  if (!worker_.joinable()) {
    output_ = std::make_unique<BytePipe>(kOutputPipe);
    worker_ = std::thread([this] { decompress_all(); });
  }
  return output_->read(out);
}

void DecompressingSource::decompress_all() noexcept {
  try {
    std::vector<std::byte> piece(kOutputPiece);
    while (std::size_t n = decompress(piece)) output_->write(std::span(piece).first(n));
    output_->close();
  } catch (...) {
    output_->fail(std::current_exception());  // after abandon() nobody reads it: harmless
  }
}

// Runs on worker_: the next decompressed bytes into `out`, 0 at the end of the stream.
std::size_t DecompressingSource::decompress(std::span<std::byte> out) {
  while (!codec_->finished) {
    std::size_t available = fill_input();
    if (codec_->kind == Codec::Kind::gzip) {
      auto& z = codec_->zlib;
      z.next_in = reinterpret_cast<Bytef*>(buffer_.data() + buffer_start_);
      z.avail_in = static_cast<uInt>(available);
      z.next_out = reinterpret_cast<Bytef*>(out.data());
      z.avail_out = static_cast<uInt>(out.size());
      int rc = zlib().inflate(&z, Z_NO_FLUSH);
      buffer_start_ = buffer_end_ - z.avail_in;
      std::size_t produced = out.size() - z.avail_out;
      if (rc == Z_STREAM_END) {
        codec_->finished = true;
      } else if (rc != Z_OK && !(rc == Z_BUF_ERROR && available > 0)) {
        throw Error(std::string("the layer is not valid gzip: ") +
                    (z.msg != nullptr ? z.msg : "truncated stream"));
      }
      if (produced > 0) return produced;
      if (!codec_->finished && available == 0) throw Error("the layer's gzip stream ends early");
    } else {
      ZSTD_inBuffer in{buffer_.data() + buffer_start_, available, 0};
      ZSTD_outBuffer result{out.data(), out.size(), 0};
      const ZstdFunctions& functions = zstd();
      std::size_t rc = functions.decompress_stream(codec_->zstd, &result, &in);
      if (functions.is_error(rc)) throw Error(std::string("the layer is not valid zstd: ") + functions.error_name(rc));
      buffer_start_ += in.pos;
      if (rc == 0 && available == in.pos && input_done_) codec_->finished = true;
      if (rc == 0 && fill_input() == 0) codec_->finished = true;
      if (result.pos > 0) return result.pos;
      if (!codec_->finished && available == 0) throw Error("the layer's zstd stream ends early");
    }
  }
  return 0;
}

VerifyingSource::VerifyingSource(ByteSource& input, std::string expected_digest, std::string what)
    : input_(input), expected_(std::move(expected_digest)), what_(std::move(what)) {}

std::size_t VerifyingSource::read(std::span<std::byte> buffer) {
  std::size_t n = input_.read(buffer);
  if (n > 0) {
    hash_.update(buffer.first(n));
    bytes_ += n;
    return n;
  }
  if (!verified_) {
    std::string actual = hash_.finish();
    if (actual != expected_) {
      throw Error(
          what_ + ": content does not match its digest (expected " + expected_ + ", got " + actual + ")", 0,
          "the source is corrupt or was tampered with; nothing of it was kept");
    }
    verified_ = true;
  }
  return 0;
}

}  // namespace mcore::engine
