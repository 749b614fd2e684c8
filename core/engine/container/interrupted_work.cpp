#include "engine/container/interrupted_work.hpp"

#include "engine/container/container_store.hpp"
#include "engine/image/image_store.hpp"
#include "engine/volume/volume_store.hpp"

namespace mcore::engine {

ReclaimReport reclaim_interrupted_work(Engine& engine) {
  ReclaimReport report;
  const auto add = [&](std::vector<std::string> lines) {
    report.removed.insert(report.removed.end(), std::make_move_iterator(lines.begin()),
                          std::make_move_iterator(lines.end()));
  };
  ImageStore images(engine.config().data_root);
  {
    const FileLock collecting = images.hold_for_collection();  // no pull, load, import or commit runs
    add(images.remove_unfinished_blobs(report.blob_bytes));
  }
  add(engine.storage()->sweep_interrupted());
  VolumeStore volumes(engine.config().data_root);
  {
    const FileLock held = volumes.lock(FileLock::Mode::exclusive);
    add(volumes.remove_abandoned());
  }
  add(ContainerStore(engine.config().data_root).remove_abandoned());
  return report;
}

}  // namespace mcore::engine
