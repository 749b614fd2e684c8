#pragma once
// "Did you mean ...?" for the words users bring from other runtimes: MyContainer's single-dash long
// flags (-name, -net, -mem 100m, -cpu 0.5, -cpuset 0,1), VME50's --memory-limit, and mistyped verbs.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/program_options.hpp>

namespace mcore::cli {

// The flag of `options` that the user probably meant by `written` ("-mem", "--memory-limit", "-name"),
// as "--memory"; nullopt when no flag is close. `written` is the flag without any "=value".
std::optional<std::string> suggest_flag(const boost::program_options::options_description& options,
                                        std::string_view written);

// True when `written` ("-mem", "-cpuset") is another runtime's spelling of a flag that `options` has
// under its own name: such a word is never read as a bundle of short flags (-m em).
bool is_foreign_flag(const boost::program_options::options_description& options, std::string_view written);

// The candidate closest to `word`: a unique one that starts with it, else the nearest within a few
// edits (a swap of two letters counts as one). nullopt when none is close enough.
std::optional<std::string> closest_word(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace mcore::cli
