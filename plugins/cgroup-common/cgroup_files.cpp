#include "cgroup_files.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <set>
#include <thread>

#include "mcore/error.hpp"

namespace mcore::cgroup {
namespace fs = std::filesystem;

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\n";
  auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto start = text.find_first_not_of(" \t\n", pos);
    if (start == std::string_view::npos) break;
    auto end = text.find_first_of(" \t\n", start);
    if (end == std::string_view::npos) end = text.size();
    words.emplace_back(text.substr(start, end - start));
    pos = end;
  }
  return words;
}

std::uint64_t parse_u64(std::string_view text, const fs::path& source) {
  text = trim(text);
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    throw Error(source.string() + ": expected a number, found \"" + std::string(text) + "\"");
  }
  return value;
}

std::uint64_t parse_limit(std::string_view text, const fs::path& source) {
  text = trim(text);
  if (text == "max") return 0;
  if (text == "-1") return 0;
  std::uint64_t value = parse_u64(text, source);
  return value >= (std::uint64_t{1} << 62) ? 0 : value;
}

std::optional<std::uint64_t> find_key(std::string_view content, std::string_view key,
                                      const fs::path& source) {
  std::size_t pos = 0;
  while (pos < content.size()) {
    auto end = content.find('\n', pos);
    if (end == std::string_view::npos) end = content.size();
    std::string_view line = content.substr(pos, end - pos);
    if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == ' ') {
      return parse_u64(line.substr(key.size() + 1), source);
    }
    pos = end + 1;
  }
  return std::nullopt;
}

bool make_dir(const fs::path& dir, const std::function<void()>& make_parent) {
  if (::mkdir(dir.c_str(), 0755) == 0) return true;
  if (errno == ENOENT && make_parent) {
    make_parent();
    if (::mkdir(dir.c_str(), 0755) == 0) return true;
  }
  if (errno == EEXIST) return false;
  throw Error::from_errno("create cgroup " + dir.string());
}

namespace {

void collect_procs(const fs::path& dir, std::vector<pid_t>& out) {
  std::string content;
  try {
    content = read_file(dir / "cgroup.procs");
  } catch (const Error& error) {
    if (error.error_number() == ENOENT) return;  // removed meanwhile
    throw;
  }
  for (const auto& word : split_words(content)) {
    out.push_back(static_cast<pid_t>(parse_u64(word, dir / "cgroup.procs")));
  }
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator(dir, ignored)) {
    if (entry.is_directory(ignored)) collect_procs(entry.path(), out);
  }
}

}  // namespace

std::vector<pid_t> read_procs(const fs::path& dir) {
  std::vector<pid_t> pids;
  collect_procs(dir, pids);
  return pids;
}

void signal_procs(const fs::path& dir, int signal) {
  // Processes may fork while we walk the list: repeat until a round finds nobody new.
  std::set<pid_t> signalled;
  for (int round = 0; round < 100; ++round) {
    bool found_new = false;
    for (pid_t pid : read_procs(dir)) {
      if (!signalled.insert(pid).second) continue;
      found_new = true;
      if (::kill(pid, signal) != 0 && errno != ESRCH) {
        throw Error::from_errno("send signal " + std::to_string(signal) + " to process " +
                                std::to_string(pid) + " of " + dir.string());
      }
    }
    if (!found_new) return;
  }
}

void remove_group(const fs::path& dir) {
  if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
  if (errno == EBUSY) {
    // Groups the container made below its own must go first.
    std::error_code ignored;
    std::vector<fs::path> children;
    for (const auto& entry : fs::directory_iterator(dir, ignored)) {
      if (entry.is_directory(ignored)) children.push_back(entry.path());
    }
    for (const auto& child : children) remove_group(child);
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
  }
  throw Error::from_errno("remove cgroup " + dir.string());
}

void destroy_group(const fs::path& dir, const std::function<void()>& kill, std::chrono::milliseconds limit) {
  if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return;  // the usual case: the container has exited
  if (errno != EBUSY) throw Error::from_errno("remove cgroup " + dir.string());
  wait_for(
      [&] {
        kill();
        return read_procs(dir).empty();
      },
      limit);
  try {
    remove_group(dir);
  } catch (Error& error) {
    if (error.error_number() == EBUSY) {
      error.set_hint("processes in the group did not exit within " + std::to_string(limit.count()) +
                     " ms of SIGKILL (stuck in the kernel?); retry later");
    }
    throw;
  }
}

bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  std::chrono::microseconds pause(100);
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(10));
  }
}

CreatedGroups::~CreatedGroups() {
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) ::rmdir(it->c_str());
}

}  // namespace mcore::cgroup
