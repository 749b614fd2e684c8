#pragma once
// Times as Docker writes them: RFC 3339 in UTC with nanoseconds ("2026-11-23T10:00:00.123456789Z").
#include <ctime>
#include <string>

namespace mcore::engine {

std::string format_rfc3339(const timespec& time);
std::string now_rfc3339();

}  // namespace mcore::engine
