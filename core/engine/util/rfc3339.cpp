#include "engine/util/rfc3339.hpp"

#include <cstdio>

namespace mcore::engine {

std::string format_rfc3339(const timespec& time) {
  tm utc{};
  ::gmtime_r(&time.tv_sec, &utc);
  char text[64];
  std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof text - n, ".%09ldZ", time.tv_nsec);
  return text;
}

std::string now_rfc3339() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return format_rfc3339(now);
}

}  // namespace mcore::engine
