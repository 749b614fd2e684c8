#pragma once
// A bounded in-memory pipe between two threads of a pull: the download writes into it while the
// unpacker reads from it (and the decompressor's output to the unpacker), so a layer is hashed,
// decompressed and unpacked in one pass as it arrives. A blocked side is woken only once a quarter of
// the pipe is free (writer) or filled (reader), or the stream ends: the threads trade large pieces
// instead of a wake-up per small write.
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <vector>

#include "mcore/io.hpp"

namespace mcore::engine {

class BytePipe final : public ByteSink, public ByteSource {
 public:
  explicit BytePipe(std::size_t capacity = 1 << 20);

  // Producer side. Blocks while the pipe is full; throws Error once the reader has given up.
  void write(std::span<const std::byte> bytes) override;
  // Ends the stream: the reader sees end of file after the remaining bytes.
  void close();
  // Ends the stream with an error that the reader's next read rethrows.
  void fail(std::exception_ptr error);

  // Consumer side. Blocks while the pipe is empty and open.
  std::size_t read(std::span<std::byte> buffer) override;
  // The reader stops early (its own failure): unblocks and fails the writer.
  void abandon();

 private:
  std::mutex mutex_;
  std::condition_variable readable_;
  std::condition_variable writable_;
  std::vector<std::byte> ring_;
  std::size_t head_ = 0;  // next byte to read
  std::size_t size_ = 0;  // bytes buffered
  // What a blocked side waits for (0: it is not blocked): bytes buffered (reader), bytes free (writer).
  std::size_t reader_wants_ = 0;
  std::size_t writer_wants_ = 0;
  bool closed_ = false;
  bool abandoned_ = false;
  std::exception_ptr error_;
};

// Runs `produce` on a thread of its own, writing into a BytePipe that `consume` reads on the calling
// thread, and returns once both are done: a stream passed between two steps that each want to drive it
// (a driver that writes, a library that pulls). What `consume` leaves unread is drained, so that a
// failure of `produce` after it is still rethrown; when `consume` throws, `produce` is stopped and
// joined first.
void pipe_through(const std::function<void(ByteSink&)>& produce,
                  const std::function<void(ByteSource&)>& consume);

}  // namespace mcore::engine
