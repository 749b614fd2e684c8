#include "cli/output.hpp"

#include <algorithm>

#include "mcore/error.hpp"

namespace mcore::cli {

namespace po = boost::program_options;

void add_format_option(po::options_description& options) {
  options.add_options()("format", po::value<std::string>()->default_value("table")->value_name("FORMAT"),
                        "output format: table or json");
}

OutputFormat output_format(const std::string& verb, const ParsedVerb& parsed) {
  const auto& format = parsed.options["format"].as<std::string>();
  if (format == "table") return OutputFormat::table;
  if (format == "json") return OutputFormat::json;
  throw Error("invalid --format \"" + format + "\"", 0,
              "use --format table or --format json with mcore " + verb);
}

void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows,
                 const std::string& indent) {
  auto cell = [](const std::string& text) -> const std::string& {
    static const std::string dash = "-";
    return text.empty() ? dash : text;
  };
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (std::size_t column = 0; column < row.size(); ++column) {
      widths[column] = std::max(widths[column], cell(row[column]).size());
    }
  }
  for (const auto& row : rows) {
    std::string line = indent;
    for (std::size_t column = 0; column < row.size(); ++column) {
      line += cell(row[column]);
      if (column + 1 < row.size()) line.append(widths[column] - cell(row[column]).size() + 2, ' ');
    }
    out << line << '\n';
  }
}

}  // namespace mcore::cli
