#include "engine/exec/enter_request.hpp"

#include <cstdint>
#include <cstring>

namespace mcore::engine {
namespace {

constexpr std::string_view kMagic = "MCE2";

class Writer {
 public:
  template <class T>
  void number(T value) {
    out_.append(reinterpret_cast<const char*>(&value), sizeof value);
  }
  void text(std::string_view value) {
    number(static_cast<std::uint32_t>(value.size()));
    out_.append(value);
  }
  void texts(const std::vector<char*>& values) {  // null-terminated, the null not written
    number(static_cast<std::uint32_t>(values.size() - 1));
    for (std::size_t i = 0; i + 1 < values.size(); ++i) text(values[i]);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_{kMagic};
};

class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}
  bool magic() { return take(kMagic.size()) == kMagic; }
  template <class T>
  bool number(T& value) {
    const std::string_view bytes = take(sizeof value);
    if (bytes.size() != sizeof value) return false;
    std::memcpy(&value, bytes.data(), sizeof value);
    return true;
  }
  bool text(std::string& value) {
    std::uint32_t size = 0;
    if (!number(size) || size > rest_.size()) return false;
    value = take(size);
    return true;
  }
  bool texts(InitPlan& plan, std::vector<char*>& values) {
    std::uint32_t count = 0;
    if (!number(count) || count > rest_.size()) return false;  // every entry takes at least 4 bytes
    for (std::uint32_t i = 0; i < count; ++i) {
      std::string value;
      if (!text(value)) return false;
      values.push_back(const_cast<char*>(plan.keep(std::move(value))));
    }
    values.push_back(nullptr);
    return true;
  }
  bool done() const { return ok_ && rest_.empty(); }
  std::string_view take(std::size_t size) {
    if (size > rest_.size()) {
      ok_ = false;
      return {};
    }
    std::string_view taken = rest_.substr(0, size);
    rest_.remove_prefix(size);
    return taken;
  }

 private:
  std::string_view rest_;
  bool ok_ = true;
};

}  // namespace

std::string encode_enter_request(const InitPlan& process, int namespaces) {
  Writer out;
  out.number(static_cast<std::int32_t>(namespaces));
  out.number(static_cast<std::uint64_t>(process.capabilities));
  out.number(static_cast<std::uint8_t>(process.no_new_privileges));
  out.number(static_cast<std::uint8_t>(process.tty));
  out.number(static_cast<std::int32_t>(process.home_slot));
  out.text(process.working_dir);
  out.text(process.user);
  out.number(static_cast<std::uint8_t>(process.group != nullptr));
  out.text(process.group != nullptr ? process.group : "");
  out.texts(process.argv);
  out.texts(process.envp);
  const auto& filter = process.seccomp.instructions;
  out.number(static_cast<std::uint32_t>(filter.size()));
  for (const sock_filter& instruction : filter) out.number(instruction);
  out.number(static_cast<std::uint32_t>(process.seccomp.flags));
  out.number(static_cast<std::uint32_t>(process.umask));
  out.number(static_cast<std::uint8_t>(process.explicit_groups));
  out.number(static_cast<std::uint32_t>(process.additional_gids.size()));
  for (gid_t gid : process.additional_gids) out.number(static_cast<std::uint32_t>(gid));
  out.number(static_cast<std::uint8_t>(process.bounding.has_value()));
  out.number(static_cast<std::uint64_t>(process.bounding.value_or(0)));
  out.number(static_cast<std::uint32_t>(process.rlimits.size()));
  for (const auto& limit : process.rlimits) {
    out.number(static_cast<std::int32_t>(limit.resource));
    out.number(static_cast<std::uint64_t>(limit.soft));
    out.number(static_cast<std::uint64_t>(limit.hard));
  }
  out.number(static_cast<std::uint32_t>(process.preserve_fds));
  return out.take();
}

bool decode_enter_request(std::string_view bytes, EnterRequest& request) {
  InitPlan& plan = request.process;
  Reader in(bytes);
  std::int32_t namespaces = 0, home_slot = -1;
  std::uint64_t capabilities = 0;
  std::uint8_t no_new_privileges = 0, tty = 0, has_group = 0;
  std::uint32_t instructions = 0;
  std::string working_dir, user, group;
  if (!in.magic() || !in.number(namespaces) || !in.number(capabilities) || !in.number(no_new_privileges) ||
      !in.number(tty) || !in.number(home_slot) || !in.text(working_dir) || !in.text(user) || !in.number(has_group) ||
      !in.text(group) || !in.texts(plan, plan.argv) || !in.texts(plan, plan.envp) || !in.number(instructions) ||
      instructions > bytes.size() / sizeof(sock_filter)) {
    return false;
  }
  for (std::uint32_t i = 0; i < instructions; ++i) {
    sock_filter instruction{};
    if (!in.number(instruction)) return false;
    plan.seccomp.instructions.push_back(instruction);
  }
  if (!in.number(plan.seccomp.flags)) return false;
  std::uint32_t umask = 0, gid_count = 0, rlimit_count = 0;
  std::uint8_t explicit_groups = 0, has_bounding = 0;
  std::uint64_t bounding = 0;
  if (!in.number(umask) || umask > 0777 || !in.number(explicit_groups) || !in.number(gid_count) ||
      gid_count > bytes.size() / sizeof(std::uint32_t)) {
    return false;
  }
  for (std::uint32_t i = 0; i < gid_count; ++i) {
    std::uint32_t gid = 0;
    if (!in.number(gid)) return false;
    plan.additional_gids.push_back(gid);
  }
  if (!in.number(has_bounding) || !in.number(bounding) || !in.number(rlimit_count) || rlimit_count > bytes.size() / 20) {
    return false;
  }
  for (std::uint32_t i = 0; i < rlimit_count; ++i) {
    std::int32_t resource = 0;
    std::uint64_t soft = 0, hard = 0;
    if (!in.number(resource) || !in.number(soft) || !in.number(hard)) return false;
    plan.rlimits.push_back({resource, soft, hard});
  }
  std::uint32_t preserve_fds = 0;
  if (!in.number(preserve_fds) || preserve_fds > kMaxPreservedFds) return false;
  plan.preserve_fds = static_cast<int>(preserve_fds);
  plan.umask = static_cast<mode_t>(umask);
  plan.explicit_groups = explicit_groups != 0;
  if (has_bounding != 0) plan.bounding = bounding;
  if (!in.done() || plan.argv.size() < 2 || home_slot < -1 || home_slot >= static_cast<int>(plan.envp.size()) - 1) {
    return false;
  }
  request.namespaces = namespaces;
  plan.capabilities = capabilities;
  plan.no_new_privileges = no_new_privileges != 0;
  plan.tty = tty != 0;
  plan.home_slot = home_slot;
  plan.working_dir = plan.keep(std::move(working_dir));
  plan.user = plan.keep(std::move(user));
  plan.group = has_group != 0 ? plan.keep(std::move(group)) : nullptr;
  for (std::size_t i = 0; i + 1 < plan.envp.size(); ++i) {
    if (std::strncmp(plan.envp[i], "PATH=", 5) == 0) plan.path_env = plan.envp[i] + 5;
  }
  return true;
}

}  // namespace mcore::engine
