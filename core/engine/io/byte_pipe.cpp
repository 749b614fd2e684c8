#include "engine/io/byte_pipe.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <thread>

#include "mcore/error.hpp"

namespace mcore::engine {

BytePipe::BytePipe(std::size_t capacity) : ring_(capacity) {}

void BytePipe::write(std::span<const std::byte> bytes) {
  std::unique_lock lock(mutex_);
  const std::size_t batch = std::max<std::size_t>(ring_.size() / 4, 1);
  while (!bytes.empty()) {
    if (!abandoned_ && size_ == ring_.size()) {
      writer_wants_ = std::min(bytes.size(), batch);
      writable_.wait(lock, [&] { return abandoned_ || ring_.size() - size_ >= writer_wants_; });
      writer_wants_ = 0;
    }
    if (abandoned_) throw Error("the unpacker stopped reading this layer");
    std::size_t tail = (head_ + size_) % ring_.size();
    std::size_t chunk = std::min({bytes.size(), ring_.size() - size_, ring_.size() - tail});
    std::memcpy(ring_.data() + tail, bytes.data(), chunk);
    size_ += chunk;
    bytes = bytes.subspan(chunk);
    if (reader_wants_ != 0 && size_ >= reader_wants_) readable_.notify_one();
  }
}

void BytePipe::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  readable_.notify_all();
}

void BytePipe::fail(std::exception_ptr error) {
  std::lock_guard lock(mutex_);
  error_ = std::move(error);
  closed_ = true;
  readable_.notify_all();
}

std::size_t BytePipe::read(std::span<std::byte> buffer) {
  std::unique_lock lock(mutex_);
  if (size_ == 0 && !closed_ && !buffer.empty()) {
    reader_wants_ = std::min(buffer.size(), std::max<std::size_t>(ring_.size() / 4, 1));
    readable_.wait(lock, [&] { return size_ >= reader_wants_ || closed_; });
    reader_wants_ = 0;
  }
  if (size_ == 0) {
    if (error_) std::rethrow_exception(error_);
    return 0;
  }
  std::size_t chunk = std::min({buffer.size(), size_, ring_.size() - head_});
  std::memcpy(buffer.data(), ring_.data() + head_, chunk);
  head_ = (head_ + chunk) % ring_.size();
  size_ -= chunk;
  if (writer_wants_ != 0 && ring_.size() - size_ >= writer_wants_) writable_.notify_one();
  return chunk;
}

void BytePipe::abandon() {
  std::lock_guard lock(mutex_);
  abandoned_ = true;
  writable_.notify_all();
}

void pipe_through(const std::function<void(ByteSink&)>& produce,
                  const std::function<void(ByteSource&)>& consume) {
  BytePipe pipe;
  std::thread producer([&] {
    try {
      produce(pipe);
      pipe.close();
    } catch (...) {
      pipe.fail(std::current_exception());
    }
  });
  try {
    consume(pipe);
    std::array<std::byte, 4096> rest{};
    while (pipe.read(rest) > 0) {
    }
  } catch (...) {
    pipe.abandon();
    producer.join();
    throw;
  }
  producer.join();
}

}  // namespace mcore::engine
