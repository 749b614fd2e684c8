#include "engine/security/seccomp_cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "engine/security/seccomp_library.hpp"
#include "engine/util/build_id.hpp"
#include "engine/util/file_util.hpp"
#include "mcore/error.hpp"
#include "mcore/fd_io.hpp"

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

// Which libseccomp compiles the programs: the identity of its file (device, inode, size, change time),
// so that an upgrade compiles anew. The path it was loaded from is noted beside the programs, so that
// a start whose program is cached never loads libseccomp. Empty when it is not known yet.
std::string library_identity(const std::filesystem::path& dir) {
  std::optional<std::string> path;
  try {
    path = read_file_if_exists(dir / "library");
  } catch (const Error&) {
  }
  struct stat info {};
  if (!path || path->empty() || ::stat(path->c_str(), &info) != 0) return {};
  char identity[80];
  std::snprintf(identity, sizeof identity, "%llx-%llx-%llx-%llx", static_cast<unsigned long long>(info.st_dev),
                static_cast<unsigned long long>(info.st_ino), static_cast<unsigned long long>(info.st_size),
                static_cast<unsigned long long>(info.st_ctim.tv_sec) * 1000000000ULL +
                    static_cast<unsigned long long>(info.st_ctim.tv_nsec));
  return identity;
}

std::filesystem::path cache_file(const std::filesystem::path& dir, const std::string& library,
                                 CapabilitySet capabilities) {
  static const std::string profile = profile_key();
  char name[240];
  // "tree": programs compiled as a binary search (before, a list; those files are simply not read).
  std::snprintf(name, sizeof name, "default-tree-%s-%016llx-%s.bpf", profile.c_str(),
                static_cast<unsigned long long>(capabilities), library.c_str());
  return dir / name;
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
  const std::filesystem::path dir = state_root / "seccomp";
  if (const std::string library = library_identity(dir); !library.empty()) {
    SeccompProgram program;
    if (read_cached(cache_file(dir, library, capabilities), program)) return program;
  }
  SeccompProgram program = compile_default_seccomp(capabilities);
  try {
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    write_file_atomic(dir / "library", seccomp().path, {.mode = 0600});
    if (const std::string library = library_identity(dir); !library.empty()) {
      write_file_atomic(cache_file(dir, library, capabilities),
                        {reinterpret_cast<const char*>(program.instructions.data()),
                         program.instructions.size() * sizeof(sock_filter)},
                        {.mode = 0600});
    }
  } catch (const Error&) {
    // A read-only state root only costs the next start a compile.
  }
  return program;
}

}  // namespace mcore::engine
