// The pasta network driver selected by root's config. pasta opens the container's namespace after
// dropping its capabilities, which /proc/PID/ns/net refuses against a container's init that still
// holds them: the driver hands pasta a bind of the namespace instead, and removes it once pasta holds
// the namespace. Without a default_network, pasta's own network is the default.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "mcore/fd_io.hpp"
#include "test_support.hpp"

namespace mcore::test {
namespace {
namespace fs = std::filesystem;

// Whether a TCP socket could be bound to 127.0.0.1:`port` right now (`port` 0: report the one taken).
bool can_bind(std::uint16_t port, std::uint16_t* chosen = nullptr) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  const bool bound = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                     ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  if (bound && chosen) *chosen = ntohs(address.sin_port);
  if (fd >= 0) ::close(fd);
  return bound;
}

class PastaAsRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    if (::access("/usr/bin/pasta", X_OK) != 0)
      GTEST_SKIP() << "pasta is not installed (apt-get install passt)";
    // The sandbox's bridge section and default network out: the config names only the driver.
    sandbox_ = std::make_unique<McoreSandbox>(nlohmann::json{
        {"drivers", {{"network", "pasta"}}}, {"network", nullptr}, {"default_network", nullptr}});
  }

  // Nothing of the namespace binds is left: no file, no mount.
  void expect_no_namespace_bind() const {
    const fs::path dir = sandbox_->state_root() / "network" / "pasta";
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(dir, error)) {
      EXPECT_FALSE(entry.path().string().ends_with(".netns")) << "left behind: " << entry.path();
    }
    EXPECT_EQ(read_file("/proc/self/mountinfo").find(dir.string()), std::string::npos)
        << "a mount under " << dir << " is left";
  }

  // pasta processes whose command line names a file in the sandbox's state root (their --pid).
  int pastas_of_sandbox() const {
    int found = 0;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator("/proc", error)) {
      std::string command_line;
      try {
        command_line = read_file(entry.path() / "cmdline");
      } catch (const std::exception&) {
        continue;
      }
      // Debian's pasta runs as pasta.avx2 where the processor has AVX2.
      const bool is_pasta =
          fs::path(command_line.substr(0, command_line.find('\0'))).filename().string().starts_with("pasta");
      found += is_pasta && command_line.find(sandbox_->state_root().string()) != std::string::npos;
    }
    return found;
  }

  std::unique_ptr<McoreSandbox> sandbox_;
};

TEST_F(PastaAsRootTest, RunsOnPastasNetworkByDefaultWithTheHostsAddressAndLeavesNoBind) {
  // A second in: pasta watches a namespace given as a file and would quit once the bind is gone.
  auto result = sandbox_->mcore({"run", "--rm", "--rootfs", shared_busybox_rootfs().string(), "sh", "-c",
                                 "sleep 1; ip -4 -o addr show eth0; ip route show default"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("eth0"), std::string::npos) << result.out << result.err;
  EXPECT_NE(result.out.find("inet "), std::string::npos) << "pasta copied no address: " << result.out;
  EXPECT_NE(result.out.find("default"), std::string::npos) << "pasta copied no default route: " << result.out;
  expect_no_namespace_bind();
}

TEST_F(PastaAsRootTest, APublishedPortIsTakenWhileTheContainerRunsAndFreeAfterRm) {
  std::uint16_t port = 0;
  ASSERT_TRUE(can_bind(0, &port));
  auto started =
      sandbox_->mcore({"run", "-d", "--name", "web", "-p", "127.0.0.1:" + std::to_string(port) + ":8080",
                       "--rootfs", shared_busybox_rootfs().string(), "sleep", "60"});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  EXPECT_FALSE(can_bind(port)) << "port " << port << " is not held for the container";
  EXPECT_EQ(pastas_of_sandbox(), 1);
  expect_no_namespace_bind();
  EXPECT_EQ(sandbox_->mcore({"rm", "-f", "web"}).exit_code, 0);
  EXPECT_TRUE(can_bind(port)) << "port " << port << " is still taken after rm returned";
  EXPECT_EQ(pastas_of_sandbox(), 0) << "the container's pasta outlived rm";
}

}  // namespace
}  // namespace mcore::test
