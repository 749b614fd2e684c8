#include "device_filter.hpp"

#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "mcore/error.hpp"

namespace mcore::cgroup {
namespace {

// Registers used by the program: the context pointer arrives in r1.
constexpr std::uint8_t kType = 2, kAccess = 3, kMajor = 4, kMinor = 5, kScratch = 6;

bpf_insn instruction(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off, std::int32_t imm) {
  bpf_insn insn{};
  insn.code = code;
  insn.dst_reg = dst & 0xf;
  insn.src_reg = src & 0xf;
  insn.off = off;
  insn.imm = imm;
  return insn;
}
bpf_insn load_u32(std::uint8_t dst, std::int16_t offset) {
  return instruction(BPF_LDX | BPF_MEM | BPF_W, dst, 1, offset, 0);
}
bpf_insn move(std::uint8_t dst, std::uint8_t src) { return instruction(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0); }
bpf_insn alu_imm(std::uint8_t op, std::uint8_t dst, std::int32_t imm) {
  return instruction(BPF_ALU | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn jump_if_not_equal(std::uint8_t reg, std::int32_t imm, std::int16_t skip) {
  return instruction(BPF_JMP | BPF_JNE | BPF_K, reg, 0, skip, imm);
}
bpf_insn return_value(std::int32_t value) { return instruction(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, value); }
bpf_insn exit_program() { return instruction(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

std::int32_t access_bits(std::string_view access) {
  std::int32_t bits = 0;
  for (auto c = access.begin(); c != access.end(); ++c) {
    if (*c == 'm') bits |= BPF_DEVCG_ACC_MKNOD;
    if (*c == 'r') bits |= BPF_DEVCG_ACC_READ;
    if (*c == 'w') bits |= BPF_DEVCG_ACC_WRITE;
  }
  return bits;
}

// One block per rule: each check jumps past the rest of the block when it fails; a block whose checks
// all pass returns 1 (allow). After the last block the program returns 0 (deny).
std::vector<bpf_insn> build_program(std::span<const DeviceRule> rules) {
  std::vector<bpf_insn> program = {
      load_u32(kType, offsetof(bpf_cgroup_dev_ctx, access_type)),
      move(kAccess, kType),
      alu_imm(BPF_AND, kType, 0xffff),
      alu_imm(BPF_RSH, kAccess, 16),
      load_u32(kMajor, offsetof(bpf_cgroup_dev_ctx, major)),
      load_u32(kMinor, offsetof(bpf_cgroup_dev_ctx, minor)),
  };
  for (const auto& rule : rules) {
    std::vector<bpf_insn> checks;
    if (rule.type != 'a') {
      checks.push_back(jump_if_not_equal(kType, rule.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, 0));
    }
    // Every requested access must be among the allowed ones: (access & ~allowed) == 0.
    checks.push_back(move(kScratch, kAccess));
    checks.push_back(alu_imm(BPF_AND, kScratch, ~access_bits(rule.access)));
    checks.push_back(jump_if_not_equal(kScratch, 0, 0));
    if (rule.major >= 0) checks.push_back(jump_if_not_equal(kMajor, static_cast<std::int32_t>(rule.major), 0));
    if (rule.minor >= 0) checks.push_back(jump_if_not_equal(kMinor, static_cast<std::int32_t>(rule.minor), 0));
    checks.push_back(return_value(1));
    checks.push_back(exit_program());
    // Point each failing check at the instruction after this block.
    for (std::size_t i = 0; i < checks.size(); ++i) {
      if (BPF_CLASS(checks[i].code) == BPF_JMP && BPF_OP(checks[i].code) == BPF_JNE) checks[i].off = static_cast<std::int16_t>(checks.size() - i - 1);
    }
    program.insert(program.end(), checks.begin(), checks.end());
  }
  program.push_back(return_value(0));
  program.push_back(exit_program());
  return program;
}

long bpf(int command, bpf_attr& attr) { return ::syscall(SYS_bpf, command, &attr, sizeof attr); }

}  // namespace

void attach_device_filter(const std::filesystem::path& group, std::span<const DeviceRule> rules) {
  std::vector<bpf_insn> program = build_program(rules);
  static const char kLicense[] = "Apache";
  bpf_attr load{};
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = reinterpret_cast<std::uint64_t>(program.data());
  load.insn_cnt = static_cast<std::uint32_t>(program.size());
  load.license = reinterpret_cast<std::uint64_t>(kLicense);
  int program_fd = static_cast<int>(bpf(BPF_PROG_LOAD, load));
  if (program_fd < 0) {
    throw Error::from_errno("load the device filter for " + group.string(),
                            "the kernel needs CONFIG_CGROUP_BPF for device rules on cgroup v2");
  }
  int group_fd = ::open(group.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (group_fd < 0) {
    int saved = errno;
    ::close(program_fd);
    throw Error("open " + group.string(), saved);
  }
  bpf_attr attach{};
  attach.target_fd = static_cast<std::uint32_t>(group_fd);
  attach.attach_bpf_fd = static_cast<std::uint32_t>(program_fd);
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  long attached = bpf(BPF_PROG_ATTACH, attach);
  int saved = errno;
  // The attachment keeps the program alive; the descriptors are no longer needed.
  ::close(group_fd);
  ::close(program_fd);
  if (attached != 0) throw Error("attach the device filter to " + group.string(), saved);
}

}  // namespace mcore::cgroup
