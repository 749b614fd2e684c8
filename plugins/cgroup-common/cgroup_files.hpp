#pragma once
// File and directory helpers for cgroup filesystems. Every failure is an mcore::Error naming the path
// (and the value, for writes) with errno set, so callers can test error_number() for ENOENT or EBUSY.
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "mcore/error.hpp"
#include "mcore/fd_io.hpp"

namespace mcore::cgroup {

// Whole-file reads and one-write(2) knob writes are the SDK's: mcore::read_file, mcore::write_knob.

std::string_view trim(std::string_view text);

// Splits on spaces, tabs and newlines; empty fields are dropped.
std::vector<std::string> split_words(std::string_view text);

// Parses a decimal number; the Error names `source` (the file it came from).
std::uint64_t parse_u64(std::string_view text, const std::filesystem::path& source);

// A limit file's value: "max" (v2) or anything at or above 2^62 (v1's "unlimited") reads as 0.
std::uint64_t parse_limit(std::string_view text, const std::filesystem::path& source);

// The value of `key` in a flat-keyed file ("usage_usec 123\nuser_usec 45\n"); nullopt when absent.
std::optional<std::uint64_t> find_key(std::string_view content, std::string_view key,
                                      const std::filesystem::path& source);

// Creates `dir`; false when it already exists. When the directory above is missing and `make_parent`
// is given, calls it once and retries.
bool make_dir(const std::filesystem::path& dir, const std::function<void()>& make_parent = {});

// The processes in group `dir` and in every group below it.
std::vector<pid_t> read_procs(const std::filesystem::path& dir);

// Sends `signal` to every process in group `dir` and below; processes that exit meanwhile are skipped.
void signal_procs(const std::filesystem::path& dir, int signal);

// Removes group `dir` and the groups below it, children first. A missing group is fine; a group that still
// holds processes is an Error with EBUSY.
void remove_group(const std::filesystem::path& dir);

// Removes group `dir` like remove_group, but when processes remain, calls `kill` and waits (up to
// `limit`, calling `kill` again each round to catch late forks) for the group to empty first.
void destroy_group(const std::filesystem::path& dir, const std::function<void()>& kill,
                   std::chrono::milliseconds limit);

// Calls `done` with growing pauses (0.1 ms up to 10 ms) until it returns true or `limit` has passed;
// returns its last answer.
bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds limit);

// Runs `action`, prepending `context` to any Error it throws.
template <typename Action>
auto with_context(const std::string& context, Action&& action) {
  try {
    return action();
  } catch (Error& error) {
    error.add_context(context);
    throw;
  }
}

// Runs `action` on the existing group `group`, prepending `context` to any Error. When the group itself
// is missing, the Error says so instead of naming whichever knob was not found.
template <typename Action>
auto with_group(const std::string& context, const std::filesystem::path& group, Action&& action) {
  try {
    return action();
  } catch (Error& error) {
    std::error_code ignored;
    if (error.error_number() == ENOENT && !std::filesystem::is_directory(group, ignored)) {
      throw Error(context + ": there is no cgroup " + group.string(), 0,
                  "the container has no group here: it was never created or has been removed");
    }
    error.add_context(context);
    throw;
  }
}

// Directories created during one create(); removed again (newest first) unless commit() was called, so
// a failing create() leaves nothing behind.
class CreatedGroups {
 public:
  CreatedGroups() = default;
  CreatedGroups(const CreatedGroups&) = delete;
  CreatedGroups& operator=(const CreatedGroups&) = delete;
  ~CreatedGroups();
  void add(std::filesystem::path dir) { dirs_.push_back(std::move(dir)); }
  void commit() { dirs_.clear(); }

 private:
  std::vector<std::filesystem::path> dirs_;
};

}  // namespace mcore::cgroup
