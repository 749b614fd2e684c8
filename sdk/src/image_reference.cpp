#include "mcore/image_reference.hpp"

#include <algorithm>
#include <string>

#include "mcore/error.hpp"

// Follows github.com/distribution/reference (grammar in reference.go, normalisation in normalize.go),
// hand-written so that each refusal can name its reason.
namespace mcore {

namespace {

constexpr std::string_view kDefaultRegistry = "docker.io";
constexpr std::string_view kLegacyRegistry = "index.docker.io";
constexpr std::string_view kOfficialPrefix = "library/";
constexpr std::size_t kNameMaxLength = 255;
constexpr std::size_t kTagMaxLength = 128;

constexpr std::string_view kFormatHint =
    "write [REGISTRY[:PORT]/]NAME[:TAG][@sha256:DIGEST], e.g. alpine, alpine:3.19, localhost:5000/app:1";

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
bool is_word(char c) { return is_alnum(c) || c == '_'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_lower_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }

[[noreturn]] void refuse(const std::string& reason, std::string hint = {}) {
  if (hint.empty()) hint = std::string(kFormatHint);
  throw Error("invalid reference format: " + reason, 0, std::move(hint));
}

std::string lowercase(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });
  return result;
}

// path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
bool is_path_component(std::string_view component) {
  std::size_t i = 0;
  const auto alnum_run = [&] {
    const std::size_t start = i;
    while (i < component.size() && is_lower_alnum(component[i])) ++i;
    return i > start;
  };
  if (!alnum_run()) return false;
  while (i < component.size()) {
    const char c = component[i];
    if (c == '.') {
      ++i;
    } else if (c == '_') {
      ++i;
      if (i < component.size() && component[i] == '_') ++i;
    } else if (c == '-') {
      while (i < component.size() && component[i] == '-') ++i;
    } else {
      return false;
    }
    if (!alnum_run()) return false;
  }
  return true;
}

// domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool is_domain_component(std::string_view component) {
  if (component.empty() || !is_alnum(component.front()) || !is_alnum(component.back())) return false;
  return std::all_of(component.begin(), component.end(), [](char c) { return is_alnum(c) || c == '-'; });
}

// host [":" port] where host is a dotted domain name, an IPv4 address, or "[" IPv6 "]".
bool is_registry(std::string_view registry) {
  std::string_view host = registry;
  std::string_view port;
  if (!host.empty() && host.front() == '[') {
    const std::size_t close = host.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    const std::string_view address = host.substr(1, close - 1);
    if (!std::all_of(address.begin(), address.end(), [](char c) { return is_hex(c) || c == ':'; }))
      return false;
    const std::string_view rest = host.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
      if (port.empty()) return false;
    }
  } else {
    const std::size_t colon = host.find(':');
    if (colon != std::string_view::npos) {
      port = host.substr(colon + 1);
      if (port.empty()) return false;
      host = host.substr(0, colon);
    }
    std::size_t start = 0;
    for (;;) {
      const std::size_t dot = host.find('.', start);
      if (!is_domain_component(host.substr(start, dot - start))) return false;
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
  }
  return std::all_of(port.begin(), port.end(), is_digit);
}

void check_repository(std::string_view path) {
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = path.find('/', start);
    const std::string_view component = path.substr(start, slash - start);
    if (component.empty()) refuse("repository name has an empty component");
    if (!is_path_component(component)) {
      if (is_path_component(lowercase(component))) {
        refuse("repository name must be lowercase",
               "write the name as \"" + lowercase(path) +
                   "\" (repository names are lowercase; tags may use capitals)");
      }
      refuse("repository name component \"" + std::string(component) +
             "\" may hold only a-z, 0-9 and single separators (., _, __, -) between them");
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
}

// tag := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
void check_tag(std::string_view tag) {
  if (tag.empty()) refuse("empty tag after ':'");
  if (tag.size() > kTagMaxLength) refuse("tag is longer than 128 characters");
  if (!is_word(tag.front())) refuse("tag must start with a letter, digit or '_'");
  if (!std::all_of(tag.begin(), tag.end(), [](char c) { return is_word(c) || c == '.' || c == '-'; })) {
    refuse("tag \"" + std::string(tag) + "\" may hold only letters, digits, '_', '.' and '-'");
  }
}

// algorithm ":" hex, where only sha256 (64 lowercase hex digits) is accepted.
void check_digest(std::string_view digest) {
  const std::size_t colon = digest.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == digest.size()) {
    refuse("digest must look like sha256:<64 hex digits>");
  }
  const std::string_view algorithm = digest.substr(0, colon);
  const std::string_view hex = digest.substr(colon + 1);
  const bool algorithm_ok =
      is_alpha(algorithm.front()) && std::all_of(algorithm.begin(), algorithm.end(), [](char c) {
        return is_alnum(c) || c == '+' || c == '.' || c == '-' || c == '_';
      });
  if (!algorithm_ok || !std::all_of(hex.begin(), hex.end(), is_hex)) {
    refuse("digest must look like sha256:<64 hex digits>");
  }
  if (algorithm != "sha256") {
    refuse("unsupported digest algorithm \"" + std::string(algorithm) + "\"",
           "refer to the image by its sha256 digest or by a tag");
  }
  if (hex.size() != 64) refuse("sha256 digest must have 64 hex digits, not " + std::to_string(hex.size()));
  if (!std::all_of(hex.begin(), hex.end(), is_lower_hex)) refuse("digest must be lowercase hex");
}

}  // namespace

