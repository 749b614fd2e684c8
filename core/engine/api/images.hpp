#pragma once
// Images through the engine API (see engine.hpp): pull with progress (PullSink), import, load and
// save archives over file descriptors, the store's records, removal and collection.
#include "engine/api/engine.hpp"
#include "engine/image/image_archive_reader.hpp"
#include "engine/image/image_archive_writer.hpp"
#include "engine/image/image_gc.hpp"
#include "engine/image/image_import.hpp"
#include "engine/image/image_puller.hpp"
#include "engine/image/image_store.hpp"
#include "engine/io/fd_stream.hpp"
