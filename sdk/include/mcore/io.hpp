#pragma once
// Byte streams passed between the engine and drivers (layer archives, blobs). Pull-style sources and
// push-style sinks keep a whole pull pipeline in one pass without buffering a layer in memory.
#include <cstddef>
#include <span>

namespace mcore {

class ByteSource {
 public:
  virtual ~ByteSource();
  // Reads up to buffer.size() bytes; returns 0 only at the end of the stream. Throws Error on failure.
  virtual std::size_t read(std::span<std::byte> buffer) = 0;
};

class ByteSink {
 public:
  virtual ~ByteSink();
  // Consumes all of `bytes` or throws Error.
  virtual void write(std::span<const std::byte> bytes) = 0;
};

}  // namespace mcore
