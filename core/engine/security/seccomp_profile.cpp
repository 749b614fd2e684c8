#include "engine/security/seccomp_profile.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/seccomp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/security/seccomp_library.hpp"
#include "engine/util/file_util.hpp"
#include "engine/util/json_fields.hpp"
#include "mcore/unique_fd.hpp"
#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

using nlohmann::json;

constexpr const char* kFormatHint =
    "the profile uses Docker's format; see https://docs.docker.com/engine/security/seccomp/";

// --- The profile as parsed: every field checked before anything is compiled. ----------------------

struct KernelVersion {
  int major = 0;
  int minor = 0;
  auto operator<=>(const KernelVersion&) const = default;
};

struct ArgCondition {
  unsigned index = 0;
  std::uint64_t value = 0;
  std::uint64_t value_two = 0;
  scmp_compare op = SCMP_CMP_EQ;
};

// Docker's "includes"/"excludes": architectures (Go names), capabilities, minimum kernel.
struct Filter {
  std::vector<std::string> arches;
  std::vector<int> capabilities;
  std::optional<KernelVersion> min_kernel;
};

struct SyscallRule {
  std::string path;  // "syscalls[3]", for errors found while compiling
  std::vector<std::string> names;
  std::uint32_t action = SCMP_ACT_ALLOW;
  std::vector<ArgCondition> args;
  Filter includes;
  Filter excludes;
};

struct ArchEntry {
  std::uint32_t architecture = 0;
  std::vector<std::uint32_t> sub_architectures;
};

struct Profile {
  std::uint32_t default_action = SCMP_ACT_ALLOW;
  std::vector<std::uint32_t> architectures;
  std::vector<ArchEntry> arch_map;
  std::vector<SyscallRule> syscalls;
  unsigned int filter_flags = 0;  // SECCOMP_FILTER_FLAG_*, given to seccomp(2) with the program
};

const JsonFields kFields{kFormatHint};

std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

// `errno_path` names the errno member that goes with this action ("errnoRet" or "defaultErrnoRet").
std::uint32_t parse_action(const json& name_value, const std::string& path, const json* errno_value,
                           const std::string& errno_path) {
  const std::string& name = kFields.string(name_value, path);
  std::optional<std::uint64_t> errno_ret;
  if (errno_value) {
    errno_ret = kFields.unsigned_integer(*errno_value, errno_path);
    if (*errno_ret > 0xffff) kFields.fail(errno_path, "must be at most 65535");
  }
  const auto ret = static_cast<std::uint16_t>(errno_ret.value_or(EPERM));
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(ret);
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(ret);
  std::uint32_t action = 0;
  if (name == "SCMP_ACT_ALLOW") {
    action = SCMP_ACT_ALLOW;
  } else if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") {
    action = SCMP_ACT_KILL_THREAD;
  } else if (name == "SCMP_ACT_KILL_PROCESS") {
    action = SCMP_ACT_KILL_PROCESS;
  } else if (name == "SCMP_ACT_TRAP") {
    action = SCMP_ACT_TRAP;
  } else if (name == "SCMP_ACT_LOG") {
    action = SCMP_ACT_LOG;
  } else if (name == "SCMP_ACT_NOTIFY") {
    kFields.fail(path, "SCMP_ACT_NOTIFY needs a seccomp agent, which mcore does not support");
  } else {
    kFields.fail(path, "unknown action " + in_quotes(name) +
                   "; use SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, "
                   "SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_TRACE or SCMP_ACT_LOG");
  }
  if (errno_ret) kFields.fail(errno_path, "only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno value");
  return action;
}

