#include "engine/util/signal_names.hpp"

#include <signal.h>
#include <string.h>

#include <algorithm>
#include <cctype>

#include "mcore/error.hpp"

namespace mcore::engine {

int parse_signal(const std::string& text) {
  const Error invalid("invalid signal \"" + text + "\"", 0, "use a name such as SIGTERM, TERM or KILL, or a number");
  if (!text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); })) {
    if (text.size() > 3) throw invalid;
    int number = std::stoi(text);
    if (number < 1 || number >= NSIG) throw invalid;
    return number;
  }
  std::string name = text;
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::toupper(c); });
  if (name.rfind("SIG", 0) == 0) name.erase(0, 3);
  for (int number = 1; number < SIGRTMIN; ++number) {
    const char* abbreviation = ::sigabbrev_np(number);
    if (abbreviation != nullptr && name == abbreviation) return number;
  }
  throw invalid;
}

}  // namespace mcore::engine
