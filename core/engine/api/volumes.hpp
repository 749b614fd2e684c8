#pragma once
// Named volumes through the engine API (see engine.hpp).
#include "engine/api/engine.hpp"
#include "engine/volume/volume_control.hpp"
#include "engine/volume/volume_store.hpp"
