#pragma once
// zlib and libzstd, opened on first use instead of linked. Only pulls, load, save and commit
// (de)compress; mapping and relocating both cost every other mcore command, a container start among
// them, about 0.6 ms and 100 KiB (measured). Each call throws Error when its library cannot be loaded.
#include <zlib.h>
#include <zstd.h>

namespace mcore::engine {

struct ZlibFunctions {
  // inflateInit2() and deflateInit2() are macros over these, which also take the version and the
  // stream's size: call them through inflate_init() and deflate_init() below.
  decltype(&::inflateInit2_) inflate_init2 = nullptr;
  decltype(&::inflate) inflate = nullptr;
  decltype(&::inflateEnd) inflate_end = nullptr;
  decltype(&::deflateInit2_) deflate_init2 = nullptr;
  decltype(&::deflate) deflate = nullptr;
  decltype(&::deflateEnd) deflate_end = nullptr;

  int inflate_init(z_stream& stream, int window_bits) const {
    return inflate_init2(&stream, window_bits, ZLIB_VERSION, static_cast<int>(sizeof(z_stream)));
  }
  int deflate_init(z_stream& stream, int level, int window_bits, int memory_level, int strategy) const {
    return deflate_init2(&stream, level, Z_DEFLATED, window_bits, memory_level, strategy, ZLIB_VERSION,
                         static_cast<int>(sizeof(z_stream)));
  }
};

struct ZstdFunctions {
  decltype(&::ZSTD_createDStream) create_dstream = nullptr;
  decltype(&::ZSTD_decompressStream) decompress_stream = nullptr;
  decltype(&::ZSTD_freeDStream) free_dstream = nullptr;
  decltype(&::ZSTD_isError) is_error = nullptr;
  decltype(&::ZSTD_getErrorName) error_name = nullptr;
};

const ZlibFunctions& zlib();
const ZstdFunctions& zstd();

}  // namespace mcore::engine
