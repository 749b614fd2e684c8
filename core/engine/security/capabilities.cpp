#include "engine/security/capabilities.hpp"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <fstream>

#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

// Indexed by capability number; the static_asserts keep the table in step with the kernel headers.
constexpr std::array<std::string_view, CAP_CHECKPOINT_RESTORE + 1> kCapabilityNames = {
    "CAP_CHOWN",            "CAP_DAC_OVERRIDE",    "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
    "CAP_FSETID",           "CAP_KILL",            "CAP_SETGID",          "CAP_SETUID",
    "CAP_SETPCAP",          "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",        "CAP_NET_RAW",         "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",       "CAP_SYS_RAWIO",       "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",        "CAP_SYS_ADMIN",       "CAP_SYS_BOOT",        "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",     "CAP_SYS_TIME",        "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
    "CAP_LEASE",            "CAP_AUDIT_WRITE",     "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",     "CAP_MAC_ADMIN",       "CAP_SYSLOG",          "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",    "CAP_AUDIT_READ",      "CAP_PERFMON",         "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
static_assert(CAP_NET_ADMIN == 12 && CAP_SYS_ADMIN == 21 && CAP_SETFCAP == 31 && CAP_BPF == 39);
static_assert(CAP_LAST_CAP >= CAP_CHECKPOINT_RESTORE);

constexpr CapabilitySet bit(int capability) { return CapabilitySet{1} << capability; }

constexpr CapabilitySet kDefaultCapabilities =
    bit(CAP_CHOWN) | bit(CAP_DAC_OVERRIDE) | bit(CAP_FSETID) | bit(CAP_FOWNER) | bit(CAP_MKNOD) |
    bit(CAP_NET_RAW) | bit(CAP_SETGID) | bit(CAP_SETUID) | bit(CAP_SETFCAP) | bit(CAP_SETPCAP) |
    bit(CAP_NET_BIND_SERVICE) | bit(CAP_SYS_CHROOT) | bit(CAP_KILL) | bit(CAP_AUDIT_WRITE);

constexpr CapabilitySet mask_up_to(int last) {
  return last >= 63 ? ~CapabilitySet{0} : bit(last + 1) - 1;
}

std::string to_upper(std::string_view text) {
  std::string upper(text);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return upper;
}

bool is_all(std::string_view name) { return to_upper(name) == "ALL"; }

CapabilitySet parse_list(const std::vector<std::string>& names, bool& has_all) {
  CapabilitySet set = 0;
  for (const auto& name : names) {
    if (is_all(name)) {
      has_all = true;
    } else {
      set |= bit(capability_from_name(name));
    }
  }
  return set;
}

}  // namespace

CapabilitySet default_capabilities() { return kDefaultCapabilities; }

CapabilitySet all_capabilities() {
  int last = CAP_LAST_CAP;
  std::ifstream file("/proc/sys/kernel/cap_last_cap");
  std::string text;
  if (file >> text) {
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc() && end == text.data() + text.size() && value >= 0) last = value;
  }
  return mask_up_to(std::min(last, 63));
}

int capability_from_name(std::string_view name) {
  std::string upper = to_upper(name);
  if (!upper.starts_with("CAP_")) upper.insert(0, "CAP_");
  auto found = std::find(kCapabilityNames.begin(), kCapabilityNames.end(), upper);
  if (found == kCapabilityNames.end()) {
    throw Error("unknown capability \"" + std::string(name) + "\"; see capabilities(7) for the names");
  }
  return static_cast<int>(found - kCapabilityNames.begin());
}

std::string capability_name(int capability) {
  if (capability >= 0 && capability < static_cast<int>(kCapabilityNames.size())) {
    return std::string(kCapabilityNames[capability]);
  }
  // A capability newer than this table: spell it as its number, as libcap does.
  return std::to_string(capability);
}

std::vector<std::string> capability_names(CapabilitySet set) {
  std::vector<std::string> names;
  for (int capability = 0; capability < 64; ++capability) {
    if (set & bit(capability)) names.push_back(capability_name(capability));
  }
  return names;
}

CapabilitySet resolve_capabilities(bool privileged, const std::vector<std::string>& add,
                                   const std::vector<std::string>& drop, CapabilitySet held) {
  // Names are checked even when privileged so a typo never passes silently.
  bool add_all = false;
  bool drop_all = false;
  const CapabilitySet added = parse_list(add, add_all);
  const CapabilitySet dropped = parse_list(drop, drop_all);
  // mcore cannot hand out what it does not hold itself (a root that lost CAP_SYS_RESOURCE, say):
  // "all" means all it holds; an explicit --cap-add of a missing capability is an error.
  if (CapabilitySet missing = added & ~held; missing != 0 && !privileged) {
    throw Error("cannot add " + capability_name(std::countr_zero(missing)) + ": mcore itself does not hold it", 0,
                "run mcore with that capability or drop the --cap-add");
  }
  // Docker: --privileged ignores --cap-add/--cap-drop; "ALL" in add beats "ALL" in drop.
  if (privileged) return all_capabilities() & held;
  if (add_all) return all_capabilities() & held & ~dropped;
  if (drop_all) return added;
  return ((default_capabilities() & ~dropped) | added) & held;
}

CapabilitySet held_capabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return all_capabilities();
  return (CapabilitySet{data[1].permitted} << 32) | data[0].permitted;
}

int drop_bounding_set(CapabilitySet keep) noexcept {
  // One prctl per dropped capability on the start path: PR_CAPBSET_DROP fails with EINVAL past the
  // kernel's last capability, which saves reading /proc (it may not be mounted yet). Without
  // CAP_SETPCAP (a second call) it fails with EPERM, which is fine where the capability is gone already.
  for (int capability = 0; capability < 64; ++capability) {
    if (keep & bit(capability)) continue;
    if (prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) == 0) continue;
    if (errno == EINVAL) break;
    const int drop_error = errno;
    if (drop_error == EPERM && prctl(PR_CAPBSET_READ, capability, 0, 0, 0) == 0) continue;
    return drop_error;
  }
  return 0;
}

int set_process_capabilities(CapabilitySet set) noexcept {
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  __user_cap_data_struct data[2]{};
  for (int word = 0; word < 2; ++word) {
    const auto bits = static_cast<std::uint32_t>(set >> (32 * word));
    data[word].effective = bits;
    data[word].permitted = bits;
    data[word].inheritable = 0;
  }
  if (syscall(SYS_capset, &header, data) != 0) return errno;
  // EINVAL: a kernel before 4.3 has no ambient set, so there is nothing to clear.
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) return errno;
  return 0;
}

}  // namespace mcore::engine
