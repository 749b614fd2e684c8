// Where rootless mcore keeps its config, data and state: the user's XDG directories.
#include "engine/context/user_defaults.hpp"

#include <gtest/gtest.h>

#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

TEST(UserDefaults, RootKeepsTheSystemPaths) {
  const UserDefaults defaults = system_defaults();
  EXPECT_EQ(defaults.config_path, "/etc/mcore/config.json");
  EXPECT_EQ(defaults.data_root, "/var/lib/mcore");
  EXPECT_EQ(defaults.state_root, "/run/mcore");
  EXPECT_FALSE(defaults.rootless_uid);
}

TEST(UserDefaults, AUserGetsTheXdgDirectoriesBelowHome) {
  const UserDefaults defaults = rootless_defaults(1000, {"/home/ann", "", "", "/run/user/1000"});
  EXPECT_EQ(defaults.config_path, "/home/ann/.config/mcore/config.json");
  EXPECT_EQ(defaults.data_root, "/home/ann/.local/share/mcore");
  EXPECT_EQ(defaults.state_root, "/run/user/1000/mcore");
  EXPECT_EQ(defaults.rootless_uid, 1000u);
}

TEST(UserDefaults, XdgVariablesWinAndRelativeOnesAreIgnored) {
  const UserDefaults set = rootless_defaults(1000, {"/home/ann", "/cfg", "/data", "/rt"});
  EXPECT_EQ(set.config_path, "/cfg/mcore/config.json");
  EXPECT_EQ(set.data_root, "/data/mcore");
  EXPECT_EQ(set.state_root, "/rt/mcore");
  const UserDefaults relative = rootless_defaults(1000, {"/home/ann", "cfg", "data", "rt"});
  EXPECT_EQ(relative.config_path, "/home/ann/.config/mcore/config.json");
  EXPECT_EQ(relative.data_root, "/home/ann/.local/share/mcore");
  EXPECT_EQ(relative.state_root, "/tmp/mcore-run-1000") << "Podman's fallback without a runtime directory";
}

TEST(UserDefaults, WithoutHomeOrXdgTheUserIsToldWhatToSet) {
  try {
    rootless_defaults(1000, {"", "", "", ""});
    FAIL() << "expected an Error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("$XDG_CONFIG_HOME or $HOME"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace mcore::engine
