#pragma once
// WWW-Authenticate parsing (RFC 7235): one header may carry several challenges, each a scheme and
// key=value parameters whose values may be quoted and contain commas (Bearer scopes do).
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mcore::registry {

struct AuthChallenge {
  std::string scheme;                         // lowercased: "bearer", "basic"
  std::map<std::string, std::string> params;  // keys lowercased, values unquoted
};

// Returns the challenges in order; malformed parts are skipped, never thrown on.
std::vector<AuthChallenge> parse_www_authenticate(std::string_view header);

}  // namespace mcore::registry
