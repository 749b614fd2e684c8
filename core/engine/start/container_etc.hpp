#pragma once
// A container's /etc/hosts, /etc/resolv.conf and /etc/hostname: files in its record directory that the
// init bind-mounts over the image's. They are rewritten in place (the bind mount pins the inode) when the
// container gets its address and whenever a peer on its user network comes or goes, so containers on
// one user network resolve each other by name.
#include <filesystem>
#include <string>

#include "engine/context/engine.hpp"
#include "engine/container/container_store.hpp"

namespace mcore::engine {

struct EtcFilePaths {
  std::filesystem::path hosts;
  std::filesystem::path resolv_conf;
  std::filesystem::path hostname;
};
EtcFilePaths etc_file_paths(const ContainerStore& store, const std::string& id);

// An overlay layer holding only the mount points (etc/, and etc/hosts, etc/hostname, etc/resolv.conf as
// empty files), stacked just below the container's writable layer, so the init's bind mounts create
// nothing in that layer: what the container itself changed (what commit and diff see) stays its own,
// as with Docker's init layer. Created on the container's first start.
std::filesystem::path etc_mount_point_layer(const ContainerStore& store, const std::string& id);

// Writes the three files before the init starts. A container that joins a network has no address yet:
// its hosts file gets its line from write_hosts() once attached.
void write_etc_files(const ContainerStore& store, const ContainerSpec& spec);

// Rewrites the hosts file of `record` with its endpoint's address and, on a network other than the
// driver's default, the running peers there (taken under a lock shared by every container start and exit).
void write_hosts(Engine& engine, const ContainerStore& store, const ContainerRecord& record);

// Rewrites the hosts file of every running container on the network of `endpoint` (after one came or
// went), leaving out container `leaving` whatever its record still says; nothing on a default network.
void refresh_network_hosts(Engine& engine, const ContainerStore& store, const NetworkEndpoint& endpoint,
                           const std::string& leaving = "");

}  // namespace mcore::engine
