#include "engine/container/container_user_namespace.hpp"

#include "mcore/error.hpp"

namespace mcore::engine {
namespace {

IdMap parse_map(const std::vector<std::string>& lines, std::string_view flag) {
  IdMap map = parse_id_map_lines(lines, flag);
  check_id_map(map, flag);
  // The init sets up the root filesystem as the container's root: it must have an id.
  if (!host_id_of(map, 0)) {
    throw Error(std::string(flag) + " does not map the container's root (id 0)", 0,
                "add a line that starts at 0, e.g. " + std::string(flag) + " 0:100000:65536");
  }
  return map;
}

}  // namespace

void resolve_user_namespace(const ContainerRequest& request, ContainerSpec& spec) {
  const std::string mode = request.userns.value_or("host");
  const bool maps_given = !request.uid_maps.empty() || !request.gid_maps.empty();
  if (mode == "auto" || mode == "private") {
    throw Error(
        "--userns=" + mode + " is not supported yet", 0,
        "give the container's ids with --uidmap CTR:HOST:N (and --gidmap), e.g. --uidmap 0:100000:65536");
  }
  if (mode != "host" && !mode.empty()) {
    throw Error("invalid --userns \"" + mode + "\"", 0, "use --userns=host, or give --uidmap and --gidmap");
  }
  if (!maps_given) return;
  if (request.userns && mode == "host") {
    throw Error("conflicting options: --userns=host and --uidmap/--gidmap", 0,
                "drop --userns=host to give the container a user namespace of its own");
  }
  if (request.uid_maps.empty()) {
    throw Error("--gidmap needs a --uidmap", 0,
                "give the container's user ids too, e.g. --uidmap 0:100000:65536");
  }
  // What a user namespace's root may not do: create device nodes (every host device for --privileged)
  // or mount a sysfs for a network namespace it does not own.
  if (spec.privileged) {
    throw Error("--privileged cannot be combined with --uidmap yet", 0,
                "drop --privileged, or run the container in the host's user namespace");
  }
  if (spec.network == NetworkMode::host) {
    throw Error("--network host cannot be combined with --uidmap yet", 0,
                "use --network none or a bridge network, or drop --uidmap");
  }
  spec.uid_map = parse_map(request.uid_maps, "--uidmap");
  spec.gid_map = request.gid_maps.empty() ? spec.uid_map : parse_map(request.gid_maps, "--gidmap");
}

}  // namespace mcore::engine
