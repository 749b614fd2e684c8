#pragma once
// What a front end asks for when it creates a container, before the engine resolves it into a
// ContainerSpec: the image by name with a pull policy, the user's choices with every default left
// unset. `create_container(engine, request, ...)` does what `docker create` does with it: finds or
// pulls the image, applies the image's defaults (command, env, user, working directory, stop
// signal, exposed ports), names the container, checks the network, creates the volumes and writes the
// record, undoing its own work when a later step fails. The CLI's `run` fills a request from flags,
// a deployment's service fills one from its file (deploy/deployment_up.hpp); an API server would
// fill one from a request body.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/container/container_spec.hpp"
#include "engine/container/flag_syntax.hpp"
#include "engine/context/engine.hpp"
#include "engine/image/image_puller.hpp"

namespace mcore::engine {

// --pull: missing (pull when the store lacks the image), always, never.
enum class PullPolicy { missing, always, never };
// "missing", "always", "never"; throws Error naming the value.
PullPolicy parse_pull_policy(const std::string& text);

struct ContainerRequest {
  // The image (a reference, an id or an id prefix), or a root filesystem directory instead.
  std::string image;
  std::optional<std::filesystem::path> rootfs;
  PullPolicy pull = PullPolicy::missing;
  std::optional<Platform> platform;  // default: the host's

  std::optional<std::string> entrypoint;  // replaces the image's ("" clears it)
  std::vector<std::string> command;       // replaces the image's Cmd when not empty
  std::optional<std::string> name;        // default: a generated one
  std::optional<std::string> hostname;    // default: the short id, or the host's with NetworkMode::host
  std::optional<UserSpec> user;           // default: the image's User
  std::optional<std::string> working_dir;  // absolute; default: the image's WorkingDir
  std::vector<std::string> env;           // KEY=VALUE over the image's Env; Docker's defaults added
  std::map<std::string, std::string> labels;

  bool tty = false;
  bool interactive = false;
  bool detach = false;
  bool remove_on_exit = false;
  RestartPolicy restart;
  std::vector<std::string> log_options;  // KEY=VALUE over the config's log_opts
  std::optional<int> stop_signal;        // default: the image's StopSignal, else SIGTERM
  std::optional<int> stop_timeout;

  std::vector<VolumeSpec> volumes;  // parse_volume: named and anonymous ones are created here
  std::vector<TmpfsSpec> tmpfs;
  bool read_only_rootfs = false;

  std::optional<std::string> network;  // "none", "host" or a network's name; default: the config's
  std::vector<PortMapping> ports;
  bool publish_all = false;  // -P: the image's exposed ports on free host ports
  std::vector<std::string> dns;
  std::vector<std::string> dns_search;
  std::vector<std::string> dns_options;
  std::vector<std::string> extra_hosts;  // NAME:IP, "host-gateway" allowed
  std::vector<std::string> network_aliases;

  bool privileged = false;
  std::vector<std::string> cap_add;
  std::vector<std::string> cap_drop;
  SecurityOptions security;
  // --userns ("host"; unset: host) and Podman's --uidmap / --gidmap lines (CTR:HOST:N).
  std::optional<std::string> userns;
  std::vector<std::string> uid_maps;
  std::vector<std::string> gid_maps;
  ResourceLimits limits;
};

// Resolves `request` and writes the container's record (state created), its volumes created. Throws
// Error naming what was wrong; nothing is left behind then.
ContainerSpec create_container(Engine& engine, const ContainerRequest& request, PullSink* sink);

// Every field of `request`, for hashing (a deployment's config hash) and, later, an API's wire format.
nlohmann::json request_to_json(const ContainerRequest& request);

}  // namespace mcore::engine
