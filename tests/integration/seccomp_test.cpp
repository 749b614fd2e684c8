// The compiled profiles and the capability calls against the real kernel. Each case runs in a forked
// child, since a seccomp filter and dropped capabilities can never be undone; the child writes what
// went wrong to a pipe and the parent asserts on it.
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "engine/security/capabilities.hpp"
#include "engine/security/seccomp_profile.hpp"
#include "test_support.hpp"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

namespace mcore::engine {
namespace {

CapabilitySet bit(int capability) { return CapabilitySet{1} << capability; }

// Collects failed expectations inside the child.
class ChildReport {
 public:
  // Expects the call to have failed with `expected_errno` (or succeeded when it is 0).
  void expect_errno(const char* what, long result, int expected_errno) {
    const int seen = result < 0 ? errno : 0;
    if (seen != expected_errno) {
      out_ << what << ": expected " << describe(expected_errno) << ", saw " << describe(seen) << "\n";
    }
  }
  void expect(const char* what, bool ok) {
    if (!ok) out_ << what << "\n";
  }
  std::string text() const { return out_.str(); }

 private:
  static std::string describe(int error) {
    return error == 0 ? std::string("success") : std::string(strerrordesc_np(error)) + " (" + std::to_string(error) + ")";
  }
  std::ostringstream out_;
};

// Runs `body` in a forked child; returns what it reported ("" when all went well).
std::string run_in_child(const std::function<void(ChildReport&)>& body) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return "pipe failed";
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    ChildReport report;
    body(report);
    const std::string text = report.text();
    // write(2) is in every profile under test; a partial report still shows up as a failure.
    (void)!write(fds[1], text.data(), text.size());
    _exit(text.empty() ? 0 : 1);
  }
  close(fds[1]);
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) text += "child killed by signal " + std::to_string(WTERMSIG(status));
  else if (WEXITSTATUS(status) != 0 && text.empty()) text = "child exited " + std::to_string(WEXITSTATUS(status));
  return text;
}

void install_with_no_new_privs(ChildReport& report, const SeccompProgram& program) {
  report.expect_errno("prctl(PR_SET_NO_NEW_PRIVS)", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
  errno = install_seccomp(program);
  report.expect_errno("install_seccomp", errno == 0 ? 0 : -1, 0);
}

// The calls every container needs, which the profile must leave alone.
void expect_everyday_calls_work(ChildReport& report) {
  report.expect("getpid() matches the raw system call", getpid() == syscall(SYS_getpid));
  const int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
  report.expect_errno("open /dev/null", null, 0);
  report.expect_errno("write /dev/null", write(null, "x", 1), 0);
  report.expect_errno("raw open(2) of /dev/null", syscall(SYS_open, "/dev/null", O_RDONLY | O_CLOEXEC), 0);
  report.expect_errno("socket(AF_UNIX)", socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), 0);
  report.expect_errno("personality query", personality(0xffffffff), 0);
  // fork is clone(2) without namespace flags, which the masked rule allows.
  const pid_t child = fork();
  if (child == 0) _exit(0);
  report.expect_errno("fork", child, 0);
  if (child > 0) waitpid(child, nullptr, 0);
  // chroot is allowed with CAP_SYS_CHROOT (in the default set): the kernel answers, not the filter.
  report.expect_errno("chroot into a missing directory", chroot("/nonexistent-mcore-test"), ENOENT);
}

TEST(SeccompDefaultProfile, DeniesWhatDockerDeniesForTheDefaultCapabilities) {
  const SeccompProgram program = compile_default_seccomp(default_capabilities());
  const std::string failures = run_in_child([&](ChildReport& report) {
    install_with_no_new_privs(report, program);
    report.expect_errno("keyctl(KEYCTL_GET_KEYRING_ID)",
                        syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0), EPERM);
    report.expect_errno("add_key", syscall(SYS_add_key, "mcore-no-such-type", "mcore", "x", 1, KEY_SPEC_SESSION_KEYRING), EPERM);
    report.expect_errno("request_key", syscall(SYS_request_key, "mcore-no-such-type", "mcore", nullptr, 0), EPERM);
    // Unfiltered, these would fail with ENOENT (missing target) and EINVAL (flags 0 is a no-op that
    // needs no privilege; clone3 with size 0): EPERM/ENOSYS can only come from the filter.
    report.expect_errno("mount", mount("none", "/nonexistent-mcore-test", nullptr, MS_BIND, nullptr), EPERM);
    report.expect_errno("umount2", umount2("/nonexistent-mcore-test", 0), EPERM);
    report.expect_errno("unshare(0)", unshare(0), EPERM);
    report.expect_errno("unshare(CLONE_NEWNS)", unshare(CLONE_NEWNS), EPERM);
    report.expect_errno("setns", setns(0, 0), EPERM);
    report.expect_errno("clone3", syscall(SYS_clone3, nullptr, 0), ENOSYS);
    // CLONE_THREAD without CLONE_SIGHAND is EINVAL if it ever reaches the kernel: no child either way.
    report.expect_errno("clone(CLONE_NEWUTS)", syscall(SYS_clone, CLONE_NEWUTS | CLONE_THREAD, 0, 0, 0, 0), EPERM);
    report.expect_errno("socket(AF_VSOCK)", socket(AF_VSOCK, SOCK_STREAM, 0), EPERM);
    report.expect_errno("personality(PER_BSD)", personality(0x0006), EPERM);
    report.expect_errno("reboot", syscall(SYS_reboot, 0, 0, 0, nullptr), EPERM);
    report.expect_errno("io_uring_setup", syscall(SYS_io_uring_setup, 0, nullptr), EPERM);
    expect_everyday_calls_work(report);
  });
  EXPECT_EQ(failures, "");
}

