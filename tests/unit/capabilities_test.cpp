#include "engine/security/capabilities.hpp"

#include <linux/capability.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mcore/error.hpp"
#include "test_support.hpp"

namespace mcore::engine {
namespace {

using test::error_of;

CapabilitySet bit(int capability) { return CapabilitySet{1} << capability; }

std::vector<std::string> sorted(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  return names;
}


TEST(CapabilityNames, ParsesWithOrWithoutPrefixInAnyCase) {
  EXPECT_EQ(capability_from_name("NET_ADMIN"), 12);
  EXPECT_EQ(capability_from_name("CAP_NET_ADMIN"), 12);
  EXPECT_EQ(capability_from_name("net_admin"), 12);
  EXPECT_EQ(capability_from_name("Cap_Net_Admin"), 12);
  EXPECT_EQ(capability_from_name("chown"), CAP_CHOWN);
  EXPECT_EQ(capability_from_name("CHECKPOINT_RESTORE"), CAP_CHECKPOINT_RESTORE);
  EXPECT_EQ(capability_from_name("bpf"), CAP_BPF);
}

TEST(CapabilityNames, NamesEveryCapabilityTheHeadersKnowAndRoundTrips) {
  EXPECT_EQ(capability_name(CAP_NET_ADMIN), "CAP_NET_ADMIN");
  EXPECT_EQ(capability_name(CAP_SYS_ADMIN), "CAP_SYS_ADMIN");
  EXPECT_EQ(capability_name(CAP_AUDIT_READ), "CAP_AUDIT_READ");
  for (int capability = 0; capability <= CAP_LAST_CAP; ++capability) {
    const std::string name = capability_name(capability);
    EXPECT_TRUE(name.starts_with("CAP_")) << capability << " is named " << name;
    EXPECT_EQ(capability_from_name(name), capability) << name;
  }
}

TEST(CapabilityNames, SpellsAnUnknownNumberAsTheNumber) { EXPECT_EQ(capability_name(63), "63"); }

TEST(CapabilityNames, UnknownNameSaysWhatAndWhereToLook) {
  EXPECT_EQ(error_of([] { capability_from_name("FOO"); }),
            "unknown capability \"FOO\"; see capabilities(7) for the names");
  EXPECT_NE(error_of([] { capability_from_name(""); }), "");
  EXPECT_NE(error_of([] { capability_from_name("ALL"); }), "");
  EXPECT_NE(error_of([] { capability_from_name("CAP_"); }), "");
}

TEST(CapabilityNames, ListsTheNamesOfASetInNumberOrder) {
  EXPECT_EQ(capability_names(bit(CAP_SYS_ADMIN) | bit(CAP_CHOWN)),
            (std::vector<std::string>{"CAP_CHOWN", "CAP_SYS_ADMIN"}));
  EXPECT_TRUE(capability_names(0).empty());
}

TEST(DefaultCapabilities, AreExactlyDockersFourteen) {
  const std::vector<std::string> docker = {
      "CAP_AUDIT_WRITE", "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FOWNER",  "CAP_FSETID",
      "CAP_KILL",        "CAP_MKNOD",  "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SETFCAP",
      "CAP_SETGID",      "CAP_SETPCAP", "CAP_SETUID",     "CAP_SYS_CHROOT",
  };
  EXPECT_EQ(sorted(capability_names(default_capabilities())), docker);
}

TEST(AllCapabilities, FollowsTheKernelsLastCapability) {
  std::ifstream file("/proc/sys/kernel/cap_last_cap");
  int last = -1;
  ASSERT_TRUE(file >> last) << "cannot read /proc/sys/kernel/cap_last_cap";
  const CapabilitySet expected = last >= 63 ? ~CapabilitySet{0} : (bit(last + 1) - 1);
  EXPECT_EQ(all_capabilities(), expected);
  EXPECT_EQ(all_capabilities() & default_capabilities(), default_capabilities());
}

TEST(ResolveCapabilities, WithoutListsGivesTheDefault) {
  EXPECT_EQ(resolve_capabilities(false, {}, {}), default_capabilities());
}

TEST(ResolveCapabilities, DropsThenAdds) {
  EXPECT_EQ(resolve_capabilities(false, {"NET_ADMIN"}, {"net_raw", "CAP_MKNOD"}),
            (default_capabilities() & ~bit(CAP_NET_RAW) & ~bit(CAP_MKNOD)) | bit(CAP_NET_ADMIN));
  // In both lists: the add wins, as in Docker.
  EXPECT_EQ(resolve_capabilities(false, {"CHOWN"}, {"CHOWN"}), default_capabilities());
}

TEST(ResolveCapabilities, AddAllKeepsTheDropList) {
  EXPECT_EQ(resolve_capabilities(false, {"ALL"}, {}), all_capabilities());
  EXPECT_EQ(resolve_capabilities(false, {"all"}, {"MKNOD"}), all_capabilities() & ~bit(CAP_MKNOD));
  EXPECT_EQ(resolve_capabilities(false, {"ALL"}, {"ALL"}), all_capabilities());
}

TEST(ResolveCapabilities, DropAllLeavesOnlyTheAdded) {
  EXPECT_EQ(resolve_capabilities(false, {}, {"ALL"}), 0u);
  EXPECT_EQ(resolve_capabilities(false, {"CHOWN", "SYS_ADMIN"}, {"ALL"}),
            bit(CAP_CHOWN) | bit(CAP_SYS_ADMIN));
}

TEST(ResolveCapabilities, PrivilegedGetsEverythingWhateverTheLists) {
  EXPECT_EQ(resolve_capabilities(true, {}, {}), all_capabilities());
  EXPECT_EQ(resolve_capabilities(true, {}, {"ALL"}), all_capabilities());
  EXPECT_EQ(resolve_capabilities(true, {"NET_ADMIN"}, {"SYS_ADMIN"}), all_capabilities());
}

TEST(ResolveCapabilities, RejectsUnknownNamesInEitherList) {
  EXPECT_EQ(error_of([] { resolve_capabilities(false, {"NET_ADMIM"}, {}); }),
            "unknown capability \"NET_ADMIM\"; see capabilities(7) for the names");
  EXPECT_EQ(error_of([] { resolve_capabilities(false, {}, {"CAP_FOO"}); }),
            "unknown capability \"CAP_FOO\"; see capabilities(7) for the names");
  EXPECT_NE(error_of([] { resolve_capabilities(true, {"FOO"}, {}); }), "");
}

}  // namespace
}  // namespace mcore::engine

namespace mcore::engine {
namespace {

TEST(ResolveCapabilities, NeverExceedsWhatMcoreHolds) {
  const CapabilitySet held = default_capabilities() & ~(CapabilitySet{1} << CAP_MKNOD);
  EXPECT_EQ(resolve_capabilities(true, {}, {}, held), held);
  EXPECT_EQ(resolve_capabilities(false, {}, {}, held), held);
  try {
    resolve_capabilities(false, {"MKNOD"}, {}, held);
    ADD_FAILURE() << "adding a capability mcore does not hold must fail";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("CAP_MKNOD"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace mcore::engine
