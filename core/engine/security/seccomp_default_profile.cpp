// Docker's default seccomp profile (moby profiles/seccomp/default.json as of Docker 26): the allow list
// without io_uring_* (removed in Docker 25) and with the kernel 6.5-6.7 calls Docker 26 added.
//
// Kept as C++ tables rather than an embedded JSON string: the compiler checks them, they read as
// compactly as the JSON does, and building the JSON value costs far less than parsing ~12 KB of text
// on every container start. The result is in Docker's format so it goes through the same compiler as a
// user's --security-opt seccomp=FILE and can be printed for users to start their own profile from.
#include <initializer_list>
#include <string_view>

#include "engine/security/seccomp_profile.hpp"

namespace mcore::engine {
namespace {

using nlohmann::json;

// Allowed for every container, whatever its capabilities.
constexpr std::string_view kAlwaysAllowed[] = {
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget",
    "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64",
    "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
    "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat", "dup",
    "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
    "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat",
    "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
    "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat",
    "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
    "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
    "ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv",
    "futex_wake", "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid",
    "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32",
    "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority",
    "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit",
    "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area",
    "gettid", "gettimeofday", "getuid", "getuid32", "getxattr", "inotify_add_watch",
    "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy",
    "io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get", "ioprio_set",
    "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
    "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen",
    "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64",
    "madvise", "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret", "mincore",
    "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2",
    "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
    "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap",
    "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
    "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2",
    "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free",
    "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2",
    "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev",
    "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom",
    "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename",
    "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
    "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
    "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr",
    "sched_getparam", "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
    "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
    "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl",
    "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64",
    "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid",
    "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority", "setregid",
    "setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid",
    "setreuid32", "setrlimit", "set_robust_list", "setsid", "setsockopt", "set_thread_area",
    "set_tid_address", "setuid", "setuid32", "setxattr", "shmat", "shmctl", "shmdt", "shmget",
    "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socketcall",
    "socketpair", "splice", "stat", "stat64", "statfs", "statfs64", "statx", "symlink",
    "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time",
    "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64",
    "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64",
    "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate", "truncate64",
    "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime", "utimensat",
    "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
    "writev",
};

// Allowed only when the container holds the capability that guards the call anyway.
struct CapabilityGated {
  std::string_view capability;
  std::initializer_list<std::string_view> names;
};
const CapabilityGated kCapabilityGated[] = {
    {"CAP_DAC_READ_SEARCH", {"open_by_handle_at"}},
    {"CAP_SYS_ADMIN",
     {"bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
      "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open",
      "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog", "umount",
      "umount2", "unshare"}},
    {"CAP_SYS_BOOT", {"reboot"}},
    {"CAP_SYS_CHROOT", {"chroot"}},
    {"CAP_SYS_MODULE", {"delete_module", "init_module", "finit_module"}},
    {"CAP_SYS_PACCT", {"acct"}},
    {"CAP_SYS_PTRACE",
     {"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"}},
    {"CAP_SYS_RAWIO", {"iopl", "ioperm"}},
    {"CAP_SYS_TIME", {"settimeofday", "stime", "clock_settime", "clock_settime64"}},
    {"CAP_SYS_TTY_CONFIG", {"vhangup"}},
    {"CAP_SYS_NICE", {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"}},
    {"CAP_SYSLOG", {"syslog"}},
    {"CAP_BPF", {"bpf"}},
    {"CAP_PERFMON", {"perf_event_open"}},
};

// Allowed only on these (Go-style) architectures.
struct ArchitectureGated {
  std::initializer_list<std::string_view> arches;
  std::initializer_list<std::string_view> names;
};
const ArchitectureGated kArchitectureGated[] = {
    {{"ppc64le"}, {"sync_file_range2", "swapcontext"}},
    {{"arm", "arm64"},
     {"arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush",
      "set_tls"}},
    {{"amd64", "x32"}, {"arch_prctl"}},
    {{"amd64", "x32", "x86"}, {"modify_ldt"}},
    {{"s390", "s390x"}, {"s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"}},
    {{"riscv64"}, {"riscv_flush_icache"}},
};

// personality(2) values a container may set: PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32,
// and 0xffffffff (query only).
constexpr std::uint64_t kAllowedPersonalities[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};

// CLONE_NEWNS|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNET:
// without CAP_SYS_ADMIN, clone(2) may not create namespaces.
constexpr std::uint64_t kNamespaceCloneFlags = 0x7E020000;

// AF_VSOCK: reaches the host (or hypervisor) past the network namespace.
constexpr std::uint64_t kAfVsock = 40;

constexpr int kEnosys = 38;

json names_of(std::initializer_list<std::string_view> names) {
  json array = json::array();
  for (auto name : names) array.push_back(name);
  return array;
}

json allow(std::initializer_list<std::string_view> names) {
  return {{"names", names_of(names)}, {"action", "SCMP_ACT_ALLOW"}};
}

json arg(unsigned index, std::uint64_t value, std::string_view op) {
  return {{"index", index}, {"value", value}, {"op", op}};
}

json architecture(std::string_view main, std::initializer_list<std::string_view> subs) {
  return {{"architecture", main}, {"subArchitectures", subs.size() ? names_of(subs) : json(nullptr)}};
}

}  // namespace

nlohmann::json default_seccomp_profile() {
  json syscalls = json::array();

  json always = json::array();
  for (auto name : kAlwaysAllowed) always.push_back(name);
  syscalls.push_back({{"names", std::move(always)}, {"action", "SCMP_ACT_ALLOW"}});

  // ptrace is safe without CAP_SYS_PTRACE since 4.8 closed the seccomp bypass through it.
  json ptrace = allow({"process_vm_readv", "process_vm_writev", "ptrace"});
  ptrace["includes"] = {{"minKernel", "4.8"}};
  syscalls.push_back(std::move(ptrace));

  json socket = allow({"socket"});
  socket["args"] = json::array({arg(0, kAfVsock, "SCMP_CMP_NE")});
  syscalls.push_back(std::move(socket));

  for (auto personality : kAllowedPersonalities) {
    json rule = allow({"personality"});
    rule["args"] = json::array({arg(0, personality, "SCMP_CMP_EQ")});
    syscalls.push_back(std::move(rule));
  }

  for (const auto& gated : kArchitectureGated) {
    json rule = allow(gated.names);
    rule["includes"] = {{"arches", names_of(gated.arches)}};
    syscalls.push_back(std::move(rule));
  }

  for (const auto& gated : kCapabilityGated) {
    json rule = allow(gated.names);
    rule["includes"] = {{"caps", names_of({gated.capability})}};
    syscalls.push_back(std::move(rule));
  }

  json clone = allow({"clone"});
  clone["args"] = json::array({arg(0, kNamespaceCloneFlags, "SCMP_CMP_MASKED_EQ")});
  clone["excludes"] = {{"caps", names_of({"CAP_SYS_ADMIN"})}, {"arches", names_of({"s390", "s390x"})}};
  syscalls.push_back(std::move(clone));

  // s390 passes clone's flags as the second argument.
  json clone_s390 = allow({"clone"});
  clone_s390["args"] = json::array({arg(1, kNamespaceCloneFlags, "SCMP_CMP_MASKED_EQ")});
  clone_s390["includes"] = {{"arches", names_of({"s390", "s390x"})}};
  clone_s390["excludes"] = {{"caps", names_of({"CAP_SYS_ADMIN"})}};
  syscalls.push_back(std::move(clone_s390));

  // clone3 passes its flags in memory seccomp cannot read; ENOSYS makes libc fall back to clone.
  syscalls.push_back({{"names", names_of({"clone3"})},
                      {"action", "SCMP_ACT_ERRNO"},
                      {"errnoRet", kEnosys},
                      {"excludes", {{"caps", names_of({"CAP_SYS_ADMIN"})}}}});

  return {
      {"defaultAction", "SCMP_ACT_ERRNO"},
      {"defaultErrnoRet", 1},
      {"archMap", json::array({
                      architecture("SCMP_ARCH_X86_64", {"SCMP_ARCH_X86", "SCMP_ARCH_X32"}),
                      architecture("SCMP_ARCH_AARCH64", {"SCMP_ARCH_ARM"}),
                      architecture("SCMP_ARCH_MIPS64", {"SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32"}),
                      architecture("SCMP_ARCH_MIPS64N32", {"SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64"}),
                      architecture("SCMP_ARCH_MIPSEL64", {"SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32"}),
                      architecture("SCMP_ARCH_MIPSEL64N32", {"SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64"}),
                      architecture("SCMP_ARCH_S390X", {"SCMP_ARCH_S390"}),
                      architecture("SCMP_ARCH_RISCV64", {}),
                  })},
      {"syscalls", std::move(syscalls)},
  };
}

}  // namespace mcore::engine
