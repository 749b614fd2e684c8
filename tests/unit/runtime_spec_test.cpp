// config.json parsed into typed fields: what runc's clients send is read exactly, and what mcore-oci does
// not honour is refused with the JSON path of the field rather than dropped.
#include "engine/oci/runtime_spec.hpp"

#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

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

json with_user_namespace() {
  json document = minimal();
  document["linux"]["namespaces"].push_back({{"type", "user"}});
  document["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  document["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 200000}, {"size", 1000}},
                                      {{"containerID", 1000}, {"hostID", 300000}, {"size", 1}}};
  return document;
}

TEST(RuntimeSpec, AUserNamespaceTakesItsMappings) {
  const RuntimeSpec spec = parse(with_user_namespace());
  EXPECT_TRUE(spec.has_namespace(OciNamespace::user));
  ASSERT_EQ(spec.uid_map.size(), 1u);
  EXPECT_EQ(spec.uid_map[0].host_id, 100000u);
  EXPECT_EQ(spec.uid_map[0].size, 65536u);
  ASSERT_EQ(spec.gid_map.size(), 2u);
  EXPECT_EQ(spec.gid_map[1].container_id, 1000u);
  EXPECT_EQ(spec.gid_map[1].host_id, 300000u);
}

TEST(RuntimeSpec, BadUserNamespacesAreRefusedByPath) {
  json document = with_user_namespace();
  document["linux"].erase("gidMappings");
  EXPECT_NE(parse_error(document).find("linux.gidMappings: a new user namespace needs its id mappings"),
            std::string::npos)
      << parse_error(document);
  document = with_user_namespace();
  document["linux"]["uidMappings"].push_back({{"containerID", 10}, {"hostID", 500000}, {"size", 5}});
  EXPECT_NE(parse_error(document).find("overlap on the container side"), std::string::npos)
      << parse_error(document);
  document = with_user_namespace();
  document["linux"]["uidMappings"][0]["size"] = 0;
  EXPECT_NE(parse_error(document).find("linux.uidMappings[0]: size must be at least 1"), std::string::npos)
      << parse_error(document);
  document = with_user_namespace();
  document["linux"]["uidMappings"][0].erase("hostID");
  EXPECT_NE(parse_error(document).find("linux.uidMappings[0]: needs \"hostID\""), std::string::npos);
  document = with_user_namespace();
  document["linux"]["namespaces"].back()["path"] = "/proc/1/ns/user";
  EXPECT_NE(parse_error(document).find("joining an existing user namespace is not supported"),
            std::string::npos)
      << parse_error(document);
}

