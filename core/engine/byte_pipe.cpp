#include "engine/byte_pipe.hpp"

#include <algorithm>
#include <cstring>

#include "mcore/error.hpp"

namespace mcore::engine {

BytePipe::BytePipe(std::size_t capacity) : ring_(capacity) {}

void BytePipe::write(std::span<const std::byte> bytes) {
  std::unique_lock lock(mutex_);
  while (!bytes.empty()) {
    changed_.wait(lock, [&] { return abandoned_ || size_ < ring_.size(); });
    if (abandoned_) throw Error("the unpacker stopped reading this layer");
    std::size_t tail = (head_ + size_) % ring_.size();
    std::size_t chunk = std::min({bytes.size(), ring_.size() - size_, ring_.size() - tail});
    std::memcpy(ring_.data() + tail, bytes.data(), chunk);
    size_ += chunk;
    bytes = bytes.subspan(chunk);
    changed_.notify_all();
  }
}

void BytePipe::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  changed_.notify_all();
}

void BytePipe::fail(std::exception_ptr error) {
  std::lock_guard lock(mutex_);
  error_ = std::move(error);
  closed_ = true;
  changed_.notify_all();
}

std::size_t BytePipe::read(std::span<std::byte> buffer) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return size_ > 0 || closed_; });
  if (size_ == 0) {
    if (error_) std::rethrow_exception(error_);
    return 0;
  }
  std::size_t chunk = std::min({buffer.size(), size_, ring_.size() - head_});
  std::memcpy(buffer.data(), ring_.data() + head_, chunk);
  head_ = (head_ + chunk) % ring_.size();
  size_ -= chunk;
  changed_.notify_all();
  return chunk;
}

void BytePipe::abandon() {
  std::lock_guard lock(mutex_);
  abandoned_ = true;
  changed_.notify_all();
}

}  // namespace mcore::engine
