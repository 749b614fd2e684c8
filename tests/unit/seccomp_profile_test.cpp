#include "engine/security/seccomp_profile.hpp"

#include <linux/capability.h>
#include <linux/seccomp.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mcore/error.hpp"
#include "test_support.hpp"

namespace mcore::engine {
namespace {

using nlohmann::json;

CapabilitySet bit(int capability) { return CapabilitySet{1} << capability; }

bool same_program(const SeccompProgram& a, const SeccompProgram& b) {
  return std::equal(a.instructions.begin(), a.instructions.end(), b.instructions.begin(),
                    b.instructions.end(), [](const sock_filter& x, const sock_filter& y) {
                      return x.code == y.code && x.jt == y.jt && x.jf == y.jf && x.k == y.k;
                    });
}

std::string compile_error(const json& profile) {
  try {
    compile_seccomp_profile(profile, default_capabilities());
  } catch (const Error& error) {
    return error.what();
  }
  return "(no error)";
}

// Every system call name the profile mentions, in any rule.
std::vector<std::string> all_names(const json& profile) {
  std::vector<std::string> names;
  for (const auto& rule : profile["syscalls"]) {
    for (const auto& name : rule["names"]) names.push_back(name.get<std::string>());
  }
  return names;
}

bool mentions(const json& profile, const std::string& name) {
  const auto names = all_names(profile);
  return std::find(names.begin(), names.end(), name) != names.end();
}

TEST(DefaultSeccompProfile, IsDockersShape) {
  const json profile = default_seccomp_profile();
  EXPECT_EQ(profile["defaultAction"], "SCMP_ACT_ERRNO");
  EXPECT_EQ(profile["defaultErrnoRet"], 1);
  EXPECT_TRUE(mentions(profile, "read"));
  EXPECT_TRUE(mentions(profile, "mount"));
  // Never allowed: the kernel keyring is not namespaced; io_uring bypasses seccomp (Docker 25).
  for (const char* denied : {"keyctl", "add_key", "request_key", "io_uring_setup", "io_uring_enter",
                             "io_uring_register", "kexec_load", "swapon", "userfaultfd"}) {
    EXPECT_FALSE(mentions(profile, denied)) << denied << " must stay denied";
  }
  bool clone3_enosys = false;
  for (const auto& rule : profile["syscalls"]) {
    if (rule["names"] == json::array({"clone3"}) && rule["action"] == "SCMP_ACT_ERRNO") {
      clone3_enosys = rule["errnoRet"] == 38 && rule["excludes"]["caps"] == json::array({"CAP_SYS_ADMIN"});
    }
  }
  EXPECT_TRUE(clone3_enosys) << "expected clone3 to fail with ENOSYS unless CAP_SYS_ADMIN";
}

TEST(DefaultSeccompProfile, CompilesForAnyCapabilitySet) {
  for (CapabilitySet capabilities : {CapabilitySet{0}, default_capabilities(), all_capabilities()}) {
    const SeccompProgram program = compile_default_seccomp(capabilities);
    EXPECT_GT(program.instructions.size(), 100u) << "capabilities " << std::hex << capabilities;
    EXPECT_LE(program.instructions.size(), 4096u);
  }
}

TEST(DefaultSeccompProfile, FollowsTheCapabilities) {
  const SeccompProgram base = compile_default_seccomp(default_capabilities());
  EXPECT_TRUE(same_program(base, compile_default_seccomp(default_capabilities())))
      << "compiling twice should give the same program";
  EXPECT_FALSE(same_program(base, compile_default_seccomp(default_capabilities() | bit(CAP_SYS_ADMIN))));
  EXPECT_FALSE(same_program(base, compile_default_seccomp(default_capabilities() | bit(CAP_SYS_PTRACE))));
  // Capabilities no rule mentions change nothing.
  EXPECT_TRUE(same_program(base, compile_default_seccomp(default_capabilities() | bit(CAP_NET_ADMIN))));
}

TEST(CustomSeccompProfile, Compiles) {
  const json profile = json::parse(R"({
    "defaultAction": "SCMP_ACT_ALLOW",
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
    "syscalls": [
      {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
      {"name": "chmod", "action": "SCMP_ACT_ERRNO"},
      {"names": ["personality"], "action": "SCMP_ACT_KILL_PROCESS",
       "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
      {"names": ["socket"], "action": "SCMP_ACT_ERRNO",
       "args": [{"index": 0, "value": 40, "op": "SCMP_CMP_EQ"},
                {"index": 0, "value": 16, "op": "SCMP_CMP_EQ"}]},
      {"names": ["clone"], "action": "SCMP_ACT_TRAP",
       "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
      {"names": ["getppid"], "action": "SCMP_ACT_LOG"},
      {"names": ["acct"], "action": "SCMP_ACT_KILL"},
      {"names": ["reboot"], "action": "SCMP_ACT_KILL_THREAD"},
      {"names": ["ptrace"], "action": "SCMP_ACT_TRACE", "errnoRet": 1},
      {"names": ["setns"], "action": "SCMP_ACT_ERRNO", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
      {"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "comment": "same as default: ignored"}
    ]
  })");
  const SeccompProgram program = compile_seccomp_profile(profile, default_capabilities());
  EXPECT_FALSE(program.instructions.empty());
}

// The flags go to seccomp(2) with the program; the program itself does not change.
TEST(CustomSeccompProfile, CarriesItsFilterFlags) {
  json profile = {{"defaultAction", "SCMP_ACT_ALLOW"},
                  {"syscalls", json::array({{{"names", {"getppid"}}, {"action", "SCMP_ACT_ERRNO"}}})}};
  const SeccompProgram plain = compile_seccomp_profile(profile, 0);
  EXPECT_EQ(plain.flags, 0u);
  profile["flags"] = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                      "SECCOMP_FILTER_FLAG_TSYNC"};
  const SeccompProgram flagged = compile_seccomp_profile(profile, 0);
  EXPECT_EQ(flagged.flags,
            static_cast<unsigned int>(SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW |
                                      SECCOMP_FILTER_FLAG_TSYNC));
  EXPECT_TRUE(same_program(plain, flagged));
}

TEST(CustomSeccompProfile, SkipsSystemCallsThisLibseccompDoesNotKnow) {
  json profile = {{"defaultAction", "SCMP_ACT_ALLOW"},
                  {"syscalls", json::array({{{"names", {"getppid"}}, {"action", "SCMP_ACT_ERRNO"}}})}};
  const SeccompProgram known = compile_seccomp_profile(profile, 0);
  profile["syscalls"][0]["names"].push_back("no_such_syscall_in_any_kernel");
  EXPECT_TRUE(same_program(known, compile_seccomp_profile(profile, 0)));
}

TEST(CustomSeccompProfile, IncludesAndExcludesSelectRules) {
  json profile = {{"defaultAction", "SCMP_ACT_ALLOW"},
                  {"syscalls", json::array({{{"names", {"getppid"}}, {"action", "SCMP_ACT_ERRNO"}}})}};
  const SeccompProgram with_rule = compile_seccomp_profile(profile, 0);
  const SeccompProgram without_rule =
      compile_seccomp_profile({{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", nullptr}}, 0);
  ASSERT_FALSE(same_program(with_rule, without_rule));

  json& rule = profile["syscalls"][0];
  rule["includes"] = {{"caps", {"CAP_SYS_ADMIN"}}};
  EXPECT_TRUE(same_program(without_rule, compile_seccomp_profile(profile, 0)));
  EXPECT_TRUE(same_program(with_rule, compile_seccomp_profile(profile, bit(CAP_SYS_ADMIN))));

  rule["includes"] = {{"minKernel", "2.6"}};
  EXPECT_TRUE(same_program(with_rule, compile_seccomp_profile(profile, 0)));
  rule["includes"] = {{"minKernel", "999.0"}};
  EXPECT_TRUE(same_program(without_rule, compile_seccomp_profile(profile, 0)));

  rule["includes"] = nullptr;
  rule["excludes"] = {{"caps", {"CAP_SYS_ADMIN", "CAP_BPF"}}};
  EXPECT_TRUE(same_program(with_rule, compile_seccomp_profile(profile, 0)));
  EXPECT_TRUE(same_program(without_rule, compile_seccomp_profile(profile, bit(CAP_BPF))));

  rule["excludes"] = {{"arches", {"s390x"}}};
  EXPECT_TRUE(same_program(with_rule, compile_seccomp_profile(profile, 0)));
  rule["includes"] = {{"arches", {"s390x"}}};
  rule["excludes"] = nullptr;
  EXPECT_TRUE(same_program(without_rule, compile_seccomp_profile(profile, 0)));
}

struct BadProfile {
  const char* profile;
  const char* expected;  // the start of the error message
};

class SeccompProfileErrors : public testing::TestWithParam<BadProfile> {};

TEST_P(SeccompProfileErrors, NameTheOffendingField) {
  const std::string error = compile_error(json::parse(GetParam().profile));
  EXPECT_TRUE(error.starts_with(GetParam().expected))
      << "expected an error starting with: " << GetParam().expected << "\n  saw: " << error;
}

INSTANTIATE_TEST_SUITE_P(
    Fields, SeccompProfileErrors,
    testing::Values(
        BadProfile{R"([])", "profile: expected a JSON object"},
        BadProfile{R"({"syscalls": []})", "defaultAction: missing"},
        BadProfile{R"({"defaultAction": "SCMP_ACT_FOO"})", "defaultAction: unknown action \"SCMP_ACT_FOO\""},
        BadProfile{R"({"defaultAction": 1})", "defaultAction: expected a string"},
        BadProfile{R"({"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 1})",
                   "defaultErrnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE"},
        BadProfile{R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": -1})",
                   "defaultErrnoRet: expected a non-negative integer"},
        BadProfile{R"({"defaultAction": "SCMP_ACT_NOTIFY"})", "defaultAction: SCMP_ACT_NOTIFY needs"},
        BadProfile{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": {}})", "syscalls: expected an array"},
        BadProfile{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
                        {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
                        {"names": ["write"], "action": "SCMP_ACT_ALLOW"},
                        {"names": ["open"], "action": "SCMP_ACT_ALLOW"},
                        {"names": ["close"], "action": "SCMP_ACT_FOO"}]})",
                   "syscalls[3].action: unknown action \"SCMP_ACT_FOO\""},
        BadProfile{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"]}]})",
                   "syscalls[0]: needs \"action\""},
        BadProfile{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"action": "SCMP_ACT_ALLOW"}]})",
                   "syscalls[0]: needs \"names\""},
        BadProfile{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
                        {"name": "read", "names": ["write"], "action": "SCMP_ACT_ALLOW"}]})",
                   "syscalls[0]: use either \"name\" or \"names\""},
        BadProfile{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
                        {"names": ["read", 7], "action": "SCMP_ACT_ALLOW"}]})",
                   "syscalls[0].names[1]: expected a string"},
        BadProfile{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
                        {"names": ["read"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1}]})",
                   "syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE"},
        BadProfile{R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                        {"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 70000}]})",
                   "syscalls[0].errnoRet: must be at most 65535"},
        BadProfile{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"],
                        "action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "value": 0, "op": "SCMP_CMP_EQ"}]}]})",
                   "syscalls[0].args[0].index: must be 0 to 5"},
        BadProfile{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"],
                        "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"},
                                                             {"index": 1, "value": 0, "op": "EQ"}]}]})",
                   "syscalls[0].args[1].op: unknown operator \"EQ\""},
        BadProfile{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"],
                        "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "op": "SCMP_CMP_EQ"}]}]})",
                   "syscalls[0].args[0]: needs \"value\""},
        BadProfile{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"],
                        "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_FOO"]}}]})",
                   "syscalls[0].includes.caps[0]: unknown capability \"CAP_FOO\""},
        BadProfile{R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"],
                        "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "four"}}]})",
                   "syscalls[0].excludes.minKernel: invalid kernel version \"four\""},
        BadProfile{
            R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_Z80"]})",
            "architectures[1]: unknown architecture \"SCMP_ARCH_Z80\""},
        BadProfile{R"({"defaultAction": "SCMP_ACT_ERRNO",
                       "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["x86"]}]})",
                   "archMap[0].subArchitectures[0]: unknown architecture \"x86\""},
        BadProfile{R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
                       "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]})",
                   "archMap: use either \"architectures\" or \"archMap\""},
        BadProfile{R"({"defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_LOG", "LOG"]})",
                   "flags[1]: unknown flag \"LOG\"; use SECCOMP_FILTER_FLAG_TSYNC"},
        BadProfile{
            R"({"defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]})",
            "flags[0]: needs a seccomp agent (listenerPath)"},
        BadProfile{R"({"defaultAction": "SCMP_ACT_ERRNO", "listenerPath": "/run/agent.sock"})",
                   "listenerPath: seccomp agents are not supported"}));