TEST(RuntimeSpec, IdmappedBindsUseTheContainersMappings) {
  json document = with_user_namespace();
  document["mounts"].push_back(
      {{"destination", "/a"}, {"type", "bind"}, {"source", "/srv/a"}, {"options", {"rbind", "idmap"}}});
  document["mounts"].push_back(
      {{"destination", "/b"}, {"type", "bind"}, {"source", "/srv/b"}, {"options", {"ridmap"}}});
  document["mounts"].push_back({{"destination", "/c"},
                                {"type", "bind"},
                                {"source", "/srv/c"},
                                {"uidMappings", document["linux"]["uidMappings"]}});
  document["mounts"].push_back({{"destination", "/d"}, {"type", "bind"}, {"source", "/srv/d"}});
  const RuntimeSpec spec = parse(document);
  const auto& mounts = spec.mounts;
  ASSERT_GE(mounts.size(), 4u);
  EXPECT_TRUE(mounts[mounts.size() - 4].idmap);
  EXPECT_TRUE(mounts[mounts.size() - 3].idmap);
  EXPECT_TRUE(mounts[mounts.size() - 2].idmap) << "the mount's own mappings, the container's";
  EXPECT_FALSE(mounts.back().idmap);

  document["mounts"].back()["uidMappings"] = {{{"containerID", 0}, {"hostID", 5000}, {"size", 10}}};
  EXPECT_NE(parse_error(document).find("mappings other than the container's"), std::string::npos)
      << parse_error(document);
  json unmapped = minimal();
  unmapped["mounts"].push_back(
      {{"destination", "/a"}, {"type", "bind"}, {"source", "/srv/a"}, {"options", {"idmap"}}});
  EXPECT_NE(parse_error(unmapped).find("an idmapped mount needs a new \"user\" namespace"), std::string::npos)
      << parse_error(unmapped);
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

TEST(RuntimeSpec, HooksDevicesAndDeviceRulesAreRead) {
  json document = minimal();
  document["hooks"] = {{"createRuntime", {{{"path", "/usr/bin/net-setup"}, {"args", {"net-setup", "up"}},
                                           {"env", {"A=1"}}, {"timeout", 5}}}},
                       {"poststop", {{{"path", "/bin/cleanup"}}}}};
  document["linux"]["devices"] = {{{"path", "/dev/fuse"}, {"type", "c"}, {"major", 10}, {"minor", 229}, {"fileMode", 0666},
                                   {"uid", 0}, {"gid", 5}},
                                  {{"path", "/dev/pipe"}, {"type", "p"}}};
  document["linux"]["resources"]["devices"] = {{{"allow", false}, {"access", "rwm"}},
                                               {{"allow", true}, {"type", "c"}, {"major", 10}, {"minor", 229}, {"access", "rw"}},
                                               {{"allow", true}, {"type", "b"}, {"access", "m"}}};
  document["mounts"][1]["options"].push_back("tmpcopyup");
  const RuntimeSpec spec = parse(document);
  ASSERT_EQ(spec.hooks.create_runtime.size(), 1u);
  EXPECT_EQ(spec.hooks.create_runtime[0].path, "/usr/bin/net-setup");
  EXPECT_EQ(spec.hooks.create_runtime[0].args, (std::vector<std::string>{"net-setup", "up"}));
  EXPECT_EQ(spec.hooks.create_runtime[0].env, (std::vector<std::string>{"A=1"}));
  EXPECT_EQ(spec.hooks.create_runtime[0].timeout_seconds, 5);
  ASSERT_EQ(spec.hooks.poststop.size(), 1u);
  EXPECT_FALSE(spec.hooks.poststop[0].timeout_seconds);
  EXPECT_TRUE(spec.hooks.prestart.empty());
  ASSERT_EQ(spec.devices.size(), 2u);
  EXPECT_EQ(spec.devices[0].type, static_cast<mode_t>(S_IFCHR));
  EXPECT_EQ(spec.devices[0].device, makedev(10, 229));
  EXPECT_EQ(spec.devices[0].mode, 0666u);
  EXPECT_EQ(spec.devices[0].gid, 5u);
  EXPECT_EQ(spec.devices[1].type, static_cast<mode_t>(S_IFIFO));
  EXPECT_FALSE(spec.devices_unrestricted);
  ASSERT_EQ(spec.allowed_devices.size(), 2u);
  EXPECT_EQ(spec.allowed_devices[0].type, 'c');
  EXPECT_EQ(spec.allowed_devices[0].major, 10);
  EXPECT_EQ(spec.allowed_devices[0].minor, 229);
  EXPECT_EQ(spec.allowed_devices[0].access, "rw");
  EXPECT_EQ(spec.allowed_devices[1].major, -1) << "no major: any";
  EXPECT_TRUE(spec.mounts[1].copy_up);

  const ResourceLimits limits =
      parse_oci_resources(json{{"memory", {{"limit", 1 << 21}}}, {"pids", {{"limit", 7}}}}, "--resources");
  EXPECT_EQ(limits.memory_bytes, 1 << 21);
  EXPECT_EQ(limits.pids_limit, 7);
  EXPECT_FALSE(limits.cpu_shares);
  EXPECT_NE(error_of([] { parse_oci_resources(json{{"memory", {{"limit", "x"}}}}, "--resources"); })
                .find("--resources: memory.limit: expected"),
            std::string::npos);
  EXPECT_NE(
      error_of([] {
        parse_oci_resources(json{{"hugepageLimits", {{{"pageSize", "2MB"}, {"limit", 1}}}}}, "--resources");
      }).find("--resources: hugepageLimits: huge page limits cannot be changed on a live container"),
      std::string::npos);
}

TEST(RuntimeSpec, HugepageLimitsAndRootfsPropagationAreRead) {
  json document = minimal();
  document["linux"]["resources"]["hugepageLimits"] = {{{"pageSize", "2MB"}, {"limit", 8 << 20}},
                                                      {{"pageSize", "1GB"}, {"limit", 0}}};
  document["linux"]["rootfsPropagation"] = "rslave";
  const RuntimeSpec spec = parse_runtime_spec(document, "/bundle");
  ASSERT_EQ(spec.hugepage_limits.size(), 2u);
  EXPECT_EQ(spec.hugepage_limits[0].page_size, "2MB");
  EXPECT_EQ(spec.hugepage_limits[0].limit_bytes, 8u << 20);
  EXPECT_EQ(spec.hugepage_limits[1].page_size, "1GB");
  EXPECT_EQ(spec.rootfs_propagation, static_cast<unsigned long>(MS_SLAVE | MS_REC));
  EXPECT_EQ(parse_runtime_spec(minimal(), "/bundle").rootfs_propagation, 0u);

  document["linux"]["resources"]["hugepageLimits"] = {{{"pageSize", "2MB"}}};
  EXPECT_NE(parse_error(document).find("linux.resources.hugepageLimits[0]: needs \"pageSize\" and \"limit\""),
            std::string::npos)
      << parse_error(document);
  document["linux"]["resources"]["hugepageLimits"] = {{{"pageSize", "2MB"}, {"limit", -1}}};
  EXPECT_NE(parse_error(document).find("linux.resources.hugepageLimits[0].limit"), std::string::npos)
      << parse_error(document);
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
    EXPECT_NE(error.find(words), std::string::npos) << "wanted: " << words << "\ngot: " << error;
  };
  json document = minimal();
  document["hooks"] = {{"prestart", json::array({{{"path", "/bin/true"}, {"when", "always"}}})}};
  refused(document, "hooks.prestart[0].when: is not a hook field");

  document = minimal();
  document["hooks"] = {{"preStart", json::array()}};
  refused(document, "hooks.preStart: is not a hook");

  document = minimal();
  document["hooks"] = {{"poststop", json::array({{{"path", "/bin/true"}, {"timeout", 0}}})}};
  refused(document, "hooks.poststop[0].timeout: must be 1 second or more");

  document = minimal();
  document["linux"]["resources"]["devices"] = {{{"allow", false}, {"access", "rwm"}},
                                               {{"allow", true}, {"type", "c"}, {"major", 10}, {"minor", 229}},
                                               {{"allow", false}, {"type", "c"}, {"major", 10}, {"minor", 229}}};
  refused(document, "linux.resources.devices[2]: a deny rule after an allow rule is not supported");

  document = minimal();
  document["linux"]["resources"]["devices"] = {{{"allow", false}, {"access", "rwm"}},
                                               {{"allow", true}, {"type", "c"}, {"access", "rwx"}}};
  refused(document, "linux.resources.devices[1].access: \"rwx\" is not some of r, w and m");

  document = minimal();
  document["linux"]["devices"] = {{{"path", "/dev/fuse"}, {"type", "c"}}};
  refused(document, "linux.devices[0]: a \"c\" device needs \"major\" and \"minor\"");

  document = minimal();
  document["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}};
  refused(document, "linux.uidMappings: needs a new \"user\" namespace");

  document = minimal();
  document["process"]["capabilities"]["effective"] = json::array();
  refused(document, "process.capabilities.effective: must equal \"permitted\"");

  document = minimal();
  document["mounts"][1]["options"].push_back("idmap");
  refused(document, "an idmapped mount must be a bind mount");

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
