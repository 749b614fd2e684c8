#pragma once
// Signals as users write them for --stop-signal and kill -s: "SIGTERM", "TERM", "term" or "15".
#include <string>

namespace mcore::engine {

// Throws Error naming the value when it is not a signal this system knows.
int parse_signal(const std::string& text);

}  // namespace mcore::engine
