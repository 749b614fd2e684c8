#include "engine/volume/volume_populate.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "engine/volume/volume_store.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {
namespace fs = std::filesystem;

namespace {

struct CopyJob {
  std::string name;
  std::string from;            // the container path, relative to the root
  std::filesystem::path into;  // the volume's _data
};

int open_in_root(int root, const std::string& relative) {
  open_how how{};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(::syscall(SYS_openat2, root, relative.c_str(), &how, sizeof how));
}

// Runs `cp -a <dir>/. <into>` for a directory open as `dir`; returns cp's exit status.
int copy_directory(int dir, const fs::path& into) {
  const pid_t pid = ::fork();
  if (pid < 0) return 125;
  if (pid == 0) {
    ::fcntl(dir, F_SETFD, 0);
    const std::string from = "/proc/self/fd/" + std::to_string(dir) + "/.";
    ::execl("/bin/cp", "cp", "-a", "--", from.c_str(), into.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

// In the forked child: a mount namespace of its own, the container's root mounted as the init mounts
// it, then one copy per job. Exits 0, or the first failing step's code (3: mounts, else cp's).
[[noreturn]] void copy_in_child(const RootfsPlan& rootfs, const std::vector<CopyJob>& jobs) {
  if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(3);
  for (const auto& mount : rootfs.mounts) {
    if (!mount.working_directory.empty() && ::chdir(mount.working_directory.c_str()) != 0) ::_exit(3);
    if (::mount(mount.source.c_str(), mount.target.c_str(), mount.fstype.empty() ? nullptr : mount.fstype.c_str(),
                mount.flags, mount.data.empty() ? nullptr : mount.data.c_str()) != 0) {
      ::_exit(3);
    }
  }
  const int root = ::open(rootfs.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) ::_exit(3);
  for (const auto& job : jobs) {
    const int dir = open_in_root(root, job.from);
    if (dir < 0) continue;  // nothing (or no directory) there in the image: nothing to copy
    if (int status = copy_directory(dir, job.into); status != 0) ::_exit(status);
    ::close(dir);
  }
  ::_exit(0);
}

bool is_empty_directory(const fs::path& dir) {
  std::error_code error;
  return fs::is_empty(dir, error) && !error;
}

}  // namespace

void populate_volumes(Engine& engine, const ContainerSpec& spec, const RootfsPlan& rootfs) {
  VolumeStore volumes(engine.config().data_root);
  std::vector<CopyJob> jobs;
  std::vector<std::string> fresh;
  for (const auto& mount : spec.volumes) {
    if (mount.volume.empty()) continue;
    auto volume = volumes.find(mount.volume);
    if (!volume || volume->populated) continue;
    fresh.push_back(volume->name);
    if (is_empty_directory(volume->mountpoint)) {
      jobs.push_back({volume->name, mount.container_path.substr(1), volume->mountpoint});
    }
  }
  if (!jobs.empty()) {
    const pid_t pid = ::fork();
    if (pid < 0) throw Error::from_errno("fork to fill new volumes from the image");
    if (pid == 0) copy_in_child(rootfs, jobs);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      throw Error("filling new volume(s) from the image failed (" +
                      std::string(code == 3 ? "the image's root could not be mounted" : "cp -a exited with " + std::to_string(code)) + ")",
                  0, "see the messages above; the volume stays empty and is filled at the next start");
    }
  }
  for (const auto& name : fresh) volumes.mark_populated(name);
}

}  // namespace mcore::engine
