// The layer pipeline's byte plumbing: the bounded pipe between threads, decompression and digest checks.
#include "engine/io/byte_pipe.hpp"
#include "engine/image/layer_stream.hpp"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <random>
#include <thread>

#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

std::string random_text(std::size_t size) {
  std::mt19937 generator(42);
  std::string text(size, '\0');
  // Compressible but not trivial: words from a small alphabet.
  for (auto& c : text) c = "abcdefgh \n"[generator() % 10];
  return text;
}

std::string gzip(const std::string& data) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string zstd(const std::string& data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3));
  return out;
}

// Serves a string in small, uneven pieces, as a network would.
class ChunkedSource final : public ByteSource {
 public:
  explicit ChunkedSource(std::string data) : data_(std::move(data)) {}
  std::size_t read(std::span<std::byte> buffer) override {
    std::size_t n = std::min({buffer.size(), data_.size() - at_, std::size_t{777}});
    std::memcpy(buffer.data(), data_.data() + at_, n);
    at_ += n;
    return n;
  }

 private:
  std::string data_;
  std::size_t at_ = 0;
};

std::string drain(ByteSource& source) {
  std::string out;
  std::byte buffer[5000];
  while (std::size_t n = source.read(buffer)) out.append(reinterpret_cast<char*>(buffer), n);
  return out;
}

TEST(DecompressingSource, GzipZstdAndPlainGiveTheOriginal) {
  const std::string original = random_text(3 << 20);
  for (const auto& [name, encoded] : {std::pair{"gzip", gzip(original)}, std::pair{"zstd", zstd(original)},
                                      std::pair{"plain", original}}) {
    ChunkedSource source(encoded);
    DecompressingSource decompressed(source);
    EXPECT_EQ(drain(decompressed), original) << name;
  }
}

TEST(DecompressingSource, TruncatedOrCorruptStreamsAreErrors) {
  const std::string original = random_text(1 << 20);
  for (std::string broken : {gzip(original), zstd(original)}) {
    broken.resize(broken.size() / 2);
    ChunkedSource source(broken);
    DecompressingSource decompressed(source);
    EXPECT_THROW(drain(decompressed), Error);
  }
  std::string corrupt = gzip(original);
  corrupt[corrupt.size() / 2] ^= 0x55;
  ChunkedSource source(corrupt);
  DecompressingSource decompressed(source);
  EXPECT_THROW(drain(decompressed), Error);
}

TEST(VerifyingSource, EndOfFileOnlyWhenTheDigestMatches) {
  const std::string data = random_text(100000);
  ChunkedSource good_input(data);
  VerifyingSource good(good_input, sha256_digest(data), "layer x");
  EXPECT_EQ(drain(good), data);
  EXPECT_EQ(good.bytes_read(), data.size());

  ChunkedSource bad_input(data + "!");
  VerifyingSource bad(bad_input, sha256_digest(data), "layer x");
  try {
    drain(bad);
    ADD_FAILURE() << "a mismatch must fail the stream";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("layer x: content does not match its digest"), std::string::npos);
  }
}

TEST(BytePipe, CarriesAStreamBetweenThreadsThroughASmallBuffer) {
  const std::string data = random_text(2 << 20);
  BytePipe pipe(4096);
  std::thread producer([&] {
    ChunkedSource source(data);
    std::byte buffer[3000];
    while (std::size_t n = source.read(buffer)) pipe.write(std::span(buffer, n));
    pipe.close();
  });
  EXPECT_EQ(drain(pipe), data);
  producer.join();
}

TEST(BytePipe, ProducerFailureReachesTheReaderAndReaderAbandonStopsTheProducer) {
  BytePipe failing(64);
  std::thread producer([&] {
    failing.write(std::as_bytes(std::span("abc", 3)));
    failing.fail(std::make_exception_ptr(Error("registry went away")));
  });
  producer.join();
  EXPECT_THROW(drain(failing), Error);

  BytePipe abandoned(16);
  std::thread writer([&] {
    std::string big(1000, 'x');
    EXPECT_THROW(abandoned.write(std::as_bytes(std::span(big.data(), big.size()))), Error);
  });
  std::byte first[4];
  abandoned.read(first);
  abandoned.abandon();
  writer.join();
}

TEST(PipeThrough, TheConsumerMayStopEarlyAndTheProducersFailureStillCounts) {
  const std::string data = random_text(3 << 20);
  std::string head;
  pipe_through(
      [&](ByteSink& out) {
        ChunkedSource source(data);
        std::byte buffer[5000];
        while (std::size_t n = source.read(buffer)) out.write(std::span(buffer, n));
      },
      [&](ByteSource& in) {
        std::byte first[10];
        const std::size_t n = in.read(first);
        head.assign(reinterpret_cast<const char*>(first), n);
      });
  EXPECT_EQ(head, data.substr(0, head.size())) << "the rest was drained, so the producer could finish";

  EXPECT_THROW(pipe_through(
                   [](ByteSink& out) {
                     out.write(std::as_bytes(std::span("abc", 3)));
                     throw Error("the driver failed late");
                   },
                   [](ByteSource& in) {
                     std::byte first[3];
                     in.read(first);
                   }),
               Error);
}

TEST(PipeThrough, AFailingConsumerStopsTheProducer) {
  try {
    pipe_through(
        [](ByteSink& out) {
          const std::string big(1 << 20, 'x');
          for (;;) out.write(std::as_bytes(std::span(big.data(), big.size())));  // ends when abandoned
        },
        [](ByteSource&) { throw Error("the reader gave up"); });
    ADD_FAILURE() << "the consumer's error must reach the caller";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "the reader gave up");
  }
}

}  // namespace
}  // namespace mcore::engine
