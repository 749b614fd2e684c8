#include "cli/verbs.hpp"

namespace mcore::cli {

const std::vector<Verb>& all_verbs() {
  static const std::vector<Verb> verbs = {
      {"run", "Run a command in a new container", run_main},
      {"pull", "Download an image from a registry", pull_main},
      {"login", "Log in to a registry", login_main},
      {"logout", "Log out from a registry", logout_main},
      {"images", "List images", images_main},
      {"rmi", "Remove one or more images", rmi_main},
      {"image", "Manage images (ls, prune)", image_main},
      {"import", "Import a root filesystem tarball as an image", import_main},
      {"save", "Save images to a tar archive (docker-archive or oci-archive)", save_main},
      {"load", "Load images from a tar archive", load_main},
      {"inspect", "Return low-level information on images", inspect_main},
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
