#include "engine/security/seccomp_cache.hpp"

#include <fcntl.h>
#include <seccomp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "engine/util/build_id.hpp"
#include "engine/util/file_util.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

constexpr std::size_t kMaxInstructions = 4096;  // BPF_MAXINSNS

// FNV-1a: a cache key for mcore's own compiled-in profile, not a defence against crafted input.
std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ULL;
  return hash;
}

// What identifies the profile: the build ID of the binary whose code and tables build it (reading it
// is free; building and hashing the profile's JSON took 0.5 ms of every start), or, in a binary linked
// without one, the hash of that JSON.
std::string profile_key() {
  if (auto id = build_id_of(reinterpret_cast<const void*>(&default_seccomp_profile))) return "b" + *id;
  char hash[20];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(fnv1a(default_seccomp_profile().dump())));
  return hash;
}

std::filesystem::path cache_file(const std::filesystem::path& state_root, CapabilitySet capabilities) {
  const scmp_version* version = seccomp_version();
  static const std::string profile = profile_key();
  char name[200];
  // "tree": programs compiled as a binary search (before, a list; those files are simply not read).
  std::snprintf(name, sizeof name, "default-tree-%s-%016llx-%u.%u.%u.bpf", profile.c_str(),
                static_cast<unsigned long long>(capabilities), version->major, version->minor, version->micro);
  return state_root / "seccomp" / name;
}

bool read_cached(const std::filesystem::path& file, SeccompProgram& program) {
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0 || info.st_size <= 0 || info.st_size % sizeof(sock_filter) != 0 ||
      static_cast<std::size_t>(info.st_size) / sizeof(sock_filter) > kMaxInstructions) {
    return false;
  }
  program.instructions.resize(static_cast<std::size_t>(info.st_size) / sizeof(sock_filter));
  auto size = static_cast<std::size_t>(info.st_size);
  return ::read(fd.get(), program.instructions.data(), size) == static_cast<ssize_t>(size);
}

}  // namespace

SeccompProgram cached_default_seccomp(const std::filesystem::path& state_root, CapabilitySet capabilities) {
  const auto file = cache_file(state_root, capabilities);
  SeccompProgram program;
  if (read_cached(file, program)) return program;
  program = compile_default_seccomp(capabilities);
  std::error_code error;
  std::filesystem::create_directories(file.parent_path(), error);
  try {
    write_file_atomic(file, {reinterpret_cast<const char*>(program.instructions.data()),
                             program.instructions.size() * sizeof(sock_filter)},
                      {.mode = 0600});
  } catch (const Error&) {
    // A read-only state root only costs the next start a compile.
  }
  return program;
}

}  // namespace mcore::engine
