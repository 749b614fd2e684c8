// mcore exec against the real kernel: the new process joins the running container's namespaces and
// cgroup, runs under its capabilities, seccomp filter and no_new_privs, takes the exec's environment,
// working directory and user, passes its exit code through, and relays signals and the terminal.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "test_support.hpp"

namespace mcore::test {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kDockerDefaultCapEff = "00000000a80425fb";

std::size_t count_lines(const std::string& text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

// The lines of `text` that start with `prefix`, in order.
std::string lines_starting(const std::string& text, const std::string& prefix) {
  std::istringstream lines(text);
  std::string line, found;
  while (std::getline(lines, line)) {
    if (line.starts_with(prefix)) found += line + "\n";
  }
  return found;
}

// mcore started on a terminal of its own (forkpty), as from an interactive shell: the test types into
// it, reads what it prints, resizes and signals it. Killed and reaped if the test did not wait for it.
class McoreOnTerminal {
 public:
  explicit McoreOnTerminal(const std::vector<std::string>& argv) {
    winsize size{};
    size.ws_row = 40;
    size.ws_col = 100;
    pid_ = spawn_on_terminal(argv, master_, &size);
    EXPECT_GT(pid_, 0) << "forkpty failed";
  }
  ~McoreOnTerminal() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait();
    }
    if (master_ >= 0) ::close(master_);
  }
  McoreOnTerminal(const McoreOnTerminal&) = delete;
  McoreOnTerminal& operator=(const McoreOnTerminal&) = delete;

  void type(const std::string& text) { EXPECT_EQ(::write(master_, text.data(), text.size()), static_cast<ssize_t>(text.size())); }
  void resize(unsigned short rows, unsigned short columns) {
    winsize size{};
    size.ws_row = rows;
    size.ws_col = columns;
    ::ioctl(master_, TIOCSWINSZ, &size);
  }
  void signal(int number) { ::kill(pid_, number); }

  // Everything printed until `marker` shows up (or 20 s pass, or the terminal closes).
  std::string read_until(const std::string& marker) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (seen_.find(marker) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd ready{master_, POLLIN, 0};
      if (::poll(&ready, 1, 200) <= 0) continue;
      char buffer[4096];
      ssize_t n = ::read(master_, buffer, sizeof buffer);
      if (n <= 0) break;
      seen_.append(buffer, static_cast<std::size_t>(n));
    }
    return seen_;
  }

  // The exit code, or 128+N when killed by signal N.
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  int master_ = -1;
  std::string seen_;
};

class ExecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    sandbox_ = std::make_unique<McoreSandbox>();
  }

  // Starts a detached container `name` running `command` after writing /created-by-init. The sandbox
  // removes it.
  void start(const std::string& name, const std::vector<std::string>& flags = {},
             const std::string& command = "exec sleep 1000") {
    std::vector<std::string> args{"run", "-d", "--name", name, "--rootfs", shared_probe_rootfs().string()};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {"sh", "-c", "echo hello > /created-by-init; " + command});
    auto result = sandbox_->mcore(args);
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }

  CommandResult exec(const std::vector<std::string>& args, const std::string& input = "") {
    std::vector<std::string> full{"exec"};
    full.insert(full.end(), args.begin(), args.end());
    return sandbox_->mcore(full, input);
  }

  std::unique_ptr<McoreSandbox> sandbox_;
};

// --- Namespaces and cgroup ----------------------------------------------------------------------------

