#pragma once
// The OCI runtime's door (mcore-oci, core/oci): runc's verbs on a bundle (OciRuntime), the documents
// `spec` and `features` print, the runtime-spec version, signal names as `kill` takes them, and the
// time format of the log.
#include "engine/oci/oci_runtime.hpp"
#include "engine/oci/oci_state.hpp"
#include "engine/oci/runtime_spec.hpp"
#include "engine/util/rfc3339.hpp"
#include "engine/util/signal_names.hpp"
