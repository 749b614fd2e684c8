#pragma once
// The "oci-layout" registry driver: serves images from OCI image layouts on disk, for hosts without a
// registry (offline, air-gapped). Reference `[host/]repo:tag` reads the layout <root>/<repository> and
// the index.json entry whose org.opencontainers.image.ref.name is the tag; README.md has the details.
#include <filesystem>
#include <memory>
#include <string>

#include <spdlog/logger.h>

#include "mcore/host_context.hpp"
#include "mcore/registry_driver.hpp"
#include "oci_layout.hpp"

namespace oci_layout {

class OciLayoutRegistryDriver final : public mcore::RegistryDriver {
 public:
  // Reads the config section ({"root": "/srv/oci"}); throws mcore::Error on a bad one. Opens no file.
  explicit OciLayoutRegistryDriver(const mcore::HostContext& context);

  mcore::ResolvedManifest resolve(const mcore::ImageReference& reference,
                                  const mcore::Platform& platform) override;
  void fetch_blob(const mcore::ImageReference& reference, const mcore::ContentDescriptor& blob,
                  std::uint64_t offset, mcore::ByteSink& sink) override;
  // Always throws: a layout on disk has no credentials to check.
  void login(const std::string& registry, const mcore::Credentials& credentials) override;
  // Always false: nothing is ever saved.
  bool logout(const std::string& registry) override;

 private:
  // The layout `reference` maps to; throws mcore::Error naming the directory and the fix.
  OciLayout layout_for(const mcore::ImageReference& reference) const;
  // The index.json entry of the reference's tag, or its digest as a bare descriptor.
  mcore::ContentDescriptor top_descriptor(const OciLayout& layout, const mcore::ImageReference& reference,
                                          const mcore::Platform& platform) const;

  std::filesystem::path root_;
  std::string root_key_;  // "registry.root", for messages
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace oci_layout
