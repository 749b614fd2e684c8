#pragma once
// How verbs print what they report: aligned tables for people, JSON (--format json) for scripts.
#include <ostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "cli/verb_options.hpp"

namespace mcore::cli {

enum class OutputFormat { table, json };

// Adds --format (table|json) to a verb's options.
void add_format_option(boost::program_options::options_description& options);

// The --format the user chose. Throws Error naming the bad value.
OutputFormat output_format(const std::string& verb, const ParsedVerb& parsed);

// Prints `rows` (the first one is the header) in columns two spaces apart, each line prefixed with
// `indent`; the last column is not padded. Empty cells print as "-".
void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows,
                 const std::string& indent = "");

}  // namespace mcore::cli
