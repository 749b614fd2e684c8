#include "engine/container/container_lookup.hpp"

#include <cerrno>
#include <filesystem>

#include "mcore/error.hpp"

namespace mcore::engine {
namespace fs = std::filesystem;

std::string resolve_container_id(const ContainerStore& store, const std::string& reference) {
  const std::string hint = "see `mcore ps -a` for the containers that exist";
  if (reference.empty()) throw Error("no container named", 0, hint);
  const fs::path root = store.container_dir("x").parent_path();
  std::error_code error;
  // A name wins over an id prefix, as in Docker.
  if (reference.find('/') == std::string::npos) {
    fs::path link = root / "names" / reference;
    std::string id = fs::read_symlink(link, error).string();
    // Existence, not a read: a record that cannot be read is still found, and says so when it is used.
    if (!error && fs::exists(store.container_dir(id) / "container.json", error)) return id;
  }
  std::vector<std::string> matches;
  for (const auto& entry : fs::directory_iterator(root, error)) {
    std::string id = entry.path().filename().string();
    if (id.size() != 64 || id.compare(0, reference.size(), reference) != 0) continue;
    if (!fs::exists(entry.path() / "container.json")) continue;
    matches.push_back(id);
  }
  if (matches.size() == 1) return matches.front();
  if (matches.empty()) throw Error("no such container: " + reference, 0, hint);
  std::string listed;
  for (std::size_t i = 0; i < matches.size() && i < 3; ++i) listed += (i ? ", " : "") + matches[i].substr(0, 12);
  if (matches.size() > 3) listed += ", ...";
  throw Error("container id prefix \"" + reference + "\" is ambiguous: it matches " + std::to_string(matches.size()) +
                  " containers (" + listed + ")",
              0, "give more characters of the id, or the container's name");
}

}  // namespace mcore::engine
