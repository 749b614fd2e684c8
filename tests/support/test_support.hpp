#pragma once
// Shared by the tests: temporary directories, running commands and mcore against private roots, and a
// busybox root filesystem built from Debian's busybox-static.
#include <sys/ioctl.h>
#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mcore::test {

bool running_as_root();

// Skips the current test unless it runs as root (integration tests).
#define MCORE_REQUIRE_ROOT()                                          \
  do {                                                                 \
    if (!::mcore::test::running_as_root()) GTEST_SKIP() << "needs root"; \
  } while (0)

// A fresh directory under /var/tmp (disk, not tmpfs, so overlay upper dirs work), removed recursively
// on destruction; mounts below it are detached first.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "mcore-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code = -1;  // the exit status, or 128+N when killed by signal N
  std::string out;
  std::string err;
};

// A whole file's bytes ("" when it cannot be read): tests compare it with what they expect.
std::string read_text(const std::filesystem::path& path);
// The parent of process `pid` (0 when it is gone).
pid_t parent_pid(pid_t pid);
// Starts `argv` on a new pseudo-terminal of `size` (the default size when null): returns its pid (-1
// when forkpty failed) and the terminal's master side in `master`.
pid_t spawn_on_terminal(const std::vector<std::string>& argv, int& master, const winsize* size = nullptr);

// The message of the mcore::Error that `action` throws; a test failure and "" when it throws none.
std::string error_of(const std::function<void()>& action);

// `size` bytes gzip cannot shrink, every byte value (NULs too) included: blobs stay as big as asked, so
// downloads span many writes and can be cut or resumed mid-way, and an intact copy proves binary safety.
std::string incompressible_bytes(std::size_t size);

// Runs argv (no shell) with `input` on stdin; collects stdout and stderr. Extra environment variables
// are added to the test's own environment.
CommandResult run_command(const std::vector<std::string>& argv, const std::string& input = "",
                          const std::map<std::string, std::string>& extra_env = {});

// A range of subordinate ids appended to /etc/subuid and /etc/subgid (`line`, "NAME:START:COUNT") for
// as long as it lives; both files are put back as they were.
class SubordinateIds {
 public:
  explicit SubordinateIds(const std::string& line);
  ~SubordinateIds();
  SubordinateIds(const SubordinateIds&) = delete;
  SubordinateIds& operator=(const SubordinateIds&) = delete;

 private:
  std::string uid_text_;
  std::string gid_text_;
};

// Creates a minimal root filesystem at `dir`: /bin/busybox from busybox-static and a symlink per applet,
// /etc/passwd and /etc/group with root and nobody, empty /proc /sys /dev /tmp.
void make_busybox_rootfs(const std::filesystem::path& dir);

// The busybox rootfs built once per test process, shared read-only by all tests in it.
const std::filesystem::path& shared_busybox_rootfs();

// The same with mcore-probe in /bin (tests/support/probe.cpp), also built once and shared read-only.
const std::filesystem::path& shared_probe_rootfs();

// An mcore with its own data and state roots, a config file selecting the build tree's plugins, a
// cgroup parent beneath the test's own cgroup ("mcore-test-<random>"), and network state of its own: the
// default bridge "mct<random>", the nftables table "mcore_test_<random>", no default network for `run`
// (tests ask for one) and net.ipv4.ip_forward left alone. All of it is removed on destruction, with every
// container cgroup left below the parent and every network bridge the sandbox's networks made.
class McoreSandbox {
 public:
  explicit McoreSandbox(nlohmann::json extra_config = nlohmann::json::object());
  ~McoreSandbox();

  // Runs `mcore --config <file> args...`.
  CommandResult mcore(const std::vector<std::string>& args, const std::string& input = "") const;
  // argv for running mcore yourself (for PTY tests): {MCORE_BINARY, "--config", file, args...}.
  std::vector<std::string> mcore_argv(const std::vector<std::string>& args) const;

  const std::filesystem::path& config_file() const { return config_file_; }
  std::filesystem::path data_root() const;
  std::filesystem::path state_root() const;
  const std::string& cgroup_parent() const { return cgroup_parent_; }
  const std::string& bridge() const { return bridge_; }
  const std::string& firewall_table() const { return table_; }
  // The bridge links of every network the sandbox's mcore recorded (the default one and user ones).
  std::vector<std::string> network_bridges() const;
  // Rewrites the config file with `extra` merged over the sandbox's own keys.
  void write_config(const nlohmann::json& extra);

  // The processes of `program` (by argv[0]'s file name) running with this sandbox's config.
  std::vector<pid_t> processes_named(const std::string& program) const;
  // The supervisors of this sandbox's containers, whether in mcore-supervisor or in the
  // mcore-exit-handler it execs at each exit (one pid for the whole life of a container, restarts
  // included).
  std::vector<pid_t> supervisor_processes() const;

 private:
  TempDir dir_;
  std::string suffix_;
  std::string cgroup_parent_;
  std::string bridge_;
  std::string table_;
  std::filesystem::path config_file_;
};

// Where `relative_parent` (relative to this process's own cgroup) lives in every mounted hierarchy,
// whether it exists or not.
std::vector<std::filesystem::path> cgroup_parent_dirs(const std::string& relative_parent);

// Removes `relative_parent` (a path relative to this process's own cgroup) and everything below it in
// every mounted cgroup hierarchy, v1 and v2. Safe to call when nothing exists.
void remove_cgroup_tree(const std::string& relative_parent);

}  // namespace mcore::test