TEST(SeccompDefaultProfile, AllowsNamespaceCallsWithCapSysAdmin) {
  const SeccompProgram program = compile_default_seccomp(default_capabilities() | bit(CAP_SYS_ADMIN));
  const bool root = test::running_as_root();
  const std::string failures = run_in_child([&](ChildReport& report) {
    install_with_no_new_privs(report, program);
    report.expect_errno("unshare(0)", unshare(0), 0);
    report.expect_errno("clone3 reaches the kernel", syscall(SYS_clone3, nullptr, 0), EINVAL);
    report.expect_errno("clone(CLONE_NEWUTS) reaches the kernel",
                        syscall(SYS_clone, CLONE_NEWUTS | CLONE_THREAD, 0, 0, 0, 0), EINVAL);
    if (root) {
      report.expect_errno("unshare(CLONE_NEWNS)", unshare(CLONE_NEWNS), 0);
      report.expect_errno("mount reaches the kernel",
                          mount("none", "/nonexistent-mcore-test", nullptr, MS_BIND, nullptr), ENOENT);
    }
    report.expect_errno("keyctl stays denied",
                        syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0), EPERM);
    expect_everyday_calls_work(report);
  });
  EXPECT_EQ(failures, "");
}

TEST(SeccompInstall, EmptyProgramInstallsNothing) {
  const std::string failures = run_in_child([](ChildReport& report) {
    report.expect_errno("install_seccomp(empty)", install_seccomp(SeccompProgram{}) == 0 ? 0 : -1, 0);
    std::ifstream status("/proc/self/status");
    std::string line;
    bool filtered = false;
    while (std::getline(status, line)) filtered |= line == "Seccomp:\t2";
    report.expect("no filter after installing an empty program", !filtered);
  });
  EXPECT_EQ(failures, "");
}

// Returns the hexadecimal mask of a "CapXxx:" line of /proc/self/status.
std::uint64_t status_mask(const std::string& key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with(key + ":")) return std::stoull(line.substr(key.size() + 1), nullptr, 16);
  }
  return ~std::uint64_t{0};
}

void expect_capabilities(ChildReport& report, CapabilitySet expected) {
  for (const char* key : {"CapEff", "CapPrm", "CapBnd"}) {
    const std::uint64_t seen = status_mask(key);
    if (seen != expected) {
      std::ostringstream text;
      text << key << ": expected " << std::hex << expected << ", saw " << seen;
      report.expect(text.str().c_str(), false);
    }
  }
  report.expect("CapInh is empty", status_mask("CapInh") == 0);
  report.expect("CapAmb is empty", status_mask("CapAmb") == 0);
}

TEST(Capabilities, DropToTheDefaultSet) {
  MCORE_REQUIRE_ROOT();
  const std::string failures = run_in_child([](ChildReport& report) {
    errno = drop_bounding_set(default_capabilities());
    report.expect_errno("drop_bounding_set", errno == 0 ? 0 : -1, 0);
    errno = set_process_capabilities(default_capabilities());
    report.expect_errno("set_process_capabilities", errno == 0 ? 0 : -1, 0);
    expect_capabilities(report, default_capabilities());
    // A second drop must not fail for want of capabilities already gone.
    errno = drop_bounding_set(default_capabilities());
    report.expect_errno("drop_bounding_set again", errno == 0 ? 0 : -1, 0);
  });
  EXPECT_EQ(failures, "");
}

// The container init's order without no_new_privs: the filter goes in while CAP_SYS_ADMIN is still
// held, then the capability calls must pass through it.
TEST(Capabilities, DropUnderTheDefaultProfileWithoutNoNewPrivs) {
  MCORE_REQUIRE_ROOT();
  const SeccompProgram program = compile_default_seccomp(default_capabilities());
  const std::string failures = run_in_child([&](ChildReport& report) {
    errno = drop_bounding_set(default_capabilities());
    report.expect_errno("drop_bounding_set", errno == 0 ? 0 : -1, 0);
    errno = install_seccomp(program);
    report.expect_errno("install_seccomp without no_new_privs", errno == 0 ? 0 : -1, 0);
    errno = set_process_capabilities(default_capabilities());
    report.expect_errno("set_process_capabilities under the filter", errno == 0 ? 0 : -1, 0);
    expect_capabilities(report, default_capabilities());
    report.expect_errno("mount", mount("none", "/nonexistent-mcore-test", nullptr, MS_BIND, nullptr), EPERM);
  });
  EXPECT_EQ(failures, "");
}

}  // namespace
}  // namespace mcore::engine
