#include "cli/verbs.hpp"

namespace mcore::cli {

const std::vector<Verb>& all_verbs() {
  static const std::vector<Verb> verbs = {
      {"run", "Run a command in a new container", run_main},
      {"exec", "Execute a command in a running container", exec_main},
      {"ps", "List containers", ps_main},
      {"start", "Start one or more stopped containers", start_main},
      {"stop", "Stop one or more running containers", stop_main},
      {"restart", "Restart one or more containers", restart_main},
      {"kill", "Kill one or more running containers", kill_main},
      {"rm", "Remove one or more containers", rm_main},
      {"pause", "Pause all processes within one or more containers", pause_main},
      {"unpause", "Unpause all processes within one or more containers", unpause_main},
      {"wait", "Block until one or more containers stop, then print their exit codes", wait_main},
      {"logs", "Fetch the logs of a container", logs_main},
      {"prune", "Remove stopped containers and what crashes left behind", container_prune_main},
      {"boot", "Restart what restart policies ask for after a crash or a reboot (run at boot)", boot_main},
      {"pull", "Download an image from a registry", pull_main},
      {"login", "Log in to a registry", login_main},
      {"logout", "Log out from a registry", logout_main},
      {"images", "List images", images_main},
      {"rmi", "Remove one or more images", rmi_main},
      {"image", "Manage images (ls, prune)", image_main},
      {"import", "Import a root filesystem tarball as an image", import_main},
      {"commit", "Create a new image from a container's changes", commit_main},
      {"save", "Save images to a tar archive (docker-archive or oci-archive)", save_main},
      {"load", "Load images from a tar archive", load_main},
      {"network", "Manage networks (create, ls, inspect, rm, prune)", network_main},
      {"volume", "Manage volumes (create, ls, inspect, rm, prune)", volume_main},
      {"up", "Create and start a deployment's services, networks and volumes from a file", up_main},
      {"down", "Remove a deployment's containers and networks (and volumes with -v)", down_main},
      {"config", "Check a deployment file (config validate)", config_main},
      {"inspect", "Return low-level information on containers and images", inspect_main},
      {"rename", "Rename a container", rename_main},
      {"stats", "Display a live stream of containers' resource usage", stats_main},
      {"top", "Display the running processes of a container", top_main},
      {"plugins", "List the driver plugins found and whether mcore can load them", plugins_main},
      {"info", "Show the configuration, the drivers in use and what the host supports", info_main},
      {"version", "Show the mcore version", version_main},
  };
  return verbs;
}

std::string verb_summary(const std::string& name) {
  for (const auto& verb : all_verbs()) {
    if (name == verb.name) return verb.summary;
  }
  return "";
}

}  // namespace mcore::cli