TEST(SeccompProfileFile, CompilesAFileAndNamesItInErrors) {
  test::TempDir dir("mcore-seccomp-test");
  const auto good = dir.path() / "good.json";
  std::ofstream(good) << R"({"defaultAction": "SCMP_ACT_ALLOW",
                             "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]})";
  EXPECT_FALSE(compile_seccomp_file(good, default_capabilities()).instructions.empty());

  const auto broken = dir.path() / "broken.json";
  std::ofstream(broken) << R"({"defaultAction": )";
  try {
    compile_seccomp_file(broken, default_capabilities());
    ADD_FAILURE() << "expected invalid JSON to be rejected";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(broken.string() + ": not valid JSON"), std::string::npos)
        << error.what();
  }

  const auto wrong = dir.path() / "wrong.json";
  std::ofstream(wrong) << R"({"defaultAction": "SCMP_ACT_FOO"})";
  try {
    compile_seccomp_file(wrong, default_capabilities());
    ADD_FAILURE() << "expected an unknown action to be rejected";
  } catch (const Error& error) {
    EXPECT_EQ(std::string(error.what()),
              "seccomp profile " + wrong.string() + ": defaultAction: unknown action \"SCMP_ACT_FOO\"" +
                  "; use SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, "
                  "SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_TRACE or SCMP_ACT_LOG");
  }

  try {
    compile_seccomp_file(dir.path() / "missing.json", default_capabilities());
    ADD_FAILURE() << "expected a missing file to be rejected";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("missing.json"), std::string::npos) << error.what();
    EXPECT_EQ(error.error_number(), ENOENT);
  }
}

}  // namespace
}  // namespace mcore::engine
