// config.json parsed into typed fields: what runc's clients send is read exactly, and what mcore-oci does
// not honour is refused with the JSON path of the field rather than dropped.
#include "engine/oci/runtime_spec.hpp"

#include <sys/mount.h>
#include <sys/resource.h>

#include <gtest/gtest.h>

#include "mcore/error.hpp"
#include "test_support.hpp"

namespace mcore::engine {
namespace {

using nlohmann::json;
using test::error_of;

json minimal() {
  json spec = default_runtime_spec();
  spec["process"]["args"] = {"true"};
  return spec;
}

RuntimeSpec parse(const json& document) { return parse_runtime_spec(document, "/bundles/b1"); }

std::string parse_error(const json& document) {
  return error_of([&] { parse(document); });
}

TEST(RuntimeSpec, TheDefaultSpecParsesWithARootRelativeToTheBundle) {
  const RuntimeSpec spec = parse(default_runtime_spec());
  EXPECT_EQ(spec.root, "/bundles/b1/rootfs");
  EXPECT_TRUE(spec.root_readonly);
  EXPECT_EQ(spec.process.args, std::vector<std::string>{"sh"});
  EXPECT_EQ(spec.hostname, "mcore");
  EXPECT_FALSE(spec.devices_unrestricted) << "the default spec denies devices first";
  EXPECT_TRUE(spec.has_namespace(OciNamespace::mount));
  EXPECT_TRUE(spec.has_namespace(OciNamespace::cgroup));
  ASSERT_EQ(spec.process.rlimits.size(), 1u);
  EXPECT_EQ(spec.process.rlimits[0].resource, RLIMIT_NOFILE);
  EXPECT_EQ(spec.process.capabilities, spec.process.bounding);
  EXPECT_NE(spec.process.capabilities, 0u);
}

TEST(RuntimeSpec, MountOptionsBecomeFlagsPropagationAndData) {
  json document = minimal();
  document["mounts"] = {
      {{"destination", "/data"}, {"type", "bind"}, {"source", "data"}, {"options", {"rbind", "ro", "nosuid", "rslave"}}},
      {{"destination", "/t"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"noexec", "mode=755", "size=1m", "rw"}}},
      {{"destination", "/o"}, {"source", "/host/o"}, {"options", {"bind"}}}};
  const RuntimeSpec spec = parse(document);
  ASSERT_EQ(spec.mounts.size(), 3u);
  EXPECT_EQ(spec.mounts[0].type, "bind");
  EXPECT_EQ(spec.mounts[0].source, "/bundles/b1/data");
  EXPECT_EQ(spec.mounts[0].flags, static_cast<unsigned long>(MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID));
  EXPECT_EQ(spec.mounts[0].propagation, static_cast<unsigned long>(MS_SLAVE | MS_REC));
  EXPECT_EQ(spec.mounts[1].flags, static_cast<unsigned long>(MS_NOEXEC));
  EXPECT_EQ(spec.mounts[1].data, "mode=755,size=1m");
  EXPECT_EQ(spec.mounts[2].type, "bind") << "a mount without a type is a bind when its options say so";
  EXPECT_EQ(spec.mounts[2].flags, static_cast<unsigned long>(MS_BIND));
}

TEST(RuntimeSpec, ProcessUserCapabilitiesAndResourcesAreRead) {
  json document = minimal();
  document["process"]["user"] = {{"uid", 1000}, {"gid", 100}, {"additionalGids", {5, 6}}, {"umask", 18}};
  document["process"]["oomScoreAdj"] = 300;
  document["linux"]["resources"] = {{"memory", {{"limit", 1 << 20}}},
                                    {"cpu", {{"shares", 512}, {"quota", 50000}, {"period", 100000}, {"cpus", "0"}}},
                                    {"pids", {{"limit", 10}}}};
  document["linux"]["cgroupsPath"] = "/a/b";
  document["annotations"] = {{"k", "v"}};
  const RuntimeSpec spec = parse(document);
  EXPECT_EQ(spec.process.uid, 1000u);
  EXPECT_EQ(spec.process.gid, 100u);
  EXPECT_EQ(spec.process.additional_gids, (std::vector<gid_t>{5, 6}));
  EXPECT_EQ(spec.process.umask, 022u);
  EXPECT_EQ(spec.process.oom_score_adj, 300);
  EXPECT_EQ(spec.limits.memory_bytes, 1 << 20);
  EXPECT_EQ(spec.limits.cpu_shares, 512u);
  EXPECT_EQ(spec.limits.nano_cpus, 500000000);
  EXPECT_EQ(spec.limits.cpuset_cpus, "0");
  EXPECT_EQ(spec.limits.pids_limit, 10);
  EXPECT_EQ(spec.cgroups_path, "/a/b");
  EXPECT_EQ(spec.annotations.at("k"), "v");
}

TEST(RuntimeSpec, ErrorsNameTheJsonPathOfTheField) {
  json document = minimal();
  document["process"]["args"] = {"sh", 1};
  EXPECT_EQ(parse_error(document).find("config.json: process.args[1]: expected a string"), 0u) << parse_error(document);

  document = minimal();
  document["mounts"][2]["options"] = {"nosuid", 7};
  EXPECT_NE(parse_error(document).find("mounts[2].options[1]: expected a string"), std::string::npos);

  document = minimal();
  document["linux"]["namespaces"].push_back({{"type", "time"}});
  EXPECT_NE(parse_error(document).find("linux.namespaces[6].type: unknown namespace type \"time\""), std::string::npos)
      << parse_error(document);

  document = minimal();
  document["linux"]["namespaces"].push_back({{"type", "pid"}});
  EXPECT_NE(parse_error(document).find("the namespace \"pid\" is listed twice"), std::string::npos);

  document = minimal();
  document.erase("process");
  EXPECT_NE(parse_error(document).find("process: missing"), std::string::npos);

  document = minimal();
  document["process"]["cwd"] = "relative";
  EXPECT_NE(parse_error(document).find("process.cwd: must be an absolute path"), std::string::npos);
}

TEST(RuntimeSpec, WhatIsNotHonouredIsRefusedNotDropped) {
  auto refused = [](json document, const std::string& words) {
    const std::string error = parse_error(document);
    EXPECT_NE(error.find(words), std::string::npos) << error;
  };
  json document = minimal();
  document["hooks"] = {{"prestart", json::array({{{"path", "/bin/true"}}})}};
  refused(document, "hooks: is not supported");

  document = minimal();
  document["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}};
  refused(document, "linux.uidMappings: user namespaces are not supported");

  document = minimal();
  document["process"]["capabilities"]["effective"] = json::array();
  refused(document, "process.capabilities.effective: must equal \"permitted\"");

  document = minimal();
  document["mounts"][1]["options"].push_back("tmpcopyup");
  refused(document, "\"tmpcopyup\" is not supported");

  document = minimal();
  document["linux"]["namespaces"] = {{{"type", "pid"}}};
  refused(document, "needs a \"mount\" namespace");

  document = minimal();
  document["process"]["apparmorProfile"] = "docker-default";
  refused(document, "process.apparmorProfile");

  document = minimal();
  document["linux"]["somethingNew"] = true;
  refused(document, "linux.somethingNew: is not supported");

  document = minimal();
  document["linux"]["sysctl"] = {{"kernel.panic", "1"}};
  refused(document, "linux.sysctl.kernel.panic: is not a namespaced sysctl");

  document = minimal();
  document["linux"]["namespaces"] = {{{"type", "mount"}}, {{"type", "pid"}}};
  document["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
  document.erase("hostname");
  refused(document, "linux.sysctl.net.ipv4.ip_forward: needs a namespace of the container's own");
}

}  // namespace
}  // namespace mcore::engine
