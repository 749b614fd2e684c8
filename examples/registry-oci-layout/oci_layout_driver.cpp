#include "oci_layout_driver.hpp"

#include <algorithm>
#include <set>

#include "mcore/config_section.hpp"
#include "mcore/error.hpp"

namespace oci_layout {

namespace {

namespace fs = std::filesystem;

// Repositories parsed by the engine are safe path components already; a driver still refuses anything
// that could step out of the root, whoever built the reference.
bool is_safe_repository(const std::string& repository) {
  if (repository.empty() || repository.front() == '/' || repository.back() == '/') return false;
  for (std::size_t start = 0; start <= repository.size();) {
    const auto end = std::min(repository.find('/', start), repository.size());
    const auto part = repository.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

std::string shown(const mcore::ImageReference& reference) { return mcore::familiar_name(reference); }

nlohmann::json parse_manifest(const std::string& bytes, const fs::path& file) {
  auto document = nlohmann::json::parse(bytes, nullptr, false);
  if (!document.is_object()) {
    throw mcore::Error(file.string() + " is not a JSON object", 0,
                       "the layout is damaged; copy the image into it again");
  }
  return document;
}

}  // namespace

OciLayoutRegistryDriver::OciLayoutRegistryDriver(const mcore::HostContext& context)
    : logger_(context.logger ? context.logger->clone("oci-layout")
                             : std::make_shared<spdlog::logger>("oci-layout")) {
  mcore::ConfigSection config(context.config, context.config_path.empty() ? "registry" : context.config_path);
  const auto root = config.get_string("root");
  root_key_ = config.key_path("root");
  config.reject_unknown_keys();
  if (!root || root->empty()) {
    throw mcore::Error(root_key_ + ": missing: the oci-layout driver needs the directory its layouts are in",
                       0, "set \"" + config.path() + "\": {\"root\": \"/srv/oci\"} in the config file");
  }
  root_ = *root;
  if (!root_.is_absolute()) {
    throw mcore::Error(root_key_ + ": \"" + *root + "\" is not an absolute path", 0,
                       "write the full path, starting with /");
  }
}

OciLayout OciLayoutRegistryDriver::layout_for(const mcore::ImageReference& reference) const {
  if (!is_safe_repository(reference.repository)) {
    throw mcore::Error(
        "repository \"" + reference.repository + "\" cannot name a directory below " + root_.string(), 0,
        "use a repository of lowercase path components, such as library/busybox");
  }
  std::error_code error;
  if (!fs::is_directory(root_, error)) {
    throw mcore::Error(root_key_ + ": " + root_.string() + " is not a directory", 0,
                       "create it and copy images into it, or correct " + root_key_);
  }
  const fs::path dir = root_ / reference.repository;
  if (!fs::is_directory(dir, error)) {
    throw mcore::Error("no OCI layout for " + shown(reference) + ": " + dir.string() + " does not exist", 0,
                       "copy the image there, e.g. skopeo copy docker://IMAGE oci:" + dir.string() + ":" +
                           (reference.tag.empty() ? "TAG" : reference.tag));
  }
  return OciLayout(dir);
}

mcore::ContentDescriptor OciLayoutRegistryDriver::top_descriptor(const OciLayout& layout,
                                                                 const mcore::ImageReference& reference,
                                                                 const mcore::Platform& platform) const {
  // A digest wins over a tag given with it, as in Docker.
  if (!reference.digest.empty()) {
    const auto file = layout.blob_path(reference.digest);
    std::error_code error;
    if (!fs::exists(file, error)) {
      throw mcore::Error(
          "manifest for " + shown(reference) + " not found: " + file.string() + " does not exist", 0,
          "check the digest, or copy the image into " + layout.dir().string());
    }
    mcore::ContentDescriptor descriptor;
    descriptor.digest = reference.digest;
    return descriptor;
  }
  std::vector<IndexEntry> tagged;
  std::set<std::string> names;
  for (auto& entry : layout.index()) {
    const auto name = ref_name(entry);
    if (!name.empty()) names.insert(name);
    if (name == reference.tag) tagged.push_back(std::move(entry));
  }
  if (tagged.empty()) {
    std::string listed;
    for (const auto& name : names) listed += (listed.empty() ? "" : ", ") + name;
    throw mcore::Error("manifest for " + shown(reference) + " not found: no entry of " +
                           (layout.dir() / "index.json").string() + " has ref name \"" + reference.tag +
                           "\" (" + (listed.empty() ? "it names none" : "it names " + listed) + ")",
                       0,
                       "pull a tag the layout has, or copy the image in: skopeo copy docker://IMAGE oci:" +
                           layout.dir().string() + ":" + reference.tag);
  }
  // Some tools tag one entry per platform instead of writing a nested index.
  if (tagged.size() == 1) return tagged.front().descriptor;
  return select_platform(tagged, platform, "tag \"" + reference.tag + "\" of " + layout.dir().string())
      .descriptor;
}

mcore::ResolvedManifest OciLayoutRegistryDriver::resolve(const mcore::ImageReference& reference,
                                                         const mcore::Platform& platform) {
  const auto wanted = platform.architecture.empty() ? host_platform() : platform;
  const auto layout = layout_for(reference);
  auto top = top_descriptor(layout, reference, wanted);
  mcore::ResolvedManifest resolved;
  resolved.manifest_bytes = layout.read_manifest(top);
  auto document = parse_manifest(resolved.manifest_bytes, layout.blob_path(top.digest));
  top.media_type = media_type_of(document, top.media_type);
  top.size = static_cast<std::int64_t>(resolved.manifest_bytes.size());

  if (is_index_media_type(top.media_type)) {
    const auto what = "image index " + layout.blob_path(top.digest).string();
    const auto entry = select_platform(parse_index(document, what), wanted, what).descriptor;
    resolved.index_digest = top.digest;
    resolved.manifest_bytes = layout.read_manifest(entry);
    document = parse_manifest(resolved.manifest_bytes, layout.blob_path(entry.digest));
    top = entry;
    top.media_type = media_type_of(document, entry.media_type);
  }
  if (!is_manifest_media_type(top.media_type)) {
    throw mcore::Error(layout.blob_path(top.digest).string() + " (for " + shown(reference) +
                           ") is not an image manifest but \"" + top.media_type + "\"",
                       0, "name an image manifest or an image index by tag or digest");
  }
  logger_->debug("{}: manifest {} from {}", shown(reference), top.digest, layout.dir().string());
  resolved.manifest = std::move(top);
  return resolved;
}

void OciLayoutRegistryDriver::fetch_blob(const mcore::ImageReference& reference,
                                         const mcore::ContentDescriptor& blob, std::uint64_t offset,
                                         mcore::ByteSink& sink) {
  layout_for(reference).stream_blob(blob, offset, sink);
}

void OciLayoutRegistryDriver::login(const std::string& registry, const mcore::Credentials&) {
  throw mcore::Error("cannot log in to " + registry + ": the oci-layout registry driver reads images from " +
                         root_.string() + " and has no credentials to check",
                     0, "no login is needed; to pull from a registry, select the docker registry driver");
}

bool OciLayoutRegistryDriver::logout(const std::string&) { return false; }

}  // namespace oci_layout
