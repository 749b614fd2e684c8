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

std::vector<fs::path> cached_files(const fs::path& root) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(root / "seccomp")) files.push_back(entry.path());
  return files;
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

}  // namespace
}  // namespace mcore::engine
