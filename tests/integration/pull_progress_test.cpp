// `mcore pull` progress as a user sees it: bars redrawn in place on a real terminal (a pty), plain lines
// through a pipe, against Debian's docker-registry on 127.0.0.1.
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "oci_image_builder.hpp"
#include "registry_fixture.hpp"
#include "test_support.hpp"

namespace mcore::test {
namespace {
using namespace std::chrono_literals;

// Runs argv on a new pty of `columns` columns; returns everything it printed and its exit code.
CommandResult run_on_pty(const std::vector<std::string>& argv, unsigned short columns) {
  winsize size{};
  size.ws_row = 40;
  size.ws_col = columns;
  int master = -1;
  const pid_t pid = ::forkpty(&master, nullptr, nullptr, &size);
  if (pid < 0) return {};
  if (pid == 0) {
    std::vector<char*> c_argv;
    for (const auto& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
    c_argv.push_back(nullptr);
    ::setenv("TERM", "xterm", 1);
    ::execv(c_argv[0], c_argv.data());
    ::_exit(127);
  }
  CommandResult result;
  // Read until the child is gone and its side of the pty closed (read fails with EIO).
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd wait{master, POLLIN, 0};
    if (::poll(&wait, 1, 200) <= 0) continue;
    char buffer[4096];
    const ssize_t n = ::read(master, buffer, sizeof buffer);
    if (n <= 0) break;
    result.out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(master);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

TEST(PullProgressTest, ATerminalGetsBarsRedrawnInPlaceAPipeGetsPlainLines) {
  MCORE_REQUIRE_ROOT();
  RegistryFixture registry;
  McoreSandbox sandbox;
  TempDir layouts("mcore-layouts");
  OciImageBuilder builder(layouts.path() / "app");
  const auto image =
      builder.add_image({{LayerEntry::file("small", "x\n")}, {LayerEntry::file("big", incompressible_bytes(3'000'000))}});
  builder.tag(image, "latest");
  registry.push(builder.dir(), "app:1", "latest");
  const std::string reference = registry.host() + "/app:1";

  const auto pulled = run_on_pty(sandbox.mcore_argv({"pull", reference}), 120);
  ASSERT_EQ(pulled.exit_code, 0) << pulled.out;
  const std::string& out = pulled.out;
  // Two layers: every redraw moves up over both lines, and erases each line it rewrites.
  EXPECT_NE(out.find("\x1b[2A"), std::string::npos) << out;
  EXPECT_NE(out.find("\x1b[2K"), std::string::npos) << out;
  EXPECT_EQ(out.find("\x1b[3A"), std::string::npos) << "moved up over more lines than it drew: " << out;
  // The final frame: after the last cursor-up, both layers complete.
  const auto last_frame = out.substr(out.rfind("\x1b[2A"));
  for (const auto& layer : image.layers) {
    EXPECT_NE(last_frame.find(layer.digest.substr(7, 12) + ": Pull complete"), std::string::npos)
        << last_frame;
  }
  EXPECT_NE(last_frame.find("Digest: " + image.manifest_digest), std::string::npos) << last_frame;
  EXPECT_NE(last_frame.find(reference + "\r\n"), std::string::npos) << last_frame;

  // Through a pipe: no escape sequences, one line per state.
  McoreSandbox piped;
  const auto plain = piped.mcore({"pull", reference});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out.find('\x1b'), std::string::npos) << plain.out;
  EXPECT_NE(plain.out.find(image.layers[1].digest.substr(7, 12) + ": Downloading\n"), std::string::npos)
      << plain.out;
  EXPECT_NE(plain.out.find(image.layers[1].digest.substr(7, 12) + ": Pull complete\n"), std::string::npos)
      << plain.out;
}

}  // namespace
}  // namespace mcore::test
