// What mcore keeps on the host is root's alone. An unprivileged local user can neither run a setuid file
// a container left in a volume, nor read a container's record (and its -e secrets), nor use mcore on
// root's store, nor talk to a container's supervisor — whatever the umask, and even when the directories
// on the way were opened up. The sandbox's own directory is opened (0755, as /var/lib is) so that only
// mcore's modes stand between the user and the roots.
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "engine/io/fd_passing.hpp"
#include "engine/io/supervisor_protocol.hpp"
#include "test_support.hpp"

namespace mcore::test {
namespace {
namespace fs = std::filesystem;

constexpr uid_t kNobody = 65534;

// Drops this (forked) process to the unprivileged user nobody, every capability with root's ids (no
// keep-caps, as a login of that user would be); exits 3 when it cannot. setpriv(1) is no stand-in: it
// execs with capabilities still effective, which would let it pass directories nobody may pass.
void become_nobody() {
  if (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
      ::setresuid(kNobody, kNobody, kNobody) != 0) {
    ::_exit(3);
  }
}

// Runs argv as nobody; its stdout and stderr (a few KiB at most) come back.
CommandResult as_nobody(const std::vector<std::string>& argv) {
  int out[2], err[2];
  EXPECT_EQ(::pipe(out), 0);
  EXPECT_EQ(::pipe(err), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    become_nobody();
    std::vector<char*> args;
    for (const auto& word : argv) args.push_back(const_cast<char*>(word.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(errno == EACCES ? 126 : 127);
  }
  ::close(out[1]);
  ::close(err[1]);
  auto drain = [](int fd) {
    std::string text;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<std::size_t>(n));
    ::close(fd);
    return text;
  };
  CommandResult result;
  result.out = drain(out[0]);
  result.err = drain(err[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  EXPECT_NE(result.exit_code, 3) << "could not become nobody";
  return result;
}

unsigned mode_of(const fs::path& path) {
  struct stat status {};
  EXPECT_EQ(::lstat(path.c_str(), &status), 0) << path;
  return status.st_mode & 07777;
}

class PrivateStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    sandbox_ = std::make_unique<McoreSandbox>();
    // As /var/lib and /run are: anyone may pass through to the roots.
    fs::permissions(sandbox_->data_root().parent_path(), fs::perms(0755));
  }

  CommandResult mcore(const std::vector<std::string>& args) { return sandbox_->mcore(args); }

  std::string run_detached(const std::vector<std::string>& flags, const std::string& name) {
    std::vector<std::string> args{"run", "-d", "--name", name};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {"--rootfs", shared_probe_rootfs().string(), "sleep", "1000"});
    auto result = mcore(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    std::string id = result.out;
    while (!id.empty() && id.back() == '\n') id.pop_back();
    return id;
  }

  std::unique_ptr<McoreSandbox> sandbox_;
};

TEST_F(PrivateStateTest, ASetuidFileAContainerLeftInAVolumeIsOutOfOtherUsersReach) {
  auto made = mcore({"run", "--rm", "-v", "stash:/data", "--rootfs", shared_probe_rootfs().string(), "sh", "-c",
                     "cp /bin/mcore-probe /data/probe && chmod 4755 /data/probe"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const fs::path planted = sandbox_->data_root() / "volumes" / "stash" / "_data" / "probe";
  ASSERT_EQ(mode_of(planted), 04755u);
  auto attempt = as_nobody({planted.string(), "euid"});
  EXPECT_NE(attempt.exit_code, 0) << "nobody ran the setuid file: " << attempt.out;
  EXPECT_EQ(attempt.out.find('0'), std::string::npos) << "it ran as root: " << attempt.out;
  for (const fs::path& dir : {sandbox_->data_root(), sandbox_->data_root() / "volumes",
                              sandbox_->data_root() / "containers", sandbox_->state_root()}) {
    EXPECT_EQ(mode_of(dir), 0700u) << dir;
  }
}

TEST_F(PrivateStateTest, RecordsAndTheirSecretsAreRootsAlone) {
  const std::string id = run_detached({"-e", "DB_PASSWORD=hunter2"}, "box");
  const fs::path record = sandbox_->data_root() / "containers" / id / "container.json";
  ASSERT_NE(read_text(record).find("hunter2"), std::string::npos);
  EXPECT_EQ(mode_of(record), 0600u);
  EXPECT_EQ(mode_of(record.parent_path()), 0700u);
  auto read = as_nobody({"/bin/cat", record.string()});
  EXPECT_NE(read.exit_code, 0);
  EXPECT_EQ(read.out.find("hunter2"), std::string::npos);
  // mcore itself, run by another user, is rootless mcore: it stops before it reads root's store (here
  // at nobody's missing subordinate ids; with ids, at the root-only directories of the store).
  auto argv = sandbox_->mcore_argv({"inspect", "box"});
  auto inspect = as_nobody(argv);
  EXPECT_EQ(inspect.exit_code, 125) << inspect.out << inspect.err;
  EXPECT_NE(inspect.err.find("rootless mcore"), std::string::npos) << inspect.err;
  EXPECT_EQ(inspect.out.find("hunter2"), std::string::npos) << inspect.out;
  EXPECT_EQ(inspect.err.find("hunter2"), std::string::npos) << inspect.err;
}

TEST_F(PrivateStateTest, RootsFoundWiderAreNarrowedAgain) {
  ASSERT_EQ(mcore({"volume", "create", "vol"}).exit_code, 0);
  for (const fs::path& dir : {sandbox_->data_root(), sandbox_->data_root() / "volumes", sandbox_->state_root()}) {
    fs::permissions(dir, fs::perms(0755));
  }
  ASSERT_EQ(mcore({"volume", "ls"}).exit_code, 0);
  for (const fs::path& dir : {sandbox_->data_root(), sandbox_->data_root() / "volumes", sandbox_->state_root()}) {
    EXPECT_EQ(mode_of(dir), 0700u) << dir;
  }
}

// Connects to `socket` as nobody and asks the supervisor for the init's pidfd; true when it came.
bool nobody_gets_the_pidfd(const fs::path& socket) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    become_nobody();
    int fd = ::socket(AF_UNIX, SOCK_SEQPACKET, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    socket.string().copy(address.sun_path, sizeof address.sun_path - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) ::_exit(2);
    timeval limit{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    const char ask = static_cast<char>(engine::FrameKind::want_pidfd);
    ::send(fd, &ask, 1, MSG_NOSIGNAL);
    char frame[64];
    UniqueFd pidfd;
    engine::receive_message(fd, frame, sizeof frame, &pidfd);
    ::_exit(pidfd ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 3) << "could not become nobody";
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST_F(PrivateStateTest, TheSupervisorSocketIsRootsWhateverTheUmaskAndTheModes) {
  // Started under umask 000, which bind(2) would otherwise turn into a socket anyone may use.
  std::string command = "umask 000; exec";
  for (const auto& word : sandbox_->mcore_argv({"run", "-d", "--name", "box", "--rootfs", shared_probe_rootfs().string(),
                                                 "sleep", "1000"})) {
    command += " '" + word + "'";
  }
  auto started = run_command({"/bin/sh", "-c", command});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  std::string id = started.out;
  while (!id.empty() && id.back() == '\n') id.pop_back();
  const fs::path dir = sandbox_->state_root() / "containers" / id;
  const fs::path socket = dir / "supervisor.sock";
  EXPECT_EQ(mode_of(socket), 0600u);
  EXPECT_EQ(mode_of(dir), 0700u);
  EXPECT_EQ(mode_of(sandbox_->state_root()), 0700u);
  // Even with every directory and the socket opened to all, the supervisor answers root alone.
  for (const fs::path& path : {sandbox_->state_root(), sandbox_->state_root() / "containers", dir}) {
    fs::permissions(path, fs::perms(0755));
  }
  fs::permissions(socket, fs::perms(0777));
  EXPECT_FALSE(nobody_gets_the_pidfd(socket)) << "an unprivileged user got the container init's pidfd";
  // Root still may.
  auto stopped = mcore({"stop", "-t", "1", "box"});
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
}

}  // namespace
}  // namespace mcore::test
