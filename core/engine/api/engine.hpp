#pragma once
// The engine API: the only engine headers a front end includes (tests/unit/engine_api_test.cpp checks
// that the CLI keeps to them). A front end holds one Engine (the config, the logger and the drivers,
// each loaded on first use) and calls the functions the headers beside this one gather:
//   containers.hpp   create from a ContainerRequest, start, attach, stop, kill, pause, remove, wait,
//                    exec, inspect, list, logs, commit, prune, boot
//   images.hpp       pull (with a PullSink for progress), import, load, save, list, remove, prune
//   volumes.hpp      create, list, remove, prune
//   deployments.hpp  read a deployment file, up, down
// Networks are the Network driver's own contract (engine.network(), sdk/include/mcore/network_driver.hpp);
// network_names lists them by name.
//
// How the front ends use it:
// - `mcore` (core/cli): one process per command; parses flags into a request, calls, prints.
// - `mcore-oci` (core/oci, runc's command line on a bundle) includes oci.hpp: config.json becomes the
//   same init plan `mcore run` executes (engine/oci/oci_plan), the Resource driver places the container,
//   and its state lives under its own --root, not in the container store.
// - rootless mcore: the same calls; the Engine's Config points at the user's roots and the config
//   selects rootless drivers, so the API does not change.
// - an API server: one long-lived Engine answering many clients. The stores take file locks for every
//   decision, so calls from several processes (and an API server beside the CLI) are safe; the Engine
//   loads its drivers lazily without a lock, so a threaded server loads them all before serving.
//   Requests have a JSON form (request_to_json) for the wire.
#include "engine/context/engine.hpp"
#include "engine/context/network_names.hpp"
#include "engine/util/exit_code_error.hpp"
