// mcore-probe: a static helper the integration tests copy into container root filesystems to exercise
// what busybox cannot: keyctl, large allocations, fork loops. Prints one line; exit code 0 on success.
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <linux/keyctl.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const char* command = argv[1];
  if (std::strcmp(command, "keyctl") == 0) {
    long rc = ::syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 1);
    std::printf("keyctl: %s\n", rc < 0 ? std::strerror(errno) : "allowed");
    return rc < 0 && errno == EPERM ? 0 : 1;
  }
  if (std::strcmp(command, "alloc") == 0 && argc == 3) {
    // Touch every page so the memory is really charged.
    long megabytes = std::atol(argv[2]);
    for (long i = 0; i < megabytes; ++i) {
      auto* block = static_cast<char*>(std::malloc(1 << 20));
      if (block == nullptr) return 3;
      std::memset(block, 1, 1 << 20);
    }
    std::printf("allocated %ld MiB\n", megabytes);
    return 0;
  }
  if (std::strcmp(command, "forks") == 0 && argc == 3) {
    // Forks children that sleep; reports how many forks succeeded before the first failure.
    long wanted = std::atol(argv[2]), made = 0;
    for (; made < wanted; ++made) {
      pid_t pid = ::fork();
      if (pid < 0) break;
      if (pid == 0) {
        ::sleep(2);
        ::_exit(0);
      }
    }
    std::printf("forked %ld\n", made);
    return 0;
  }
  return 2;
}