scmp_compare parse_op(const json& value, const std::string& path) {
  static constexpr std::pair<std::string_view, scmp_compare> kOps[] = {
      {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
      {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
  };
  const std::string& name = kFields.string(value, path);
  for (const auto& [op_name, op] : kOps) {
    if (name == op_name) return op;
  }
  kFields.fail(path, "unknown operator " + in_quotes(name) +
                 "; use SCMP_CMP_EQ, SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_GT, "
                 "SCMP_CMP_GE or SCMP_CMP_MASKED_EQ");
}

std::uint32_t parse_architecture(const json& value, const std::string& path) {
  const std::string& name = kFields.string(value, path);
  // libseccomp spells "SCMP_ARCH_X86_64" as "x86_64".
  std::string short_name = name.starts_with("SCMP_ARCH_") ? name.substr(10) : std::string();
  std::transform(short_name.begin(), short_name.end(), short_name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::uint32_t token = short_name.empty() ? 0 : seccomp().arch_resolve_name(short_name.c_str());
  if (token == 0) kFields.fail(path, "unknown architecture " + in_quotes(name) + " (expected e.g. SCMP_ARCH_X86_64)");
  return token;
}

KernelVersion parse_kernel_version(std::string_view text, const std::string& path) {
  KernelVersion version;
  const char* end = text.data() + text.size();
  auto [dot, ec] = std::from_chars(text.data(), end, version.major);
  if (ec == std::errc() && dot != end && *dot == '.') {
    auto [rest, ec2] = std::from_chars(dot + 1, end, version.minor);
    if (ec2 == std::errc() && rest == end) return version;
  }
  kFields.fail(path, "invalid kernel version " + in_quotes(text) + " (expected MAJOR.MINOR, e.g. \"4.8\")");
}

Filter parse_filter(const json& value, const std::string& path) {
  Filter filter;
  kFields.object(value, path);
  if (const json* arches = json_member(value, "arches")) filter.arches = kFields.strings(*arches, json_key_path(path, "arches"));
  if (const json* caps = json_member(value, "caps")) {
    const std::string caps_path = json_key_path(path, "caps");
    const std::vector<std::string> names = kFields.strings(*caps, caps_path);
    for (std::size_t i = 0; i < names.size(); ++i) {
      try {
        filter.capabilities.push_back(capability_from_name(names[i]));
      } catch (const Error& error) {
        kFields.fail(json_index_path(caps_path, i), error.what());
      }
    }
  }
  if (const json* min_kernel = json_member(value, "minKernel")) {
    const std::string min_path = json_key_path(path, "minKernel");
    filter.min_kernel = parse_kernel_version(kFields.string(*min_kernel, min_path), min_path);
  }
  return filter;
}

ArgCondition parse_arg(const json& value, const std::string& path) {
  kFields.object(value, path);
  ArgCondition arg;
  const json* index = json_member(value, "index");
  if (!index) kFields.fail(path, "needs \"index\"");
  const std::uint64_t raw_index = kFields.unsigned_integer(*index, json_key_path(path, "index"));
  if (raw_index > 5) kFields.fail(json_key_path(path, "index"), "must be 0 to 5 (a system call has six arguments)");
  arg.index = static_cast<unsigned>(raw_index);
  const json* arg_value = json_member(value, "value");
  if (!arg_value) kFields.fail(path, "needs \"value\"");
  arg.value = kFields.unsigned_integer(*arg_value, json_key_path(path, "value"));
  if (const json* two = json_member(value, "valueTwo")) arg.value_two = kFields.unsigned_integer(*two, json_key_path(path, "valueTwo"));
  const json* op = json_member(value, "op");
  if (!op) kFields.fail(path, "needs \"op\"");
  arg.op = parse_op(*op, json_key_path(path, "op"));
  return arg;
}

SyscallRule parse_syscall(const json& value, const std::string& path) {
  kFields.object(value, path);
  SyscallRule rule;
  rule.path = path;
  const json* names = json_member(value, "names");
  const json* name = json_member(value, "name");
  if (names && name) kFields.fail(path, "use either \"name\" or \"names\", not both");
  if (names) rule.names = kFields.strings(*names, json_key_path(path, "names"));
  if (name) rule.names.push_back(kFields.string(*name, json_key_path(path, "name")));
  if (rule.names.empty()) kFields.fail(path, "needs \"names\": the system calls the rule applies to");

  const json* action = json_member(value, "action");
  if (!action) kFields.fail(path, "needs \"action\"");
  rule.action = parse_action(*action, json_key_path(path, "action"), json_member(value, "errnoRet"),
                             json_key_path(path, "errnoRet"));

  if (const json* args = json_member(value, "args")) {
    const std::string args_path = json_key_path(path, "args");
    for (std::size_t i = 0; i < kFields.array(*args, args_path).size(); ++i) {
      rule.args.push_back(parse_arg((*args)[i], json_index_path(args_path, i)));
    }
  }
  if (const json* includes = json_member(value, "includes")) rule.includes = parse_filter(*includes, json_key_path(path, "includes"));
  if (const json* excludes = json_member(value, "excludes")) rule.excludes = parse_filter(*excludes, json_key_path(path, "excludes"));
  return rule;
}

// The flags seccomp(2) takes with a filter. WAIT_KILLABLE_RECV only means something with a listener,
// which needs a seccomp agent (listenerPath) that mcore does not support.
unsigned int parse_filter_flag(const json& value, const std::string& path) {
  static constexpr std::pair<std::string_view, unsigned int> kFlags[] = {
      {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
      {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
      {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
  };
  const std::string name = kFields.string(value, path);
  for (const auto& [known, flag] : kFlags) {
    if (name == known) return flag;
  }
  if (name == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") {
    kFields.fail(path, "needs a seccomp agent (listenerPath), which mcore does not support; remove the flag");
  }
  kFields.fail(
      path, "unknown flag " + in_quotes(name) +
                "; use SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_FILTER_FLAG_LOG or SECCOMP_FILTER_FLAG_SPEC_ALLOW");
}

Profile parse_profile(const json& value) {
  if (!value.is_object()) kFields.fail("profile", "expected a JSON object with \"defaultAction\" and \"syscalls\"");
  Profile profile;
  const json* default_action = json_member(value, "defaultAction");
  if (!default_action) kFields.fail("defaultAction", "missing; e.g. \"SCMP_ACT_ERRNO\"");
  profile.default_action =
      parse_action(*default_action, "defaultAction", json_member(value, "defaultErrnoRet"), "defaultErrnoRet");

  if (const json* arches = json_member(value, "architectures")) {
    for (std::size_t i = 0; i < kFields.array(*arches, "architectures").size(); ++i) {
      profile.architectures.push_back(parse_architecture((*arches)[i], json_index_path("architectures", i)));
    }
  }
  if (const json* arch_map = json_member(value, "archMap")) {
    for (std::size_t i = 0; i < kFields.array(*arch_map, "archMap").size(); ++i) {
      const std::string path = json_index_path("archMap", i);
      const json& entry = kFields.object((*arch_map)[i], path);
      const json* main = json_member(entry, "architecture");
      if (!main) kFields.fail(path, "needs \"architecture\"");
      ArchEntry parsed{parse_architecture(*main, json_key_path(path, "architecture")), {}};
      if (const json* subs = json_member(entry, "subArchitectures")) {
        const std::string subs_path = json_key_path(path, "subArchitectures");
        for (std::size_t j = 0; j < kFields.array(*subs, subs_path).size(); ++j) {
          parsed.sub_architectures.push_back(parse_architecture((*subs)[j], json_index_path(subs_path, j)));
        }
      }
      profile.arch_map.push_back(std::move(parsed));
    }
  }
  if (!profile.architectures.empty() && !profile.arch_map.empty()) {
    kFields.fail("archMap", "use either \"architectures\" or \"archMap\", not both");
  }

  if (const json* flags = json_member(value, "flags")) {
    for (std::size_t i = 0; i < kFields.array(*flags, "flags").size(); ++i) {
      profile.filter_flags |= parse_filter_flag((*flags)[i], json_index_path("flags", i));
    }
  }
  // No seccomp agent: nothing to hand a listener's fd to.
  if (const json* listener = json_member(value, "listenerPath");
      listener && !kFields.string(*listener, "listenerPath").empty()) {
    kFields.fail("listenerPath", "seccomp agents are not supported by mcore; remove it");
  }

  if (const json* syscalls = json_member(value, "syscalls")) {
    for (std::size_t i = 0; i < kFields.array(*syscalls, "syscalls").size(); ++i) {
      profile.syscalls.push_back(parse_syscall((*syscalls)[i], json_index_path("syscalls", i)));
    }
  }
  return profile;
}

// --- Selecting the rules that apply here, as Docker does. ------------------------------------------

// Docker compares includes/excludes arches with Go's GOARCH.
std::string native_go_arch() {
  switch (seccomp().arch_native()) {
    case SCMP_ARCH_X86_64: return "amd64";
    case SCMP_ARCH_X86: return "386";
    case SCMP_ARCH_X32: return "x32";
    case SCMP_ARCH_AARCH64: return "arm64";
    case SCMP_ARCH_ARM: return "arm";
    case SCMP_ARCH_PPC64LE: return "ppc64le";
    case SCMP_ARCH_S390X: return "s390x";
    case SCMP_ARCH_S390: return "s390";
    case SCMP_ARCH_RISCV64: return "riscv64";
    default: return "unknown";
  }
}

KernelVersion running_kernel() {
  utsname name{};
  if (uname(&name) != 0) throw Error::from_errno("uname");
  KernelVersion version;
  const char* end = name.release + std::char_traits<char>::length(name.release);
  auto [dot, ec] = std::from_chars(name.release, end, version.major);
  if (ec == std::errc() && dot != end && *dot == '.') std::from_chars(dot + 1, end, version.minor);
  return version;
}

class RuleSelector {
 public:
  explicit RuleSelector(CapabilitySet capabilities)
      : capabilities_(capabilities), arch_(native_go_arch()) {}

  bool applies(const SyscallRule& rule) {
    const Filter& ex = rule.excludes;
    if (contains(ex.arches, arch_)) return false;
    if (std::any_of(ex.capabilities.begin(), ex.capabilities.end(), [&](int c) { return has(c); })) {
      return false;
    }
    if (ex.min_kernel && kernel() >= *ex.min_kernel) return false;

    const Filter& in = rule.includes;
    if (!in.arches.empty() && !contains(in.arches, arch_)) return false;
    if (!std::all_of(in.capabilities.begin(), in.capabilities.end(), [&](int c) { return has(c); })) {
      return false;
    }
    if (in.min_kernel && kernel() < *in.min_kernel) return false;
    return true;
  }

 private:
  static bool contains(const std::vector<std::string>& list, const std::string& item) {
    return std::find(list.begin(), list.end(), item) != list.end();
  }
  bool has(int capability) const { return capability < 64 && (capabilities_ >> capability) & 1; }
  // uname only when a rule asks for a kernel version.
  KernelVersion kernel() {
    if (!kernel_) kernel_ = running_kernel();
    return *kernel_;
  }

  CapabilitySet capabilities_;
  std::string arch_;
  std::optional<KernelVersion> kernel_;
};

// --- Compiling with libseccomp. ---------------------------------------------------------------------

struct FilterContextDeleter {
  void operator()(void* context) const { seccomp().release(context); }
};
using FilterContext = std::unique_ptr<void, FilterContextDeleter>;

void check(int rc, const std::string& what) {
  if (rc < 0) throw Error(what, -rc);
}

void add_architecture(void* context, std::uint32_t token) {
  const int rc = seccomp().arch_add(context, token);
  if (rc != -EEXIST) check(rc, "add an architecture to the seccomp filter");
}

void add_architectures(void* context, const Profile& profile) {
  for (std::uint32_t token : profile.architectures) add_architecture(context, token);
  // From archMap only the native architecture's entry counts: amd64 brings x86 and x32 along.
  const std::uint32_t native = seccomp().arch_native();
  for (const ArchEntry& entry : profile.arch_map) {
    if (entry.architecture != native) continue;
    add_architecture(context, entry.architecture);
    for (std::uint32_t sub : entry.sub_architectures) add_architecture(context, sub);
  }
}

void add_rule(void* context, const SyscallRule& rule, std::size_t name_index, int syscall_number) {
  std::vector<scmp_arg_cmp> conditions;
  std::array<int, 6> per_index{};
  for (const ArgCondition& arg : rule.args) {
    conditions.push_back(scmp_arg_cmp{arg.index, arg.op, arg.value, arg.value_two});
    ++per_index[arg.index];
  }
  const std::string what = "add " + in_quotes(rule.names[name_index]) + " to the seccomp filter (" +
                           rule.path + ".names[" + std::to_string(name_index) + "])";
  // As runc does: a filter cannot test one argument twice in a rule, so such conditions become
  // separate rules (any of them matching applies the action).
  if (std::any_of(per_index.begin(), per_index.end(), [](int n) { return n > 1; })) {
    for (const scmp_arg_cmp& condition : conditions) {
      check(seccomp().rule_add_array(context, rule.action, syscall_number, 1, &condition), what);
    }
  } else {
    check(seccomp().rule_add_array(context, rule.action, syscall_number,
                                 static_cast<unsigned>(conditions.size()), conditions.data()),
          what);
  }
}

std::vector<sock_filter> export_bpf(void* context) {
  // libseccomp 2.5 exports only to a file descriptor.
  UniqueFd memory(memfd_create("mcore-seccomp-bpf", MFD_CLOEXEC));
  if (!memory) throw Error::from_errno("create a memfd for the seccomp program");
  check(seccomp().export_bpf(context, memory.get()), "export the seccomp program");
  struct stat info {};
  if (fstat(memory.get(), &info) != 0) throw Error::from_errno("stat the seccomp program");
  const auto size = static_cast<std::size_t>(info.st_size);
  if (size % sizeof(sock_filter) != 0) {
    throw Error("libseccomp exported a program of " + std::to_string(size) +
                " bytes, not a whole number of instructions");
  }
  std::vector<sock_filter> instructions(size / sizeof(sock_filter));
  auto* bytes = reinterpret_cast<char*>(instructions.data());
  for (std::size_t done = 0; done < size;) {
    const ssize_t n = pread(memory.get(), bytes + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error::from_errno("read the seccomp program back");
    if (n == 0) throw Error("read the seccomp program back: file ended early");
    done += static_cast<std::size_t>(n);
  }
  if (instructions.size() > BPF_MAXINSNS) {
    throw Error("the seccomp profile compiles to " + std::to_string(instructions.size()) +
                    " instructions, more than the kernel's limit of " + std::to_string(BPF_MAXINSNS),
                0, "allow fewer system calls by argument, or use fewer architectures");
  }
  return instructions;
}

SeccompProgram compile(const Profile& profile, CapabilitySet capabilities) {
  FilterContext context(seccomp().init(profile.default_action));
  if (!context) throw Error("create a seccomp filter", ENOMEM);
  // The engine sets no_new_privs itself, and only where asked.
  check(seccomp().attr_set(context.get(), SCMP_FLTATR_CTL_NNP, 0), "configure the seccomp filter");
  // A binary search over the call numbers instead of a list: the kernel emulates the filter for every
  // call number when it is attached (to cache the always-allowed ones), and every call the container
  // makes walks it.
  check(seccomp().attr_set(context.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2), "configure the seccomp filter");
  add_architectures(context.get(), profile);

  RuleSelector selector(capabilities);
  for (const SyscallRule& rule : profile.syscalls) {
    // libseccomp refuses rules whose action is the default one; they change nothing anyway.
    if (rule.action == profile.default_action || !selector.applies(rule)) continue;
    for (std::size_t i = 0; i < rule.names.size(); ++i) {
      // A name this libseccomp does not know is a call too new for it: skipped, as Docker does.
      const int number = seccomp().syscall_resolve_name(rule.names[i].c_str());
      if (number == __NR_SCMP_ERROR) continue;
      add_rule(context.get(), rule, i, number);
    }
  }
  return SeccompProgram{export_bpf(context.get()), profile.filter_flags};
}

}  // namespace

SeccompProgram compile_seccomp_profile(const nlohmann::json& profile, CapabilitySet capabilities) {
  return compile(parse_profile(profile), capabilities);
}

SeccompProgram compile_default_seccomp(CapabilitySet capabilities) {
  try {
    return compile_seccomp_profile(default_seccomp_profile(), capabilities);
  } catch (Error& error) {
    error.add_context("compile the default seccomp profile");
    throw;
  }
}

SeccompProgram compile_seccomp_file(const std::filesystem::path& file, CapabilitySet capabilities) {
  const std::string context = "seccomp profile " + file.string();
  std::string text;
  try {
    text = read_file(file);
  } catch (Error& error) {
    error.add_context(context);
    throw;
  }
  json profile;
  try {
    profile = json::parse(text);
  } catch (const json::parse_error& error) {
    throw Error(context + ": not valid JSON: " + error.what(), 0, kFormatHint);
  }
  try {
    return compile_seccomp_profile(profile, capabilities);
  } catch (Error& error) {
    error.add_context(context);
    throw;
  }
}

}  // namespace mcore::engine
