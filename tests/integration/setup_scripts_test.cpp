// The README's set-up lines (`./scripts/install-deps && ./scripts/test`, `... && ./scripts/demo`) work
// in a root shell without sudo and for a user with sudo; anyone else is told to use a root shell.
// The scripts run here as the unprivileged user nobody, with a stand-in sudo that records its call.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "test_support.hpp"

namespace mcore::test {
namespace {

namespace fs = std::filesystem;

class SetupScriptsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    MCORE_REQUIRE_ROOT();
    fs::permissions(bin_.path(), fs::perms::owner_all | fs::perms::others_read | fs::perms::others_exec);
  }

  fs::path script() const { return fs::path(MCORE_SOURCE_DIR) / "scripts" / GetParam(); }

  // Runs the script as nobody with PATH = the stand-in directory, then the system's.
  CommandResult run_as_nobody() {
    return run_command({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", "/usr/bin/env",
                        "PATH=" + bin_.path().string() + ":/usr/sbin:/usr/bin:/sbin:/bin", script().string()});
  }

  TempDir bin_;
};

TEST_P(SetupScriptsTest, AUserWithSudoGetsTheScriptRunAgainThroughSudo) {
  const fs::path record = bin_.path() / "sudo-called";
  std::ofstream(bin_.path() / "sudo") << "#!/bin/sh\necho \"$@\" > " << record.string() << "\n";
  fs::permissions(bin_.path() / "sudo", fs::perms::all);
  ::chown(bin_.path().c_str(), 65534, 65534);  // the stand-in writes its record here

  const CommandResult result = run_as_nobody();
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("running it again with sudo"), std::string::npos) << result.err;
  EXPECT_EQ(read_text(record), "-E -- " + script().string() + "\n");
}

TEST_P(SetupScriptsTest, WithoutSudoItSaysToUseARootShell) {
  const CommandResult result = run_as_nobody();
  EXPECT_EQ(result.exit_code, 1) << result.err << result.out;
  EXPECT_NE(result.err.find("must run as root, and sudo is not installed: run it from a root shell"),
            std::string::npos)
      << result.err;
}

INSTANTIATE_TEST_SUITE_P(Readme, SetupScriptsTest, ::testing::Values("install-deps", "demo", "test"),
                         [](const auto& info) { return info.param == "install-deps" ? std::string("install_deps")
                                                                                     : info.param; });

}  // namespace
}  // namespace mcore::test
