#pragma once
// What an import or load added to the stores, taken out again unless the operation completes: a failed
// `mcore load` or `mcore import` leaves the image store and the layer store as it found them.
#include <string>
#include <vector>

#include "engine/image/image_store.hpp"
#include "mcore/storage_driver.hpp"

namespace mcore::engine {

class StoreRollback {
 public:
  StoreRollback(ImageStore& store, StorageDriver& storage) : store_(store), storage_(storage) {}
  ~StoreRollback();
  StoreRollback(const StoreRollback&) = delete;
  StoreRollback& operator=(const StoreRollback&) = delete;

  // Record something this operation created (that was not there before).
  void added_blob(const std::string& digest) { blobs_.push_back(digest); }
  void added_layer(const std::string& diff_id) { layers_.push_back(diff_id); }
  const std::vector<std::string>& blobs() const { return blobs_; }

  // The operation completed: keep everything.
  void commit() { committed_ = true; }

 private:
  ImageStore& store_;
  StorageDriver& storage_;
  std::vector<std::string> blobs_;
  std::vector<std::string> layers_;
  bool committed_ = false;
};

}  // namespace mcore::engine
