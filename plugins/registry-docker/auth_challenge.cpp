#include "auth_challenge.hpp"

#include <cctype>

namespace mcore::registry {

namespace {

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}
  bool done() const { return pos_ >= text_.size(); }
  char peek() const { return done() ? '\0' : text_[pos_]; }
  void skip_spaces() {
    while (!done() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }
  void skip_separators() {
    while (!done() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == ',')) ++pos_;
  }
  std::string token() {
    const auto start = pos_;
    while (!done() && is_token_char(text_[pos_])) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }
  // A quoted-string with backslash escapes; an unterminated one runs to the end.
  std::string quoted() {
    std::string value;
    ++pos_;
    while (!done() && text_[pos_] != '"') {
      if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
      value += text_[pos_++];
    }
    if (!done()) ++pos_;
    return value;
  }
  // token68 or an unquoted value: everything up to the next comma or space.
  std::string bare() {
    const auto start = pos_;
    while (!done() && text_[pos_] != ',' && text_[pos_] != ' ' && text_[pos_] != '\t') ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }
  std::size_t pos() const { return pos_; }
  void seek(std::size_t pos) { pos_ = pos; }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

std::vector<AuthChallenge> parse_www_authenticate(std::string_view header) {
  std::vector<AuthChallenge> challenges;
  Scanner in(header);
  while (true) {
    in.skip_separators();
    if (in.done()) break;
    auto scheme = in.token();
    if (scheme.empty()) {
      in.bare();  // garbage: skip it
      if (!in.done()) in.seek(in.pos() + (in.peek() == ',' || in.peek() == ' ' ? 1 : 0));
      continue;
    }
    AuthChallenge challenge{lower(std::move(scheme)), {}};
    // Parameters until a token that is not followed by '=' (the next challenge's scheme).
    while (true) {
      in.skip_separators();
      if (in.done()) break;
      const auto mark = in.pos();
      auto key = in.token();
      in.skip_spaces();
      if (key.empty() || in.peek() != '=') {
        in.seek(mark);
        if (key.empty()) in.bare();
        break;
      }
      in.seek(in.pos() + 1);
      in.skip_spaces();
      std::string value = in.peek() == '"' ? in.quoted() : in.bare();
      challenge.params[lower(std::move(key))] = std::move(value);
    }
    challenges.push_back(std::move(challenge));
  }
  return challenges;
}

}  // namespace mcore::registry