ImageReference parse_image_reference(std::string_view text) {
  if (text.empty()) refuse("repository name must have at least one component");
  // A bare image ID is not a name; Docker refuses it so that it cannot shadow an ID.
  if (text.size() == 64 && std::all_of(text.begin(), text.end(), is_lower_hex)) {
    refuse("repository name cannot be a 64-character hexadecimal string",
           "refer to an image ID by itself (mcore images shows them), not as a name to pull");
  }

  ImageReference reference;
  std::string_view name = text;
  if (const std::size_t at = name.find('@'); at != std::string_view::npos) {
    reference.digest = std::string(name.substr(at + 1));
    check_digest(reference.digest);
    name = name.substr(0, at);
  }

  // The first component is a registry when it cannot be a Docker Hub user: it has '.' or ':', is
  // "localhost", or holds capitals (as distribution/reference decides).
  std::string_view remainder = name;
  if (const std::size_t slash = name.find('/'); slash != std::string_view::npos) {
    const std::string_view first = name.substr(0, slash);
    if (first.find_first_of(".:") != std::string_view::npos || first == "localhost" ||
        lowercase(first) != first) {
      if (!is_registry(first)) {
        refuse("registry \"" + std::string(first) + "\" is not a valid host[:port]");
      }
      reference.registry = std::string(first);
      remainder = name.substr(slash + 1);
    }
  }
  if (reference.registry.empty() || reference.registry == kLegacyRegistry) {
    reference.registry = std::string(kDefaultRegistry);
  }

  // Path components hold no ':', so any ':' left starts the tag.
  if (const std::size_t colon = remainder.find(':'); colon != std::string_view::npos) {
    reference.tag = std::string(remainder.substr(colon + 1));
    check_tag(reference.tag);
    remainder = remainder.substr(0, colon);
  }
  if (remainder.empty()) refuse("repository name must have at least one component");
  check_repository(remainder);

  reference.repository = std::string(remainder);
  if (reference.registry == kDefaultRegistry && remainder.find('/') == std::string_view::npos) {
    reference.repository = std::string(kOfficialPrefix) + reference.repository;
  }
  if (reference.registry.size() + 1 + reference.repository.size() > kNameMaxLength) {
    refuse("repository name must not be more than 255 characters");
  }
  if (reference.tag.empty() && reference.digest.empty()) reference.tag = "latest";
  return reference;
}

std::string to_string(const ImageReference& reference) {
  std::string text = reference.registry + "/" + reference.repository;
  if (!reference.tag.empty()) text += ":" + reference.tag;
  if (!reference.digest.empty()) text += "@" + reference.digest;
  return text;
}

std::string familiar_name(const ImageReference& reference) {
  std::string text;
  if (reference.registry == kDefaultRegistry) {
    const std::string_view repository = reference.repository;
    // "library/alpine" shows as "alpine", but "library/a/b" keeps its prefix (Docker does the same).
    const bool official = repository.starts_with(kOfficialPrefix) &&
                          repository.find('/', kOfficialPrefix.size()) == std::string_view::npos;
    text = official ? std::string(repository.substr(kOfficialPrefix.size())) : reference.repository;
  } else {
    text = reference.registry + "/" + reference.repository;
  }
  if (!reference.tag.empty()) text += ":" + reference.tag;
  if (!reference.digest.empty()) text += "@" + reference.digest;
  return text;
}

}  // namespace mcore
