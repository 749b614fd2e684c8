// inspect_container(): Docker's document shape, member order and values from a hand-built record.
#include "engine/container/container_inspect.hpp"

#include <sys/mount.h>

#include <gtest/gtest.h>

namespace mcore::engine {
namespace {

ContainerRecord sample_record() {
  ContainerRecord record;
  record.id = std::string(64, 'c');
  record.name = "web";
  record.state = ContainerState::running;
  record.created = "2024-01-01T10:00:00.123456789Z";
  record.started_at = "2024-01-01T10:00:01.000000000Z";
  record.pid = 4242;
  record.restart_count = 2;
  record.cgroup = "/mcore/" + record.id;

  ContainerSpec& spec = record.spec;
  spec.id = record.id;
  spec.name = record.name;
  spec.hostname = "web-host";
  spec.args = {"sh", "-c", "echo hi"};
  spec.env = {"PATH=/bin", "A=b"};
  spec.working_dir = "/srv";
  spec.user = "nobody";
  spec.group = "nogroup";
  spec.image = "alpine:3.19";
  spec.image_id = "sha256:" + std::string(64, 'd');
  spec.volumes = {{"/data", "/mnt/data", true, ""}, {"/logs", "/var/log", false, ""}};
  spec.tmpfs = {{"/run", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64m"}};
  spec.read_only_rootfs = true;
  spec.network = NetworkMode::host;
  spec.capabilities = (CapabilitySet{1} << 0) | (CapabilitySet{1} << 12);  // CHOWN, NET_ADMIN
  spec.no_new_privileges = true;
  spec.tty = true;
  spec.interactive = true;
  spec.remove_on_exit = true;
  spec.restart = {RestartPolicy::Kind::on_failure, 3};
  spec.log = {10 * 1024 * 1024, 3};
  spec.stop_signal = 2;
  spec.stop_timeout = 30;
  spec.limits.memory_bytes = 64 * 1024 * 1024;
  spec.limits.memory_swap_bytes = -1;
  spec.limits.nano_cpus = 1'500'000'000;
  spec.limits.cpu_shares = 512;
  spec.limits.cpuset_cpus = "0-1";
  spec.limits.pids_limit = 100;
  return record;
}

std::vector<std::string> keys_of(const nlohmann::ordered_json& object) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.push_back(key);
  return keys;
}

TEST(ContainerInspect, TopLevelMembersInDockersOrder) {
  const auto json = inspect_container(sample_record(), "/var/lib/mcore/containers/c/container.log");
  EXPECT_EQ(keys_of(json), (std::vector<std::string>{"Id", "Created", "Path", "Args", "State", "Image",
                                                     "LogPath", "Name", "RestartCount", "Platform",
                                                     "HostConfig", "Mounts", "Config", "NetworkSettings",
                                                     "LogWriteFailures"}));
  EXPECT_EQ(json["Id"], std::string(64, 'c'));
  EXPECT_EQ(json["Created"], "2024-01-01T10:00:00.123456789Z");
  EXPECT_EQ(json["Path"], "sh");
  EXPECT_EQ(json["Args"], nlohmann::ordered_json({"-c", "echo hi"}));
  EXPECT_EQ(json["Image"], "sha256:" + std::string(64, 'd'));
  EXPECT_EQ(json["Name"], "/web");
  EXPECT_EQ(json["RestartCount"], 2);
  EXPECT_EQ(json["LogPath"], "/var/lib/mcore/containers/c/container.log");
  // --network host: no address of its own, the mode listed as Docker lists it.
  EXPECT_EQ(json["NetworkSettings"]["IPAddress"], "");
  EXPECT_EQ(json["NetworkSettings"]["Networks"], nlohmann::ordered_json({{"host", nlohmann::ordered_json::object()}}));
  EXPECT_EQ(json["HostConfig"]["NetworkMode"], "host");
}

TEST(ContainerInspect, ANamedVolumeIsListedByNameAsDockerDoes) {
  ContainerRecord record = sample_record();
  record.spec.volumes = {{"/var/lib/mcore/volumes/cache/_data", "/cache", false, "cache"}};
  const auto json = inspect_container(record, "");
  EXPECT_EQ(json["HostConfig"]["Binds"], nlohmann::ordered_json({"cache:/cache"}));
  const auto& mount = json["Mounts"][0];
  EXPECT_EQ(mount["Type"], "volume");
  EXPECT_EQ(mount["Name"], "cache");
  EXPECT_EQ(mount["Source"], "/var/lib/mcore/volumes/cache/_data");
  EXPECT_EQ(mount["Driver"], "local");
}

TEST(ContainerInspect, NetworkSettingsOfAnAttachedContainer) {
  ContainerRecord record = sample_record();
  record.spec.network = NetworkMode::network;
  record.spec.network_name = "front";
  record.spec.ports = {{"127.0.0.1", 8080, 80, "tcp"}, {"", 0, 53, "udp"}};
  record.endpoint = NetworkEndpoint{"front", "10.89.0.5/24", "10.89.0.1", "02:42:0a:59:00:05",
                                    {{"127.0.0.1", 8080, 80, "tcp"}, {"", 40001, 53, "udp"}}};
  const auto json = inspect_container(record, "");
  const auto& settings = json["NetworkSettings"];
  EXPECT_EQ(settings["IPAddress"], "10.89.0.5");
  EXPECT_EQ(settings["IPPrefixLen"], 24);
  EXPECT_EQ(settings["Gateway"], "10.89.0.1");
  EXPECT_EQ(settings["MacAddress"], "02:42:0a:59:00:05");
  EXPECT_EQ(settings["Networks"]["front"]["IPAddress"], "10.89.0.5");
  // The ports as published (the chosen one filled in) and as asked for (chosen: "").
  EXPECT_EQ(settings["Ports"]["53/udp"][0]["HostPort"], "40001");
  EXPECT_EQ(settings["Ports"]["80/tcp"][0]["HostIp"], "127.0.0.1");
  EXPECT_EQ(json["HostConfig"]["PortBindings"]["53/udp"][0]["HostPort"], "");
  EXPECT_EQ(json["HostConfig"]["PortBindings"]["53/udp"][0]["HostIp"], "0.0.0.0");
  EXPECT_EQ(json["HostConfig"]["NetworkMode"], "front");
}

TEST(ContainerInspect, StateOfARunningContainer) {
  const auto state = inspect_container(sample_record(), "")["State"];
  EXPECT_EQ(keys_of(state),
            (std::vector<std::string>{"Status", "Running", "Paused", "Restarting", "OOMKilled", "Dead", "Pid",
                                      "ExitCode", "Error", "StartedAt", "FinishedAt"}));
  EXPECT_EQ(state["Status"], "running");
  EXPECT_EQ(state["Running"], true);
  EXPECT_EQ(state["Paused"], false);
  EXPECT_EQ(state["Pid"], 4242);
  EXPECT_EQ(state["StartedAt"], "2024-01-01T10:00:01.000000000Z");
  EXPECT_EQ(state["FinishedAt"], "0001-01-01T00:00:00Z");
}

TEST(ContainerInspect, PausedCountsAsRunningAndExitedKeepsItsCode) {
  auto paused = sample_record();
  paused.state = ContainerState::paused;
  const auto paused_state = inspect_container(paused, "")["State"];
  EXPECT_EQ(paused_state["Status"], "paused");
  EXPECT_EQ(paused_state["Running"], true);
  EXPECT_EQ(paused_state["Paused"], true);

  auto exited = sample_record();
  exited.state = ContainerState::exited;
  exited.exit_code = 137;
  exited.oom_killed = true;
  exited.finished_at = "2024-01-01T11:00:00.000000000Z";
  const auto state = inspect_container(exited, "")["State"];
  EXPECT_EQ(state["Status"], "exited");
  EXPECT_EQ(state["Running"], false);
  EXPECT_EQ(state["Pid"], 0);  // a stale pid is never shown for a container that is not running
  EXPECT_EQ(state["ExitCode"], 137);
  EXPECT_EQ(state["OOMKilled"], true);
  EXPECT_EQ(state["FinishedAt"], "2024-01-01T11:00:00.000000000Z");

  auto created = sample_record();
  created.state = ContainerState::created;
  created.started_at.clear();
  EXPECT_EQ(inspect_container(created, "")["State"]["StartedAt"], "0001-01-01T00:00:00Z");
}

TEST(ContainerInspect, HostConfigCarriesLimitsAndPolicies) {
  const auto host = inspect_container(sample_record(), "")["HostConfig"];
  EXPECT_EQ(host["Memory"], 64 * 1024 * 1024);
  EXPECT_EQ(host["MemorySwap"], -1);
  EXPECT_EQ(host["NanoCpus"], 1'500'000'000);
  EXPECT_EQ(host["CpuShares"], 512);
  EXPECT_EQ(host["CpusetCpus"], "0-1");
  EXPECT_EQ(host["CpusetMems"], "");
  EXPECT_EQ(host["PidsLimit"], 100);
  EXPECT_EQ(host["Privileged"], false);
  EXPECT_EQ(host["ReadonlyRootfs"], true);
  EXPECT_EQ(host["AutoRemove"], true);
  EXPECT_EQ(host["NetworkMode"], "host");
  EXPECT_EQ(host["RestartPolicy"],
            nlohmann::ordered_json({{"Name", "on-failure"}, {"MaximumRetryCount", 3}}));
  EXPECT_EQ(host["LogConfig"]["Type"], "json-file");
  EXPECT_EQ(host["LogConfig"]["Config"],
            nlohmann::ordered_json({{"max-size", "10485760"}, {"max-file", "3"}}));
  EXPECT_EQ(host["Binds"], nlohmann::ordered_json({"/data:/mnt/data:ro", "/logs:/var/log"}));
  EXPECT_EQ(host["Tmpfs"], nlohmann::ordered_json({{"/run", "rw,noexec,nosuid,nodev,size=64m"}}));
  EXPECT_EQ(host["Capabilities"], nlohmann::ordered_json({"CAP_CHOWN", "CAP_NET_ADMIN"}));
  EXPECT_EQ(host["SecurityOpt"], nlohmann::ordered_json({"no-new-privileges"}));
}

TEST(ContainerInspect, UnsetLimitsReadAsDockersDefaults) {
  auto record = sample_record();
  record.spec.limits = {};
  record.spec.volumes.clear();
  record.spec.log = {};
  record.spec.restart = {};
  const auto host = inspect_container(record, "")["HostConfig"];
  EXPECT_EQ(host["Memory"], 0);
  EXPECT_EQ(host["NanoCpus"], 0);
  EXPECT_TRUE(host["PidsLimit"].is_null());
  EXPECT_TRUE(host["Binds"].is_null());
  EXPECT_EQ(host["LogConfig"]["Config"], nlohmann::ordered_json::object());
  EXPECT_EQ(host["RestartPolicy"]["Name"], "no");
}

TEST(ContainerInspect, ConfigAndMounts) {
  const auto json = inspect_container(sample_record(), "");
  const auto& config = json["Config"];
  EXPECT_EQ(config["Hostname"], "web-host");
  EXPECT_EQ(config["User"], "nobody:nogroup");
  EXPECT_EQ(config["Env"], nlohmann::ordered_json({"PATH=/bin", "A=b"}));
  EXPECT_EQ(config["Cmd"], nlohmann::ordered_json({"sh", "-c", "echo hi"}));
  EXPECT_EQ(config["Image"], "alpine:3.19");
  EXPECT_EQ(config["WorkingDir"], "/srv");
  EXPECT_EQ(config["Tty"], true);
  EXPECT_EQ(config["OpenStdin"], true);
  EXPECT_EQ(config["StopSignal"], "SIGINT");
  EXPECT_EQ(config["StopTimeout"], 30);

  const auto& mounts = json["Mounts"];
  ASSERT_EQ(mounts.size(), 3u);
  EXPECT_EQ(mounts[0]["Type"], "bind");
  EXPECT_EQ(mounts[0]["Source"], "/data");
  EXPECT_EQ(mounts[0]["Destination"], "/mnt/data");
  EXPECT_EQ(mounts[0]["RW"], false);
  EXPECT_EQ(mounts[1]["RW"], true);
  EXPECT_EQ(mounts[2]["Type"], "tmpfs");
  EXPECT_EQ(mounts[2]["Destination"], "/run");
  EXPECT_EQ(mounts[2]["RW"], true);
}

}  // namespace
}  // namespace mcore::engine
