#pragma once
// mcore save: images from the store into one tar archive (image_archive.hpp describes the layout). The
// stored blobs are copied as they are, so manifests and their digests survive a save and load.
#include <string>
#include <vector>

#include "engine/image/image_archive.hpp"
#include "engine/image/image_store.hpp"
#include "mcore/io.hpp"

namespace mcore::engine {

struct ImageToSave {
  ImageRecord image;
  std::vector<std::string> names;  // normalised names to record; empty saves the image untagged
};

// Writes `images` (one entry per image id, names merged) to `out`. Every blob is looked up before the
// first byte is written and verified against its digest while it is copied. Throws Error; `out` then
// holds no end-of-archive marker, so no reader takes it for complete.
void write_image_archive(const ImageStore& store, const std::vector<ImageToSave>& images,
                         ArchiveFormat format, ByteSink& out);

}  // namespace mcore::engine
