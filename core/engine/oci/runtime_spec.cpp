#include "engine/oci/runtime_spec.hpp"

#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>

#include "engine/util/json_fields.hpp"
#include "mcore/error.hpp"
#include "mcore/fd_io.hpp"

namespace mcore::engine {

using nlohmann::json;
namespace fs = std::filesystem;

bool RuntimeSpec::has_namespace(OciNamespace type) const {
  for (const auto& entry : namespaces) {
    if (entry.type == type) return true;
  }
  return false;
}

namespace {

const JsonFields kFields{"see the OCI runtime specification (config.md, config-linux.md); docs/oci-runtime.md lists "
                         "what mcore-oci honours"};

// Runc's mount option words (libcontainer/specconv): flags set, flags cleared.
struct MountFlagWord {
  std::string_view word;
  bool clear;
  unsigned long flag;
};
constexpr std::array kMountFlagWords = {
    MountFlagWord{"defaults", false, 0},        MountFlagWord{"ro", false, MS_RDONLY},
    MountFlagWord{"rw", true, MS_RDONLY},       MountFlagWord{"suid", true, MS_NOSUID},
    MountFlagWord{"nosuid", false, MS_NOSUID},  MountFlagWord{"dev", true, MS_NODEV},
    MountFlagWord{"nodev", false, MS_NODEV},    MountFlagWord{"exec", true, MS_NOEXEC},
    MountFlagWord{"noexec", false, MS_NOEXEC},  MountFlagWord{"sync", false, MS_SYNCHRONOUS},
    MountFlagWord{"async", true, MS_SYNCHRONOUS}, MountFlagWord{"dirsync", false, MS_DIRSYNC},
    MountFlagWord{"mand", false, MS_MANDLOCK},  MountFlagWord{"nomand", true, MS_MANDLOCK},
    MountFlagWord{"atime", true, MS_NOATIME},   MountFlagWord{"noatime", false, MS_NOATIME},
    MountFlagWord{"diratime", true, MS_NODIRATIME}, MountFlagWord{"nodiratime", false, MS_NODIRATIME},
    MountFlagWord{"relatime", false, MS_RELATIME}, MountFlagWord{"norelatime", true, MS_RELATIME},
    MountFlagWord{"strictatime", false, MS_STRICTATIME}, MountFlagWord{"nostrictatime", true, MS_STRICTATIME},
    MountFlagWord{"bind", false, MS_BIND},      MountFlagWord{"rbind", false, MS_BIND | MS_REC},
};

constexpr std::array<std::pair<std::string_view, unsigned long>, 8> kPropagationWords = {{
    {"private", MS_PRIVATE},
    {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},
    {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},
    {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE},
    {"runbindable", MS_UNBINDABLE | MS_REC},
}};

constexpr std::array<std::pair<std::string_view, int>, 16> kRlimits = {{
    {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},       {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},       {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},   {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},   {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
}};

constexpr std::array<std::pair<std::string_view, OciNamespace>, 7> kNamespaces = {{
    {"pid", OciNamespace::pid},
    {"network", OciNamespace::network},
    {"mount", OciNamespace::mount},
    {"ipc", OciNamespace::ipc},
    {"uts", OciNamespace::uts},
    {"user", OciNamespace::user},
    {"cgroup", OciNamespace::cgroup},
}};

// Members this parser reads; any other member of these objects is refused, so that nothing a client
// asked for is silently dropped. Vendor fields belong in annotations.
void check_members(const json& object, const std::string& path, std::initializer_list<std::string_view> known,
                   std::initializer_list<std::string_view> refused = {}, std::string_view refused_reason = {}) {
  for (const auto& [key, value] : object.items()) {
    if (value.is_null()) continue;
    bool found = false;
    for (auto name : known) found = found || name == key;
    if (found) continue;
    for (auto name : refused) {
      if (name == key) kFields.fail(json_key_path(path, key), std::string(refused_reason));
    }
    kFields.fail(json_key_path(path, key), "is not supported by mcore-oci");
  }
}

IdMap parse_id_mappings(const json& value, const std::string& path) {
  IdMap map;
  for (std::size_t i = 0; i < kFields.array(value, path).size(); ++i) {
    const std::string entry_path = json_index_path(path, i);
    const json& entry = kFields.object(value[i], entry_path);
    check_members(entry, entry_path, {"containerID", "hostID", "size"});
    std::uint64_t numbers[3] = {};
    const char* names[3] = {"containerID", "hostID", "size"};
    for (int k = 0; k < 3; ++k) {
      const json* member = json_member(entry, names[k]);
      if (!member) kFields.fail(entry_path, std::string("needs \"") + names[k] + "\"");
      numbers[k] = kFields.unsigned_integer(*member, json_key_path(entry_path, names[k]));
    }
    constexpr std::uint64_t kIds = std::uint64_t{1} << 32;
    if (numbers[2] == 0 || numbers[0] + numbers[2] > kIds || numbers[1] + numbers[2] > kIds) {
      kFields.fail(entry_path, "size must be at least 1 and the range must stay below 2^32");
    }
    map.push_back({static_cast<std::uint32_t>(numbers[0]), static_cast<std::uint32_t>(numbers[1]),
                   static_cast<std::uint32_t>(numbers[2])});
  }
  try {
    check_id_map(map, "the mappings");
  } catch (const Error& error) {
    kFields.fail(path, error.what() + std::string(" (") + error.hint() + ")");
  }
  return map;
}

OciMount parse_mount(const json& value, const std::string& path, const fs::path& bundle) {
  kFields.object(value, path);
  check_members(value, path, {"destination", "type", "source", "options", "uidMappings", "gidMappings"});
  OciMount mount;
  for (const auto& [name, map] :
       {std::pair{"uidMappings", &mount.uid_map}, std::pair{"gidMappings", &mount.gid_map}}) {
    if (const json* mappings = json_member(value, name))
      *map = parse_id_mappings(*mappings, json_key_path(path, name));
  }
  mount.idmap = !mount.uid_map.empty() || !mount.gid_map.empty();
  const json* destination = json_member(value, "destination");
  if (!destination) kFields.fail(path, "needs \"destination\"");
  mount.destination = kFields.string(*destination, json_key_path(path, "destination"));
  if (!mount.destination.starts_with('/')) {
    kFields.fail(json_key_path(path, "destination"), "must be an absolute path in the container");
  }
  if (const json* type = json_member(value, "type")) mount.type = kFields.string(*type, json_key_path(path, "type"));
  if (const json* source = json_member(value, "source")) {
    mount.source = kFields.string(*source, json_key_path(path, "source"));
  }
  std::string data;
  if (const json* options = json_member(value, "options")) {
    const std::string options_path = json_key_path(path, "options");
    const std::vector<std::string> words = kFields.strings(*options, options_path);
    for (std::size_t i = 0; i < words.size(); ++i) {
      const std::string& word = words[i];
      bool known = false;
      for (const auto& flag_word : kMountFlagWords) {
        if (flag_word.word != word) continue;
        known = true;
        if (flag_word.clear) {
          mount.flags &= ~flag_word.flag;
        } else {
          mount.flags |= flag_word.flag;
        }
      }
      for (const auto& [name, flag] : kPropagationWords) {
        if (name != word) continue;
        known = true;
        mount.propagation = flag;
      }
      if (known) continue;
      if (word == "tmpcopyup") {
        mount.copy_up = true;
        continue;
      }
      if (word == "idmap" || word == "ridmap") {
        mount.idmap = true;
        continue;
      }
      if (word == "copy-symlink") {
        kFields.fail(json_index_path(options_path, i), "the option \"" + word + "\" is not supported by mcore-oci yet");
      }
      data += (data.empty() ? "" : ",") + word;
    }
  }
  mount.data = std::move(data);
  if (mount.type == "bind" || (mount.flags & MS_BIND) != 0) {
    mount.type = "bind";
    mount.flags |= MS_BIND;
    if (mount.source.empty()) kFields.fail(path, "a bind mount needs \"source\"");
    if (!fs::path(mount.source).is_absolute()) mount.source = (bundle / mount.source).lexically_normal().string();
  } else if (mount.type.empty()) {
    kFields.fail(path, "needs \"type\" (e.g. \"tmpfs\", \"proc\", or \"bind\")");
  }
  if (mount.copy_up && mount.type != "tmpfs") kFields.fail(path, "\"tmpcopyup\" is for tmpfs mounts only");
  if (mount.idmap && mount.type != "bind") kFields.fail(path, "an idmapped mount must be a bind mount");
  return mount;
}

CapabilitySet parse_capability_set(const json& value, const std::string& path) {
  CapabilitySet set = 0;
  const std::vector<std::string> names = kFields.strings(value, path);
  for (std::size_t i = 0; i < names.size(); ++i) {
    try {
      set |= CapabilitySet{1} << capability_from_name(names[i]);
    } catch (const Error& error) {
      kFields.fail(json_index_path(path, i), error.what());
    }
  }
  return set;
}

void parse_capabilities(const json& value, const std::string& path, OciProcess& process) {
  kFields.object(value, path);
  check_members(value, path, {"bounding", "effective", "permitted", "inheritable", "ambient"});
  auto set_of = [&](std::string_view name) -> CapabilitySet {
    const json* member = json_member(value, name);
    return member ? parse_capability_set(*member, json_key_path(path, name)) : 0;
  };
  const CapabilitySet effective = set_of("effective");
  const CapabilitySet permitted = set_of("permitted");
  process.bounding = set_of("bounding");
  // mcore's init gives the command one set as permitted and effective (Docker's model); refuse what it
  // would change rather than run with other capabilities than asked.
  if (effective != permitted) {
    kFields.fail(json_key_path(path, "effective"), "must equal \"permitted\": mcore-oci sets both to one set");
  }
  if ((permitted & ~process.bounding) != 0) {
    kFields.fail(json_key_path(path, "permitted"), "holds capabilities that \"bounding\" does not");
  }
  if (set_of("ambient") != 0) kFields.fail(json_key_path(path, "ambient"), "ambient capabilities are not supported by mcore-oci yet");
  process.capabilities = permitted;
}

OciProcess parse_process(const json& value, const std::string& path) {
  kFields.object(value, path);
  check_members(value, path,
                {"terminal", "consoleSize", "user", "args", "env", "cwd", "capabilities", "rlimits", "noNewPrivileges",
                 "oomScoreAdj", "apparmorProfile", "selinuxLabel"},
                {"commandLine", "ioPriority", "scheduler", "execCPUAffinity"}, "is not supported by mcore-oci yet");
  OciProcess process;
  const json* args = json_member(value, "args");
  if (!args) kFields.fail(path, "needs \"args\": the command to run");
  process.args = kFields.strings(*args, json_key_path(path, "args"));
  if (process.args.empty()) kFields.fail(json_key_path(path, "args"), "must name the command to run");
  if (const json* env = json_member(value, "env")) {
    process.env = kFields.strings(*env, json_key_path(path, "env"));
    for (std::size_t i = 0; i < process.env.size(); ++i) {
      if (process.env[i].find('=') == std::string::npos) {
        kFields.fail(json_index_path(json_key_path(path, "env"), i), "expected KEY=VALUE");
      }
    }
  }
  const json* cwd = json_member(value, "cwd");
  if (!cwd) kFields.fail(path, "needs \"cwd\"");
  process.cwd = kFields.string(*cwd, json_key_path(path, "cwd"));
  if (!process.cwd.starts_with('/')) kFields.fail(json_key_path(path, "cwd"), "must be an absolute path");
  if (const json* terminal = json_member(value, "terminal")) {
    process.terminal = kFields.boolean(*terminal, json_key_path(path, "terminal"));
  }
  if (const json* size = json_member(value, "consoleSize")) {
    const std::string size_path = json_key_path(path, "consoleSize");
    kFields.object(*size, size_path);
    check_members(*size, size_path, {"height", "width"});
    auto dimension = [&](std::string_view name) -> unsigned short {
      const json* member = json_member(*size, name);
      if (!member) kFields.fail(size_path, "needs \"height\" and \"width\"");
      const std::uint64_t number = kFields.unsigned_integer(*member, json_key_path(size_path, name));
      if (number > 0xffff) kFields.fail(json_key_path(size_path, name), "is too large");
      return static_cast<unsigned short>(number);
    };
    process.console_height = dimension("height");
    process.console_width = dimension("width");
  }
  if (const json* user = json_member(value, "user")) {
    const std::string user_path = json_key_path(path, "user");
    kFields.object(*user, user_path);
    check_members(*user, user_path, {"uid", "gid", "additionalGids", "umask"}, {"username"},
                  "is for Windows; give \"uid\" and \"gid\"");
    auto id = [&](std::string_view name) -> std::uint32_t {
      const json* member = json_member(*user, name);
      if (!member) return 0;
      const std::uint64_t number = kFields.unsigned_integer(*member, json_key_path(user_path, name));
      if (number > 0xfffffffeULL) kFields.fail(json_key_path(user_path, name), "is out of range");
      return static_cast<std::uint32_t>(number);
    };
    process.uid = id("uid");
    process.gid = id("gid");
    if (const json* groups = json_member(*user, "additionalGids")) {
      const std::string groups_path = json_key_path(user_path, "additionalGids");
      for (std::size_t i = 0; i < kFields.array(*groups, groups_path).size(); ++i) {
        process.additional_gids.push_back(
            static_cast<gid_t>(kFields.unsigned_integer((*groups)[i], json_index_path(groups_path, i))));
      }
    }
    if (const json* umask = json_member(*user, "umask")) {
      const std::uint64_t mask = kFields.unsigned_integer(*umask, json_key_path(user_path, "umask"));
      if (mask > 0777) kFields.fail(json_key_path(user_path, "umask"), "must be at most 0777 (511)");
      process.umask = static_cast<mode_t>(mask);
    }
  }
  if (const json* capabilities = json_member(value, "capabilities")) {
    parse_capabilities(*capabilities, json_key_path(path, "capabilities"), process);
  }
  if (const json* no_new = json_member(value, "noNewPrivileges")) {
    process.no_new_privileges = kFields.boolean(*no_new, json_key_path(path, "noNewPrivileges"));
  }
  if (const json* oom = json_member(value, "oomScoreAdj")) {
    const std::int64_t adj = kFields.integer(*oom, json_key_path(path, "oomScoreAdj"));
    if (adj < -1000 || adj > 1000) kFields.fail(json_key_path(path, "oomScoreAdj"), "must be -1000 to 1000");
    process.oom_score_adj = static_cast<int>(adj);
  }
  if (const json* rlimits = json_member(value, "rlimits")) {
    const std::string rlimits_path = json_key_path(path, "rlimits");
    for (std::size_t i = 0; i < kFields.array(*rlimits, rlimits_path).size(); ++i) {
      const std::string entry_path = json_index_path(rlimits_path, i);
      const json& entry = kFields.object((*rlimits)[i], entry_path);
      check_members(entry, entry_path, {"type", "soft", "hard"});
      const json* type = json_member(entry, "type");
      if (!type) kFields.fail(entry_path, "needs \"type\" (e.g. \"RLIMIT_NOFILE\")");
      const std::string& name = kFields.string(*type, json_key_path(entry_path, "type"));
      int resource = -1;
      for (const auto& [known, number] : kRlimits) {
        if (known == name) resource = number;
      }
      if (resource < 0) kFields.fail(json_key_path(entry_path, "type"), "unknown resource \"" + name + "\"");
      const json* soft = json_member(entry, "soft");
      const json* hard = json_member(entry, "hard");
      if (!soft || !hard) kFields.fail(entry_path, "needs \"soft\" and \"hard\"");
      OciProcess::Rlimit limit{resource, kFields.unsigned_integer(*soft, json_key_path(entry_path, "soft")),
                               kFields.unsigned_integer(*hard, json_key_path(entry_path, "hard"))};
      if (limit.soft > limit.hard) kFields.fail(json_key_path(entry_path, "soft"), "is above \"hard\"");
      process.rlimits.push_back(limit);
    }
  }
  // An AppArmor or SELinux label asks for confinement this host cannot give without the module; refuse
  // rather than run unconfined.
  for (std::string_view label : {"apparmorProfile", "selinuxLabel"}) {
    if (const json* member = json_member(value, label); member && !kFields.string(*member, json_key_path(path, label)).empty()) {
      kFields.fail(json_key_path(path, label), "is not supported by mcore-oci yet; remove it to run unconfined by it");
    }
  }
  return process;
}

// An allow rule of linux.resources.devices: type "a" (default), "c" or "b"; major, minor (-1 or absent:
// any); access (default "rwm").
DeviceAllowance parse_device_rule(const json& rule, const std::string& path) {
  DeviceAllowance allowance;
  if (const json* type = json_member(rule, "type")) {
    const std::string& text = kFields.string(*type, json_key_path(path, "type"));
    if (text != "a" && text != "c" && text != "b") kFields.fail(json_key_path(path, "type"), "\"" + text + "\" is not a, c or b");
    allowance.type = text[0];
  }
  if (const json* major = json_member(rule, "major")) allowance.major = kFields.integer(*major, json_key_path(path, "major"));
  if (const json* minor = json_member(rule, "minor")) allowance.minor = kFields.integer(*minor, json_key_path(path, "minor"));
  if (const json* access = json_member(rule, "access")) {
    allowance.access = kFields.string(*access, json_key_path(path, "access"));
    if (allowance.access.empty() || allowance.access.find_first_not_of("rwm") != std::string::npos) {
      kFields.fail(json_key_path(path, "access"), "\"" + allowance.access + "\" is not some of r, w and m");
    }
  }
  return allowance;
}

// linux.devices[i]: path, type (c, u, b, p), major and minor (not for p), fileMode, uid, gid.
OciDevice parse_device(const json& value, const std::string& path) {
  kFields.object(value, path);
  check_members(value, path, {"path", "type", "major", "minor", "fileMode", "uid", "gid"});
  OciDevice device;
  const json* device_path = json_member(value, "path");
  const json* type = json_member(value, "type");
  if (!device_path || !type) kFields.fail(path, "needs \"path\" and \"type\"");
  device.path = kFields.string(*device_path, json_key_path(path, "path"));
  const fs::path normal = fs::path(device.path).lexically_normal();
  if (!normal.is_absolute() || normal == "/" || device.path.find("..") != std::string::npos) {
    kFields.fail(json_key_path(path, "path"), "\"" + device.path + "\" is not an absolute path below /");
  }
  const std::string& kind = kFields.string(*type, json_key_path(path, "type"));
  if (kind == "c" || kind == "u") {
    device.type = S_IFCHR;
  } else if (kind == "b") {
    device.type = S_IFBLK;
  } else if (kind == "p") {
    device.type = S_IFIFO;
  } else {
    kFields.fail(json_key_path(path, "type"), "\"" + kind + "\" is not c, u, b or p");
  }
  if (device.type != S_IFIFO) {
    const json* major = json_member(value, "major");
    const json* minor = json_member(value, "minor");
    if (!major || !minor) kFields.fail(path, "a \"" + kind + "\" device needs \"major\" and \"minor\"");
    device.device = makedev(kFields.unsigned_integer(*major, json_key_path(path, "major")),
                            kFields.unsigned_integer(*minor, json_key_path(path, "minor")));
  }
  if (const json* mode = json_member(value, "fileMode")) {
    device.mode = static_cast<mode_t>(kFields.unsigned_integer(*mode, json_key_path(path, "fileMode")) & 07777);
  }
  if (const json* uid = json_member(value, "uid")) device.uid = static_cast<uid_t>(kFields.unsigned_integer(*uid, json_key_path(path, "uid")));
  if (const json* gid = json_member(value, "gid")) device.gid = static_cast<gid_t>(kFields.unsigned_integer(*gid, json_key_path(path, "gid")));
  return device;
}

void parse_resources(const json& value, const std::string& path, RuntimeSpec& spec) {
  kFields.object(value, path);
  check_members(value, path, {"memory", "cpu", "pids", "devices", "hugepageLimits"},
                {"blockIO", "network", "rdma", "unified"},
                "is not supported by mcore-oci's resource drivers yet");
  if (const json* hugepages = json_member(value, "hugepageLimits")) {
    const std::string hugepages_path = json_key_path(path, "hugepageLimits");
    for (std::size_t i = 0; i < kFields.array(*hugepages, hugepages_path).size(); ++i) {
      const std::string limit_path = json_index_path(hugepages_path, i);
      const json& limit = kFields.object((*hugepages)[i], limit_path);
      check_members(limit, limit_path, {"pageSize", "limit"});
      const json* page_size = json_member(limit, "pageSize");
      const json* bytes = json_member(limit, "limit");
      if (!page_size || !bytes) kFields.fail(limit_path, "needs \"pageSize\" and \"limit\"");
      spec.hugepage_limits.push_back({kFields.string(*page_size, json_key_path(limit_path, "pageSize")),
                                      kFields.unsigned_integer(*bytes, json_key_path(limit_path, "limit"))});
    }
  }
  if (const json* memory = json_member(value, "memory")) {
    const std::string memory_path = json_key_path(path, "memory");
    kFields.object(*memory, memory_path);
    check_members(*memory, memory_path, {"limit", "swap", "reservation", "disableOOMKiller", "swappiness"});
    if (const json* limit = json_member(*memory, "limit")) {
      const std::int64_t bytes = kFields.integer(*limit, json_key_path(memory_path, "limit"));
      if (bytes > 0) spec.limits.memory_bytes = bytes;
    }
    if (const json* swap = json_member(*memory, "swap")) {
      const std::int64_t bytes = kFields.integer(*swap, json_key_path(memory_path, "swap"));
      if (bytes != 0) spec.limits.memory_swap_bytes = bytes;
    }
  }
  if (const json* cpu = json_member(value, "cpu")) {
    const std::string cpu_path = json_key_path(path, "cpu");
    kFields.object(*cpu, cpu_path);
    check_members(*cpu, cpu_path, {"shares", "quota", "period", "cpus", "mems"},
                  {"realtimeRuntime", "realtimePeriod", "burst", "idle"}, "is not supported by mcore-oci yet");
    if (const json* shares = json_member(*cpu, "shares")) {
      const std::uint64_t value_shares = kFields.unsigned_integer(*shares, json_key_path(cpu_path, "shares"));
      if (value_shares != 0) spec.limits.cpu_shares = value_shares;
    }
    const json* quota = json_member(*cpu, "quota");
    if (quota) {
      const std::int64_t quota_us = kFields.integer(*quota, json_key_path(cpu_path, "quota"));
      std::uint64_t period_us = 100000;
      if (const json* period = json_member(*cpu, "period")) {
        period_us = kFields.unsigned_integer(*period, json_key_path(cpu_path, "period"));
      }
      if (quota_us > 0 && period_us > 0) {
        spec.limits.nano_cpus = static_cast<std::int64_t>(static_cast<double>(quota_us) / static_cast<double>(period_us) * 1e9);
      }
    }
    if (const json* cpus = json_member(*cpu, "cpus"); cpus && !kFields.string(*cpus, json_key_path(cpu_path, "cpus")).empty()) {
      spec.limits.cpuset_cpus = cpus->get<std::string>();
    }
    if (const json* mems = json_member(*cpu, "mems"); mems && !kFields.string(*mems, json_key_path(cpu_path, "mems")).empty()) {
      spec.limits.cpuset_mems = mems->get<std::string>();
    }
  }
  if (const json* pids = json_member(value, "pids")) {
    const std::string pids_path = json_key_path(path, "pids");
    kFields.object(*pids, pids_path);
    check_members(*pids, pids_path, {"limit"});
    if (const json* limit = json_member(*pids, "limit")) {
      const std::int64_t count = kFields.integer(*limit, json_key_path(pids_path, "limit"));
      if (count > 0) spec.limits.pids_limit = count;
    }
  }
  if (const json* devices = json_member(value, "devices")) {
    // A deny-all first rule is what every client sends; the resource driver then allows Docker's default
    // devices (the runtime-spec's default devices and the terminal ones), and nothing else.
    const std::string devices_path = json_key_path(path, "devices");
    const json& rules = kFields.array(*devices, devices_path);
    for (std::size_t i = 0; i < rules.size(); ++i) {
      const std::string rule_path = json_index_path(devices_path, i);
      const json& rule = kFields.object(rules[i], rule_path);
      check_members(rule, rule_path, {"allow", "type", "major", "minor", "access"});
      const json* allow = json_member(rule, "allow");
      if (!allow) kFields.fail(rule_path, "needs \"allow\"");
      const bool allows = kFields.boolean(*allow, json_key_path(rule_path, "allow"));
      const bool all = !json_member(rule, "major") && !json_member(rule, "minor") &&
                       (!json_member(rule, "type") || kFields.string(rule["type"], json_key_path(rule_path, "type")) == "a");
      if (i == 0 && !allows && all) {
        spec.devices_unrestricted = false;
      } else if (!allows && !spec.devices_unrestricted && spec.allowed_devices.empty()) {
        continue;  // denying within deny-all changes nothing (the default devices stay, as with runc)
      } else if (allows && spec.devices_unrestricted) {
        continue;  // nothing was denied
      } else if (allows) {
        spec.allowed_devices.push_back(parse_device_rule(rule, rule_path));
      } else {
        kFields.fail(rule_path, spec.devices_unrestricted ? "a deny rule is supported only as the first rule, denying all"
                                                          : "a deny rule after an allow rule is not supported by mcore-oci");
      }
    }
  }
}

// A new user namespace takes both maps (the kernel needs them before the container can do anything);
// maps without one would be silently ignored, so both are refused.
void parse_user_namespace(const json& value, const std::string& path, RuntimeSpec& spec) {
  const json* uid_mappings = json_member(value, "uidMappings");
  const json* gid_mappings = json_member(value, "gidMappings");
  const bool new_namespace =
      std::any_of(spec.namespaces.begin(), spec.namespaces.end(),
                  [](const auto& entry) { return entry.type == OciNamespace::user && entry.path.empty(); });
  if (!new_namespace) {
    for (const auto& [name, member] :
         {std::pair{"uidMappings", uid_mappings}, std::pair{"gidMappings", gid_mappings}}) {
      if (member && !kFields.array(*member, json_key_path(path, name)).empty()) {
        kFields.fail(json_key_path(path, name), "needs a new \"user\" namespace in linux.namespaces");
      }
    }
    return;
  }
  for (const auto& [name, member] :
       {std::pair{"uidMappings", uid_mappings}, std::pair{"gidMappings", gid_mappings}}) {
    if (!member || member->empty()) {
      kFields.fail(json_key_path(path, name),
                   "a new user namespace needs its id mappings; give at least one entry");
    }
  }
  spec.uid_map = parse_id_mappings(*uid_mappings, json_key_path(path, "uidMappings"));
  spec.gid_map = parse_id_mappings(*gid_mappings, json_key_path(path, "gidMappings"));
}

void parse_linux(const json& value, const std::string& path, RuntimeSpec& spec) {
  kFields.object(value, path);
  check_members(value, path,
                {"namespaces", "resources", "cgroupsPath", "seccomp", "maskedPaths", "readonlyPaths", "sysctl",
                 "rootfsPropagation", "devices", "uidMappings", "gidMappings", "mountLabel"},
                {"intelRdt", "personality", "timeOffsets"}, "is not supported by mcore-oci yet");
  if (const json* namespaces = json_member(value, "namespaces")) {
    const std::string namespaces_path = json_key_path(path, "namespaces");
    for (std::size_t i = 0; i < kFields.array(*namespaces, namespaces_path).size(); ++i) {
      const std::string entry_path = json_index_path(namespaces_path, i);
      const json& entry = kFields.object((*namespaces)[i], entry_path);
      check_members(entry, entry_path, {"type", "path"});
      const json* type = json_member(entry, "type");
      if (!type) kFields.fail(entry_path, "needs \"type\"");
      const std::string& name = kFields.string(*type, json_key_path(entry_path, "type"));
      std::optional<OciNamespace> kind;
      for (const auto& [known, value_kind] : kNamespaces) {
        if (known == name) kind = value_kind;
      }
      if (!kind) {
        kFields.fail(json_key_path(entry_path, "type"),
                     "unknown namespace type \"" + name + "\"; use pid, network, mount, ipc, uts, user or cgroup");
      }
      if (spec.has_namespace(*kind)) kFields.fail(entry_path, "the namespace \"" + name + "\" is listed twice");
      OciNamespaceEntry parsed{*kind, {}};
      if (const json* ns_path = json_member(entry, "path")) parsed.path = kFields.string(*ns_path, json_key_path(entry_path, "path"));
      if (*kind == OciNamespace::user && !parsed.path.empty()) {
        kFields.fail(json_key_path(entry_path, "path"),
                     "joining an existing user namespace is not supported yet; give a new one with "
                     "linux.uidMappings and gidMappings");
      }
      if (*kind == OciNamespace::mount && !parsed.path.empty()) {
        kFields.fail(json_key_path(entry_path, "path"), "joining an existing mount namespace is not supported");
      }
      spec.namespaces.push_back(std::move(parsed));
    }
  }
  if (!spec.has_namespace(OciNamespace::mount)) {
    kFields.fail(json_key_path(path, "namespaces"), "needs a \"mount\" namespace: mcore-oci never mounts in the host's");
  }
  parse_user_namespace(value, path, spec);
  if (const json* resources = json_member(value, "resources")) parse_resources(*resources, json_key_path(path, "resources"), spec);
  if (const json* cgroups_path = json_member(value, "cgroupsPath")) {
    spec.cgroups_path = kFields.string(*cgroups_path, json_key_path(path, "cgroupsPath"));
  }
  if (const json* seccomp = json_member(value, "seccomp")) spec.seccomp = kFields.object(*seccomp, json_key_path(path, "seccomp"));
  if (const json* masked = json_member(value, "maskedPaths")) spec.masked_paths = kFields.strings(*masked, json_key_path(path, "maskedPaths"));
  if (const json* readonly = json_member(value, "readonlyPaths")) {
    spec.readonly_paths = kFields.strings(*readonly, json_key_path(path, "readonlyPaths"));
  }
  for (const auto* list : {&spec.masked_paths, &spec.readonly_paths}) {
    for (const auto& entry : *list) {
      if (!entry.starts_with('/')) kFields.fail(json_key_path(path, list == &spec.masked_paths ? "maskedPaths" : "readonlyPaths"),
                                                "\"" + entry + "\" is not an absolute path");
    }
  }
  if (const json* sysctl = json_member(value, "sysctl")) {
    const std::string sysctl_path = json_key_path(path, "sysctl");
    for (const auto& [key, setting] : kFields.object(*sysctl, sysctl_path).items()) {
      spec.sysctl[key] = kFields.string(setting, json_key_path(sysctl_path, key));
    }
  }
  if (const json* propagation = json_member(value, "rootfsPropagation")) {
    const std::string propagation_path = json_key_path(path, "rootfsPropagation");
    const std::string word = kFields.string(*propagation, propagation_path);
    for (const auto& [name, flag] : kPropagationWords) {
      if (name == word) spec.rootfs_propagation = flag;
    }
    if (!word.empty() && spec.rootfs_propagation == 0) {
      kFields.fail(propagation_path, "unknown propagation \"" + word + "\"");
    }
  }
  if (const json* devices = json_member(value, "devices")) {
    const std::string devices_path = json_key_path(path, "devices");
    for (std::size_t i = 0; i < kFields.array(*devices, devices_path).size(); ++i) {
      spec.devices.push_back(parse_device((*devices)[i], json_index_path(devices_path, i)));
    }
  }
}

// An idmapped bind is seen through the container's own user namespace, as runc does it: a mount's own
// mappings, when given, must be the container's (other maps would need a user namespace per mount).
void check_idmapped_mounts(const RuntimeSpec& spec) {
  for (std::size_t i = 0; i < spec.mounts.size(); ++i) {
    const OciMount& mount = spec.mounts[i];
    if (!mount.idmap) continue;
    const std::string path = json_index_path("mounts", i);
    if (spec.uid_map.empty()) {
      kFields.fail(path, "an idmapped mount needs a new \"user\" namespace with linux.uidMappings");
    }
    if ((!mount.uid_map.empty() && mount.uid_map != spec.uid_map) ||
        (!mount.gid_map.empty() && mount.gid_map != spec.gid_map)) {
      kFields.fail(path,
                   "mappings other than the container's (linux.uidMappings, gidMappings) are not supported "
                   "yet; leave them out to use the container's");
    }
  }
}

// Only sysctls of a namespace the container has of its own, as runc allows: anything else would
// change the host.
void check_sysctls(const RuntimeSpec& spec) {
  for (const auto& [key, value] : spec.sysctl) {
    const std::string path = json_key_path("linux.sysctl", key);
    if (key.empty() || key.find('/') != std::string::npos || key.find("..") != std::string::npos) {
      kFields.fail(path, "is not a sysctl name");
    }
    const bool ipc = key == "kernel.msgmax" || key == "kernel.msgmnb" || key == "kernel.msgmni" ||
                     key == "kernel.sem" || key == "kernel.shmall" || key == "kernel.shmmax" ||
                     key == "kernel.shmmni" || key == "kernel.shm_rmid_forced" || key.starts_with("fs.mqueue.");
    const bool net = key.starts_with("net.");
    const bool uts = key == "kernel.hostname" || key == "kernel.domainname";
    std::optional<OciNamespace> needs;
    if (ipc) needs = OciNamespace::ipc;
    if (net) needs = OciNamespace::network;
    if (uts) needs = OciNamespace::uts;
    if (!needs) kFields.fail(path, "is not a namespaced sysctl: setting it would change the host");
    bool own = false;
    for (const auto& entry : spec.namespaces) own = own || (entry.type == *needs);
    if (!own) kFields.fail(path, "needs a namespace of the container's own for it");
  }
}

}  // namespace

RuntimeSpec parse_runtime_spec(const json& document, const fs::path& bundle) {
  try {
    if (!document.is_object()) kFields.fail("(top)", "expected a JSON object");
    check_members(document, "", {"ociVersion", "root", "process", "hostname", "domainname", "mounts", "linux", "annotations", "hooks"},
                  {"solaris", "windows", "vm", "zos"}, "is not supported by mcore-oci yet");
    RuntimeSpec spec;
    const json* version = json_member(document, "ociVersion");
    if (!version) kFields.fail("ociVersion", "missing (e.g. \"1.0.2\")");
    spec.oci_version = kFields.string(*version, "ociVersion");
    if (!spec.oci_version.starts_with("1.")) kFields.fail("ociVersion", "\"" + spec.oci_version + "\" is not a 1.x version");

    const json* root = json_member(document, "root");
    if (!root) kFields.fail("root", "missing: the container's root file system");
    kFields.object(*root, "root");
    check_members(*root, "root", {"path", "readonly"});
    const json* root_path = json_member(*root, "path");
    if (!root_path) kFields.fail("root", "needs \"path\"");
    spec.root = kFields.string(*root_path, "root.path");
    if (spec.root.empty()) kFields.fail("root.path", "must not be empty");
    if (spec.root.is_relative()) spec.root = (bundle / spec.root).lexically_normal();
    if (const json* readonly = json_member(*root, "readonly")) spec.root_readonly = kFields.boolean(*readonly, "root.readonly");

    const json* process = json_member(document, "process");
    if (!process) kFields.fail("process", "missing: mcore-oci needs the command to run");
    spec.process = parse_process(*process, "process");
    if (const json* hostname = json_member(document, "hostname")) spec.hostname = kFields.string(*hostname, "hostname");
    if (const json* domainname = json_member(document, "domainname")) spec.domainname = kFields.string(*domainname, "domainname");
    if (const json* mounts = json_member(document, "mounts")) {
      for (std::size_t i = 0; i < kFields.array(*mounts, "mounts").size(); ++i) {
        spec.mounts.push_back(parse_mount((*mounts)[i], json_index_path("mounts", i), bundle));
      }
    }
    const json* linux_section = json_member(document, "linux");
    if (!linux_section) kFields.fail("linux", "missing: mcore-oci runs Linux containers");
    parse_linux(*linux_section, "linux", spec);
    check_sysctls(spec);
    check_idmapped_mounts(spec);
    if ((!spec.hostname.empty() || !spec.domainname.empty()) && !spec.has_namespace(OciNamespace::uts)) {
      kFields.fail(spec.hostname.empty() ? "domainname" : "hostname", "needs a \"uts\" namespace of its own");
    }
    if (const json* hooks = json_member(document, "hooks")) spec.hooks = parse_oci_hooks(*hooks, "hooks");
    if (const json* annotations = json_member(document, "annotations")) {
      for (const auto& [key, value] : kFields.object(*annotations, "annotations").items()) {
        spec.annotations[key] = kFields.string(value, json_key_path("annotations", key));
      }
    }
    return spec;
  } catch (Error& error) {
    error.add_context("config.json");
    throw;
  }
}

OciProcess parse_oci_process(const json& document, const std::string& what) {
  try {
    return parse_process(document, "process");
  } catch (Error& error) {
    error.add_context(what);
    throw;
  }
}

ResourceLimits parse_oci_resources(const json& document, const std::string& what) {
  try {
    RuntimeSpec spec;
    parse_resources(document, "", spec);
    if (const json* devices = json_member(document, "devices"); devices && !devices->empty()) {
      kFields.fail("devices", "device rules cannot be changed on a live container");
    }
    if (!spec.hugepage_limits.empty()) {
      kFields.fail("hugepageLimits", "huge page limits cannot be changed on a live container");
    }
    return spec.limits;
  } catch (Error& error) {
    error.add_context(what);
    throw;
  }
}

RuntimeSpec load_runtime_spec(const fs::path& bundle) {
  const fs::path file = bundle / "config.json";
  std::string text;
  try {
    text = read_file(file);
  } catch (Error& error) {
    error.add_context("read the bundle's config.json");
    throw;
  }
  json document;
  try {
    document = json::parse(text);
  } catch (const json::parse_error& error) {
    throw Error(file.string() + ": not valid JSON: " + error.what(), 0,
                "config.json must be a runtime-spec document; `mcore-oci spec` writes an example");
  }
  return parse_runtime_spec(document, bundle);
}

}  // namespace mcore::engine

namespace mcore::engine {

json default_runtime_spec() {
  const json capabilities = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  const json no_suid_exec_dev = {"nosuid", "noexec", "nodev"};
  return {
      {"ociVersion", "1.0.2"},
      {"process",
       {{"terminal", false},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", {"sh"}},
        {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
        {"cwd", "/"},
        {"capabilities", {{"bounding", capabilities}, {"effective", capabilities}, {"permitted", capabilities}}},
        {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
        {"noNewPrivileges", true}}},
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"hostname", "mcore"},
      {"mounts",
       {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
        {{"destination", "/dev"}, {"type", "tmpfs"}, {"source", "tmpfs"},
         {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
        {{"destination", "/dev/pts"}, {"type", "devpts"}, {"source", "devpts"},
         {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
        {{"destination", "/dev/shm"}, {"type", "tmpfs"}, {"source", "shm"},
         {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
        {{"destination", "/dev/mqueue"}, {"type", "mqueue"}, {"source", "mqueue"}, {"options", no_suid_exec_dev}},
        {{"destination", "/sys"}, {"type", "sysfs"}, {"source", "sysfs"}, {"options", {"nosuid", "noexec", "nodev", "ro"}}},
        {{"destination", "/sys/fs/cgroup"}, {"type", "cgroup"}, {"source", "cgroup"},
         {"options", {"nosuid", "noexec", "nodev", "relatime", "ro"}}}}},
      {"linux",
       {{"resources", {{"devices", {{{"allow", false}, {"access", "rwm"}}}}}},
        {"namespaces", {{{"type", "pid"}}, {{"type", "network"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}},
                        {{"type", "cgroup"}}}},
        {"maskedPaths", {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                         "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"}},
        {"readonlyPaths", {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}}}};
}

}  // namespace mcore::engine
