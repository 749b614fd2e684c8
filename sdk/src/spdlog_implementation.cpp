// spdlog's implementation, compiled once into libmcore-sdk.so.
//
// Everything else builds with SPDLOG_COMPILED_LIB and sees only declarations. Header-only spdlog doubled
// the compile time of every file that logs (CI's build went from ~18 to ~32 minutes); linking Debian's
// libspdlog.so instead cost each mcore process ~1200 symbol bindings at start. Compiling the -inl.h files
// here gives the fast build without a library load on the start path.
#ifndef SPDLOG_COMPILED_LIB
#error "the SDK must be built with SPDLOG_COMPILED_LIB (see sdk/CMakeLists.txt)"
#endif

#include <spdlog/common-inl.h>
#include <spdlog/details/backtracer-inl.h>
#include <spdlog/details/log_msg-inl.h>
#include <spdlog/details/log_msg_buffer-inl.h>
#include <spdlog/details/null_mutex.h>
#include <spdlog/details/os-inl.h>
#include <spdlog/details/periodic_worker-inl.h>
#include <spdlog/details/registry-inl.h>
#include <spdlog/logger-inl.h>
#include <spdlog/pattern_formatter-inl.h>
#include <spdlog/sinks/ansicolor_sink-inl.h>
#include <spdlog/sinks/base_sink-inl.h>
#include <spdlog/sinks/sink-inl.h>
#include <spdlog/spdlog-inl.h>

#include <mutex>

// The sink templates the engine, the conformance kit and plugins instantiate: base_sink for every
// std::mutex sink (ostream_sink_mt...), and the colour console sinks the engine logs to (the registry's
// default logger uses the stdout one).
template class SPDLOG_API spdlog::sinks::base_sink<std::mutex>;
template class SPDLOG_API spdlog::sinks::base_sink<spdlog::details::null_mutex>;
template class SPDLOG_API spdlog::sinks::ansicolor_sink<spdlog::details::console_mutex>;
template class SPDLOG_API spdlog::sinks::ansicolor_stdout_sink<spdlog::details::console_mutex>;
template class SPDLOG_API spdlog::sinks::ansicolor_stderr_sink<spdlog::details::console_mutex>;
