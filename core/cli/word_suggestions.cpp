#include "cli/word_suggestions.hpp"

#include <algorithm>
#include <utility>

namespace mcore::cli {

namespace po = boost::program_options;

namespace {

// Other runtimes' names for our flags, without dashes: MyContainer (-mem, -cpu, -cpuset, -net, -pids)
// and VME50 (--memory-limit, --cpu-limit).
constexpr std::pair<std::string_view, std::string_view> kForeignSpellings[] = {
    {"mem", "memory"},        {"memory-limit", "memory"}, {"mem-limit", "memory"},
    {"cpu", "cpus"},          {"cpu-limit", "cpus"},      {"cpuset", "cpuset-cpus"},
    {"net", "network"},       {"pids", "pids-limit"},     {"pid-limit", "pids-limit"},
    {"ports", "publish"},     {"port", "publish"},        {"volumes", "volume"},
};

std::string_view without_dashes(std::string_view written) {
  while (written.starts_with('-')) written.remove_prefix(1);
  return written;
}

std::optional<std::string> foreign_target(const po::options_description& options, std::string_view word) {
  for (const auto& [spelling, ours] : kForeignSpellings) {
    if (word == spelling && options.find_nothrow(std::string(ours), false) != nullptr) return std::string(ours);
  }
  return std::nullopt;
}

std::vector<std::string> long_names(const po::options_description& options) {
  std::vector<std::string> names;
  for (const auto& option : options.options()) {
    if (!option->long_name().empty()) names.push_back(option->long_name());
  }
  return names;
}

// Optimal string alignment distance: Levenshtein plus adjacent transpositions.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

bool is_foreign_flag(const po::options_description& options, std::string_view written) {
  return foreign_target(options, without_dashes(written)).has_value();
}

std::optional<std::string> suggest_flag(const po::options_description& options, std::string_view written) {
  const std::string_view word = without_dashes(written);
  if (word.empty()) return std::nullopt;
  if (auto ours = foreign_target(options, word)) return "--" + *ours;
  if (const auto* option = options.find_nothrow(std::string(word), false); option && !option->long_name().empty()) {
    return "--" + option->long_name();  // -name, or an alias such as --net
  }
  if (auto closest = closest_word(word, long_names(options))) return "--" + *closest;
  return std::nullopt;
}

std::optional<std::string> closest_word(std::string_view word, const std::vector<std::string>& candidates) {
  if (word.size() < 2) return std::nullopt;
  std::vector<std::string> extending;
  for (const auto& candidate : candidates) {
    if (candidate.starts_with(word)) extending.push_back(candidate);
  }
  if (extending.size() == 1) return extending.front();
  // Short words tolerate one edit, longer ones two ("imgaes" finds images).
  const std::size_t allowed = word.size() <= 4 ? 1 : 2;
  std::optional<std::string> best;
  std::size_t best_distance = allowed + 1;
  for (const auto& candidate : candidates) {
    const std::size_t distance = edit_distance(word, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

}  // namespace mcore::cli
