#include "engine/image/compression_libraries.hpp"

#include "mcore/lazy_library.hpp"

namespace mcore::engine {

// Both sonames have been stable for decades (zlib 1.x, zstd 1.x).
const ZlibFunctions& zlib() {
  auto bind_all = [](LazyLibrary& library, ZlibFunctions& f) {
    library.bind("inflateInit2_", f.inflate_init2);
    library.bind("inflate", f.inflate);
    library.bind("inflateEnd", f.inflate_end);
    library.bind("deflateInit2_", f.deflate_init2);
    library.bind("deflate", f.deflate);
    library.bind("deflateEnd", f.deflate_end);
  };
  return lazy_functions<ZlibFunctions>("libz.so.1", "install zlib (zlib1g)", bind_all);
}

const ZstdFunctions& zstd() {
  auto bind_all = [](LazyLibrary& library, ZstdFunctions& f) {
    library.bind("ZSTD_createDStream", f.create_dstream);
    library.bind("ZSTD_decompressStream", f.decompress_stream);
    library.bind("ZSTD_freeDStream", f.free_dstream);
    library.bind("ZSTD_isError", f.is_error);
    library.bind("ZSTD_getErrorName", f.error_name);
  };
  return lazy_functions<ZstdFunctions>("libzstd.so.1", "install zstd (libzstd1)", bind_all);
}

}  // namespace mcore::engine
