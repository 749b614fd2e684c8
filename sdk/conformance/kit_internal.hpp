#pragma once
// Helpers the four kits share; not installed.
#include <sys/mman.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <new>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "mcore/conformance/kit.hpp"
#include "mcore/error.hpp"
#include "mcore/host_context.hpp"
#include "mcore/io.hpp"

namespace mcore::conformance::detail {

// A fresh directory below `parent`, removed recursively when dropped.
class Scratch {
 public:
  Scratch(const std::filesystem::path& parent, const std::string& prefix);
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// What a case needs to make drivers: its directory, and a logger whose output is printed on failure.
class DriverHarness {
 public:
  DriverHarness(const std::filesystem::path& scratch_parent, const std::string& target_name);
  ~DriverHarness();
  const std::filesystem::path& scratch() const { return scratch_.path(); }
  // data_root and state_root below the scratch directory, `config` as the `role` section.
  HostContext context(nlohmann::json config, const std::string& role) const;
  // Prints what the drivers logged when the current test has failed.
  void report_log_on_failure() const;

 private:
  Scratch scratch_;
  std::shared_ptr<std::ostringstream> log_;
  std::shared_ptr<spdlog::logger> logger_;
};

// The reason a case cannot run here ("" when it can): not root when `needs_root`, else the target's own.
std::string skip_reason(const AvailabilityCheck& unavailable, bool needs_root);

// Calls `factory` and checks the driver implements `Interface`; throws Error when not.
template <class Interface>
std::shared_ptr<Interface> make_driver(const DriverFactory& factory, const HostContext& context,
                                       const char* interface_name) {
  if (!factory) throw Error("the target has no factory", 0, "set the target's `factory`");
  std::shared_ptr<Driver> driver = factory(context);
  auto typed = std::dynamic_pointer_cast<Interface>(driver);
  if (!typed) throw Error(std::string("the factory made no ") + interface_name);
  return typed;
}

// Success when `action` throws an mcore::Error with a message (stored in *message); a failure naming
// what happened otherwise (nothing thrown, another exception type, an empty message).
::testing::AssertionResult throws_error(const std::function<void()>& action, std::string* message = nullptr);

// Success when `text` contains `part`; says both otherwise.
::testing::AssertionResult mentions(const std::string& text, const std::string& part);

std::string random_hex(std::size_t digits);
// "sha256:<64 hex>" of `bytes`.
std::string sha256_digest(std::string_view bytes);
// A whole file ("" when it cannot be read).
std::string read_file(const std::filesystem::path& path);
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit);
std::string describe_status(int wait_status);

// A forked child that runs `body` once start() is called, so the test can first place it somewhere.
// Killed (SIGKILL) and reaped on destruction if still there.
class Child {
 public:
  explicit Child(std::function<int()> body);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  pid_t pid() const { return pid_; }
  void start();
  // The wait status; the child is killed when it has not ended within `limit` (a test failure).
  int wait(std::chrono::milliseconds limit);
  bool reaped() const { return reaped_; }

 private:
  pid_t pid_ = -1;
  int go_ = -1;
  bool reaped_ = false;
};

// A ByteSink that keeps everything written to it in `data`.
class StringSink final : public ByteSink {
 public:
  void write(std::span<const std::byte> bytes) override {
    data.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  std::string data;
};

// A value in memory shared with forked children.
template <class T>
class Shared {
 public:
  Shared() {
    void* memory = ::mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) throw std::runtime_error("mmap a shared page failed");
    value_ = new (memory) T();
  }
  ~Shared() {
    value_->~T();
    ::munmap(value_, sizeof(T));
  }
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;
  T* operator->() { return value_; }
  T& operator*() { return *value_; }

 private:
  T* value_;
};

}  // namespace mcore::conformance::detail
