#include "engine/deploy/compose_interpolation.hpp"

#include <cctype>
#include <fstream>

#include "mcore/error.hpp"

extern char** environ;

namespace mcore::engine {

namespace {

bool name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The value of one ${...} body: NAME, or NAME followed by an operator and its word.
std::string expand(const std::string& body, const InterpolationVariables& variables) {
  std::size_t end = 0;
  if (body.empty() || !name_start(body[0])) {
    throw Error("invalid interpolation \"${" + body + "}\"", 0, "write ${NAME}, ${NAME:-default} or $$ for a $");
  }
  while (end < body.size() && name_char(body[end])) ++end;
  const std::string name = body.substr(0, end);
  const auto found = variables.find(name);
  const bool set = found != variables.end();
  const std::string value = set ? found->second : "";
  if (end == body.size()) return value;
  const bool colon = body[end] == ':';
  const std::size_t op_at = colon ? end + 1 : end;
  if (op_at >= body.size()) throw Error("invalid interpolation \"${" + body + "}\"", 0, "write ${NAME:-default}");
  const char op = body[op_at];
  const std::string word = body.substr(op_at + 1);
  const bool missing = !set || (colon && value.empty());
  switch (op) {
    case '-': return missing ? word : value;
    case '+': return missing ? "" : word;
    case '?':
      if (missing) {
        throw Error("required variable " + name + " is " + (set ? "empty" : "unset") + (word.empty() ? "" : ": " + word), 0,
                    "set it in the environment or in the .env file beside the deployment file");
      }
      return value;
    default:
      throw Error("invalid interpolation \"${" + body + "}\"", 0, "the operators are :- - :+ + :? ?");
  }
}

}  // namespace

InterpolationVariables interpolation_variables(const std::filesystem::path& dir) {
  InterpolationVariables variables;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string text = *entry;
    const auto equals = text.find('=');
    if (equals != std::string::npos) variables.emplace(text.substr(0, equals), text.substr(equals + 1));
  }
  std::ifstream in(dir / ".env");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto equals = line.find('=');
    if (equals == std::string::npos || equals == 0) continue;
    variables.emplace(line.substr(0, equals), line.substr(equals + 1));  // the environment wins
  }
  return variables;
}

std::string interpolate(const std::string& text, const InterpolationVariables& variables) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    const char next = text[i + 1];
    if (next == '$') {
      out += '$';
      ++i;
    } else if (next == '{') {
      const auto close = text.find('}', i + 2);
      if (close == std::string::npos) {
        throw Error("unclosed \"${\" in \"" + text + "\"", 0, "close it with }, or write $$ for a $");
      }
      out += expand(text.substr(i + 2, close - i - 2), variables);
      i = close;
    } else if (name_start(next)) {
      std::size_t end = i + 1;
      while (end < text.size() && name_char(text[end])) ++end;
      out += expand(text.substr(i + 1, end - i - 1), variables);
      i = end - 1;
    } else {
      out += '$';
    }
  }
  return out;
}

}  // namespace mcore::engine