TEST_F(ExecTest, SeesTheContainersFilesystemAndHostname) {
  ASSERT_NO_FATAL_FAILURE(start("box", {"--hostname", "box-host"}));
  // `run -d` returns once sh is exec'd, maybe before it wrote the file.
  CommandResult result;
  for (int attempt = 0; attempt < 50; ++attempt, std::this_thread::sleep_for(100ms)) {
    result = exec({"box", "cat", "/created-by-init"});
    if (result.exit_code == 0) break;
  }
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "hello\n");
  // The root and working directory are the container's: no host mount shows, `/` is the overlay.
  result = exec({"box", "sh", "-c", "hostname; pwd; cat /proc/mounts"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(result.out.starts_with("box-host\n/\n")) << result.out;
  EXPECT_NE(result.out.find(" / overlay "), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find(" /work"), std::string::npos) << "a host mount is visible:\n" << result.out;
  EXPECT_EQ(result.out.find(" /var/tmp"), std::string::npos) << "a host mount is visible:\n" << result.out;
}

TEST_F(ExecTest, JoinsThePidNamespaceWithTheInitAsPidOne) {
  ASSERT_NO_FATAL_FAILURE(start("box"));
  auto result = exec({"box", "sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline; echo; echo $$; ls /proc | grep -c '^[0-9]'"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::istringstream lines(result.out);
  std::string init_command, own_pid, processes;
  std::getline(lines, init_command);
  std::getline(lines, own_pid);
  std::getline(lines, processes);
  EXPECT_EQ(init_command, "sleep 1000 ");
  EXPECT_GT(std::stoi(own_pid), 1);
  EXPECT_LT(std::stoi(own_pid), 100) << "a pid from the host's namespace";
  // The init, sh, ls and grep: no host process is visible.
  EXPECT_LE(std::stoi(processes), 4) << result.out;
}

TEST_F(ExecTest, JoinsTheContainersCgroupAndItsLimits) {
  ASSERT_NO_FATAL_FAILURE(start("box", {"--pids-limit", "8"}));
  auto result = exec({"box", "sh", "-c", "cat /proc/1/cgroup; echo --; cat /proc/self/cgroup"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto split = result.out.find("--\n");
  ASSERT_NE(split, std::string::npos) << result.out;
  EXPECT_EQ(result.out.substr(split + 3), result.out.substr(0, split)) << "the exec'd process is in other cgroups";
  // The limit counts the init too: sleep and the probe are 2 of the 8.
  result = exec({"box", "mcore-probe", "forks", "50"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "forked 6\n");
}

// --- Security --------------------------------------------------------------------------------------------

TEST_F(ExecTest, RunsUnderTheContainersCapabilitiesSeccompAndNoNewPrivs) {
  ASSERT_NO_FATAL_FAILURE(start("box", {"--security-opt", "no-new-privileges"}));
  const std::string fields = "^(CapEff|CapBnd|Seccomp|NoNewPrivs):";
  auto init = exec({"box", "grep", "-E", fields, "/proc/1/status"});
  auto own = exec({"box", "grep", "-E", fields, "/proc/self/status"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  ASSERT_EQ(own.exit_code, 0) << own.err;
  EXPECT_EQ(own.out, init.out);
  EXPECT_EQ(lines_starting(own.out, "CapEff:"), std::string("CapEff:\t") + kDockerDefaultCapEff + "\n");
  EXPECT_EQ(lines_starting(own.out, "Seccomp:"), "Seccomp:\t2\n");
  EXPECT_EQ(lines_starting(own.out, "NoNewPrivs:"), "NoNewPrivs:\t1\n");
  // Docker's profile refuses keyctl(2).
  auto keyctl = exec({"box", "mcore-probe", "keyctl"});
  EXPECT_EQ(keyctl.exit_code, 0) << keyctl.out << keyctl.err;

  // --privileged: every capability, but still the container's filter.
  auto privileged = exec({"--privileged", "box", "grep", "-E", fields, "/proc/self/status"});
  ASSERT_EQ(privileged.exit_code, 0) << privileged.err;
  EXPECT_NE(lines_starting(privileged.out, "CapEff:"), lines_starting(own.out, "CapEff:"));
  EXPECT_EQ(lines_starting(privileged.out, "CapEff:"), lines_starting(privileged.out, "CapBnd:").replace(0, 6, "CapEff"));
  EXPECT_EQ(lines_starting(privileged.out, "Seccomp:"), "Seccomp:\t2\n");
}

// --- Environment, working directory, user ---------------------------------------------------------------

TEST_F(ExecTest, EnvironmentIsTheContainersWithEnvFileAndEnvOverrides) {
  ASSERT_NO_FATAL_FAILURE(start("box", {"--hostname", "h", "-e", "FROM_RUN=run", "-e", "KEPT=kept"}));
  TempDir dir("mcore-exec-env");
  std::ofstream(dir.path() / "env") << "# a comment\nFROM_RUN=file\nFROM_FILE=file\n";
  auto result = exec({"--env-file", (dir.path() / "env").string(), "-e", "FROM_FILE=flag", "-e", "ONLY_FLAG=1", "box",
                      "sh", "-c", "echo $FROM_RUN $FROM_FILE $ONLY_FLAG $KEPT $HOSTNAME $HOME; echo $PATH"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "file flag 1 kept h /root\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n");
}

TEST_F(ExecTest, WorkdirAndUserDefaultToTheContainersAndFlagsOverride) {
  ASSERT_NO_FATAL_FAILURE(start("box", {"-w", "/tmp", "-u", "nobody"}));
  auto defaults = exec({"box", "sh", "-c", "pwd; id -u; echo $HOME"});
  ASSERT_EQ(defaults.exit_code, 0) << defaults.err;
  EXPECT_EQ(defaults.out, "/tmp\n65534\n/\n");
  auto numeric = exec({"-w", "/etc", "-u", "1000:1001", "box", "sh", "-c", "pwd; id -u; id -g"});
  ASSERT_EQ(numeric.exit_code, 0) << numeric.err;
  EXPECT_EQ(numeric.out, "/etc\n1000\n1001\n");
  auto root = exec({"-u", "root", "box", "sh", "-c", "id -u; echo $HOME"});
  ASSERT_EQ(root.exit_code, 0) << root.err;
  EXPECT_EQ(root.out, "0\n/root\n");
  auto unknown = exec({"-u", "nosuchuser", "box", "true"});
  EXPECT_EQ(unknown.exit_code, 125);
  EXPECT_NE(unknown.err.find("unable to find user nosuchuser"), std::string::npos) << unknown.err;
}

TEST_F(ExecTest, StdinIsForwardedWithInteractiveOnly) {
  ASSERT_NO_FATAL_FAILURE(start("box"));
  auto with = exec({"-i", "box", "cat"}, "piped in\n");
  ASSERT_EQ(with.exit_code, 0) << with.err;
  EXPECT_EQ(with.out, "piped in\n");
  auto without = exec({"box", "cat"}, "piped in\n");
  ASSERT_EQ(without.exit_code, 0) << without.err;
  EXPECT_EQ(without.out, "");
}

// --- Exit codes and refusals ----------------------------------------------------------------------------

TEST_F(ExecTest, ExitCodesPassThroughDockerStyle) {
  ASSERT_NO_FATAL_FAILURE(start("box"));
  EXPECT_EQ(exec({"box", "sh", "-c", "exit 7"}).exit_code, 7);
  EXPECT_EQ(exec({"box", "sh", "-c", "kill -9 $$"}).exit_code, 137);
  auto missing = exec({"box", "no-such-command"});
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_NE(missing.err.find("executable file not found"), std::string::npos) << missing.err;
  auto not_executable = exec({"box", "/etc/passwd"});
  EXPECT_EQ(not_executable.exit_code, 126) << not_executable.err;
  // The container is unharmed by its exec'd commands.
  EXPECT_EQ(exec({"box", "true"}).exit_code, 0);
}

TEST_F(ExecTest, RefusesStoppedUnknownContainersAndMissingCommandWithOneLine) {
  auto ran = sandbox_->mcore({"run", "--name", "done", "--rootfs", shared_probe_rootfs().string(), "true"});
  ASSERT_EQ(ran.exit_code, 0) << ran.err;
  struct Case {
    std::vector<std::string> args;
    std::string expected;
  };
  for (const auto& c : std::vector<Case>{{{"done", "true"}, "container done is not running"},
                                         {{"nosuch", "true"}, "no such container: nosuch"},
                                         {{"done"}, "requires at least 2 arguments"}}) {
    auto result = exec(c.args);
    EXPECT_EQ(result.exit_code, 1) << c.expected << ": " << result.err;
    EXPECT_NE(result.err.find(c.expected), std::string::npos) << result.err;
    EXPECT_EQ(count_lines(result.err), 1u) << result.err;
    EXPECT_EQ(result.out, "");
  }
}

// --- Detach, signals, terminal --------------------------------------------------------------------------

TEST_F(ExecTest, DetachReturnsAtOnceAndLeavesTheCommandRunning) {
  ASSERT_NO_FATAL_FAILURE(start("box"));
  // Were the command to keep mcore's stdout, collecting the output would wait the 300 s.
  const auto before = std::chrono::steady_clock::now();
  auto detached = exec({"-d", "box", "sh", "-c", "echo not shown; exec sleep 300"});
  EXPECT_LT(std::chrono::steady_clock::now() - before, 30s);
  ASSERT_EQ(detached.exit_code, 0) << detached.err;
  EXPECT_EQ(detached.out, "");
  std::string processes;
  for (int attempt = 0; attempt < 50 && processes.find("sleep 300") == std::string::npos; ++attempt) {
    std::this_thread::sleep_for(100ms);
    processes = exec({"box", "ps"}).out;
  }
  EXPECT_NE(processes.find("sleep 300"), std::string::npos) << processes;
  auto missing = exec({"-d", "box", "no-such-command"});
  EXPECT_EQ(missing.exit_code, 127) << missing.err;
}

TEST_F(ExecTest, SignalsToMcoreAreForwardedToTheCommand) {
  ASSERT_NO_FATAL_FAILURE(start("box"));
  McoreOnTerminal mcore(sandbox_->mcore_argv(
      {"exec", "box", "sh", "-c", "trap 'echo got-term; exit 3' TERM; echo ready; while :; do sleep 0.1; done"}));
  ASSERT_NE(mcore.read_until("ready").find("ready"), std::string::npos);
  mcore.signal(SIGTERM);
  EXPECT_NE(mcore.read_until("got-term").find("got-term"), std::string::npos);
  EXPECT_EQ(mcore.wait(), 3);
}

TEST_F(ExecTest, TerminalIsARealPtyWithWindowSizeAndResize) {
  ASSERT_NO_FATAL_FAILURE(start("box"));
  McoreOnTerminal mcore(sandbox_->mcore_argv({"exec", "-it", "box", "sh"}));
  mcore.type("tty; stty size; echo $((6*7)) $TERM\r");
  std::string out = mcore.read_until("42 xterm");
  EXPECT_NE(out.find("/dev/pts/"), std::string::npos) << out;
  EXPECT_NE(out.find("40 100"), std::string::npos) << out;
  EXPECT_NE(out.find("42 xterm"), std::string::npos) << out;
  mcore.resize(50, 120);
  std::this_thread::sleep_for(300ms);
  mcore.type("stty size; exit 5\r");
  out = mcore.read_until("50 120");
  EXPECT_NE(out.find("50 120"), std::string::npos) << out;
  EXPECT_EQ(mcore.wait(), 5);
}

}  // namespace
}  // namespace mcore::test
