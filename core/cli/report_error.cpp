#include <cstdio>

#include "cli/verbs.hpp"

namespace mcore::cli {

void report_error(const Error& error) {
  std::string line = std::string("mcore: ") + error.what();
  if (!error.hint().empty()) line += "; " + error.hint();
  line += '\n';
  std::fputs(line.c_str(), stderr);
}

}  // namespace mcore::cli
