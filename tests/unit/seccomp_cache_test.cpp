#include "engine/security/seccomp_cache.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "test_support.hpp"

namespace mcore::engine {
namespace {
namespace fs = std::filesystem;

bool same_program(const SeccompProgram& a, const SeccompProgram& b) {
  return a.instructions.size() == b.instructions.size() &&
         std::equal(a.instructions.begin(), a.instructions.end(), b.instructions.begin(),
                    [](const sock_filter& x, const sock_filter& y) {
                      return x.code == y.code && x.jt == y.jt && x.jf == y.jf && x.k == y.k;
                    });
}

// The compiled programs (beside them, `library` names the libseccomp that compiled them).
std::vector<fs::path> cached_files(const fs::path& root) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(root / "seccomp")) {
    if (entry.path().extension() == ".bpf") files.push_back(entry.path());
  }
  return files;
}

// The libseccomp file the cache notes as the one that compiled its programs.
std::string noted_library(const fs::path& root) {
  std::ifstream in(root / "seccomp" / "library");
  std::string path;
  std::getline(in, path);
  return path;
}

TEST(SeccompCache, StoresTheCompiledProgramAndServesItAgain) {
  test::TempDir state("mcore-seccomp-cache");
  const auto expected = compile_default_seccomp(default_capabilities());
  const auto first = cached_default_seccomp(state.path(), default_capabilities());
  EXPECT_TRUE(same_program(first, expected));
  auto files = cached_files(state.path());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(fs::file_size(files[0]), expected.instructions.size() * sizeof(sock_filter));
  EXPECT_TRUE(same_program(cached_default_seccomp(state.path(), default_capabilities()), expected));
}

TEST(SeccompCache, CapabilitySetsGetTheirOwnEntries) {
  test::TempDir state("mcore-seccomp-cache");
  const CapabilitySet with_admin = default_capabilities() | (CapabilitySet{1} << 21);  // CAP_SYS_ADMIN
  auto plain = cached_default_seccomp(state.path(), default_capabilities());
  auto admin = cached_default_seccomp(state.path(), with_admin);
  EXPECT_EQ(cached_files(state.path()).size(), 2u);
  EXPECT_FALSE(same_program(plain, admin));
  EXPECT_TRUE(same_program(admin, compile_default_seccomp(with_admin)));
}

TEST(SeccompCache, ADamagedEntryIsRecompiled) {
  test::TempDir state("mcore-seccomp-cache");
  cached_default_seccomp(state.path(), default_capabilities());
  auto file = cached_files(state.path()).at(0);
  std::ofstream(file, std::ios::trunc) << "garbage";
  EXPECT_TRUE(same_program(cached_default_seccomp(state.path(), default_capabilities()),
                           compile_default_seccomp(default_capabilities())));
  EXPECT_EQ(fs::file_size(file), compile_default_seccomp(default_capabilities()).instructions.size() * sizeof(sock_filter));
}

TEST(SeccompCache, NotesTheLibseccompThatCompiledThePrograms) {
  test::TempDir state("mcore-seccomp-cache");
  cached_default_seccomp(state.path(), default_capabilities());
  const std::string path = noted_library(state.path());
  EXPECT_NE(path.find("libseccomp.so"), std::string::npos) << path;
  EXPECT_TRUE(fs::exists(path)) << path;
}

// Another libseccomp file (an upgrade) must not be served the old one's programs.
TEST(SeccompCache, AnotherLibseccompCompilesAnew) {
  test::TempDir state("mcore-seccomp-cache");
  cached_default_seccomp(state.path(), default_capabilities());
  const std::string path = noted_library(state.path());
  // The "upgrade": a different file where the loader found libseccomp before.
  const fs::path upgraded = state.path() / "libseccomp.so.2";
  fs::copy_file(path, upgraded);
  std::ofstream(state.path() / "seccomp" / "library", std::ios::trunc) << upgraded.string();
  EXPECT_TRUE(same_program(cached_default_seccomp(state.path(), default_capabilities()),
                           compile_default_seccomp(default_capabilities())));
  // A miss: the program was compiled again, and the note names the library that did it (a hit would
  // have left the note alone).
  EXPECT_EQ(noted_library(state.path()), path);
}

}  // namespace
}  // namespace mcore::engine
