#include "engine/container/container_user_namespace.hpp"

#include <pwd.h>

#include "engine/context/rootless_namespace.hpp"
#include "engine/userns/id_range_allocation.hpp"
#include "engine/userns/rootless_id_map.hpp"
#include "engine/userns/subordinate_ids.hpp"
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

// The host ranges of one kind of id that containers' records hold.
std::vector<IdRange> ranges_in_use(const ContainerListing& listing, IdMap ContainerSpec::*map) {
  std::vector<IdRange> in_use;
  for (const auto& record : listing.records) {
    for (const auto& entry : record.spec.*map) in_use.push_back(entry.host_range());
  }
  return in_use;
}

IdMap pick_range(const std::vector<IdRange>& available, const std::vector<IdRange>& in_use,
                 const std::string& user, const char* file, const char* flag) {
  if (available.empty()) {
    throw Error("choosing the container's ids: user " + user + " has no subordinate ids in " + file, 0,
                "grant a range, e.g. useradd --system " + user +
                    " && usermod --add-subuids 1000000-1999999 "
                    "--add-subgids 1000000-1999999 " +
                    user + ", or name another user in the config's userns_user");
  }
  const auto range = first_free_range(available, in_use, kAutoIdRangeSize);
  if (!range) {
    throw Error(std::string("choosing the container's ids: every range of ") +
                    std::to_string(kAutoIdRangeSize) + " ids in " + file + " for user " + user +
                    " is taken by a container",
                0, std::string("remove containers, or grant ") + user + " more ids (usermod " + flag + ")");
  }
  return {{0, range->start, kAutoIdRangeSize}};
}

}  // namespace

namespace {

// The --uidmap/--gidmap lines (checked) into the spec. Returns false: the ids are given.
bool take_given_maps(const ContainerRequest& request, ContainerSpec& spec) {
  if (request.uid_maps.empty()) {
    throw Error("--gidmap needs a --uidmap", 0,
                "give the container's user ids too, e.g. --uidmap 0:100000:65536");
  }
  spec.uid_map = parse_map(request.uid_maps, "--uidmap");
  spec.gid_map = request.gid_maps.empty() ? spec.uid_map : parse_map(request.gid_maps, "--gidmap");
  return false;
}

bool resolve_mode(const ContainerRequest& request, std::string_view default_mode, ContainerSpec& spec) {
  const bool maps_given = !request.uid_maps.empty() || !request.gid_maps.empty();
  const std::string mode(request.userns ? std::string_view(*request.userns) : maps_given ? "" : default_mode);
  if (mode != "host" && mode != "auto" && mode != "private" && !mode.empty()) {
    throw Error("invalid --userns \"" + mode + "\"", 0,
                "use --userns=host, --userns=private or --userns=auto, or give --uidmap");
  }
  // private: a namespace of its own, with the given maps or else a range chosen as for auto.
  if (maps_given && mode != "private" && !mode.empty()) {
    throw Error("conflicting options: --userns=" + mode + " and --uidmap/--gidmap", 0,
                "give either --userns=" + mode + " or the maps (--userns=private takes both)");
  }
  if (maps_given) return take_given_maps(request, spec);
  if (mode == "auto" || mode == "private") return true;
  return false;
}

}  // namespace

bool resolve_user_namespace(const ContainerRequest& request, std::string_view default_mode,
                            ContainerSpec& spec) {
  const bool choose_ids = resolve_mode(request, default_mode, spec);
  if (!choose_ids && !has_own_user_namespace(spec)) {
    for (const auto& volume : request.volumes) {
      if (volume.idmap) {
        throw Error(
            "volume " + volume.container_path + ": idmap needs a user namespace of the container's own", 0,
            "add --userns=auto or --uidmap, or drop idmap from -v");
      }
    }
  }
  return choose_ids;
}

void place_in_rootless_namespace(bool choose_ids, ContainerSpec& spec) {
  if (choose_ids) {
    throw Error("rootless mcore cannot choose a range of ids for --userns=auto or private", 0,
                "drop --userns: a rootless container has a namespace of its own already, where 0 is you and "
                "1 and up your subordinate ids");
  }
  if (has_own_user_namespace(spec)) {
    // Other ids than the namespace's own would need the layers idmapped, which the host's file
    // systems allow root only; chowning a copy of them is what mcore does not do.
    if (is_identity(spec.uid_map) && is_identity(spec.gid_map)) return;
    throw Error(
        "rootless mcore cannot map a container's ids elsewhere (--uidmap/--gidmap): its image's layers would "
        "need idmapped mounts, which only root may make",
        0,
        "drop --uidmap and --gidmap: a rootless container's root is you already, and its uid N your "
        "subordinate id N-1; or run mcore as root");
  }
  spec.uid_map = identity_of(own_uid_map());
  spec.gid_map = identity_of(own_gid_map());
}

void allocate_auto_id_maps(const ContainerStore& store, const std::string& user, std::string_view subuid_text,
                           std::string_view subgid_text, ContainerSpec& spec) {
  // A numeric line names the user by uid; a user that does not exist can still have named lines.
  std::uint32_t uid = 4294967295U;
  if (const passwd* entry = ::getpwnam(user.c_str())) uid = entry->pw_uid;
  // Every record counts, a stopped container's too: its range is its own until `rm`. One that cannot
  // be read may hold any range: sharing it would let two containers at each other's files.
  const ContainerListing listing = store.list();
  if (!listing.unreadable.empty()) {
    throw Error("choosing the container's ids: the record of container " +
                    listing.unreadable.front().id.substr(0, 12) +
                    " cannot be read, so the ids it holds are unknown",
                0, "remove that container (mcore rm -f " + listing.unreadable.front().id.substr(0, 12) + ")");
  }
  spec.uid_map =
      pick_range(subordinate_ranges(subuid_text, user, uid), ranges_in_use(listing, &ContainerSpec::uid_map),
                 user, "/etc/subuid", "--add-subuids");
  spec.gid_map =
      pick_range(subordinate_ranges(subgid_text, user, uid), ranges_in_use(listing, &ContainerSpec::gid_map),
                 user, "/etc/subgid", "--add-subgids");
}

}  // namespace mcore::engine
