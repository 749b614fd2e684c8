#pragma once
// Deployments (Compose files) through the engine API (see engine.hpp): read and check a file, bring it
// up and down.
#include "engine/api/engine.hpp"
#include "engine/deploy/deployment.hpp"
#include "engine/deploy/deployment_file.hpp"
#include "engine/deploy/deployment_up.hpp"
