#pragma once
// Compose's variable interpolation, applied to every value of a Compose YAML file before it is read:
// $VAR and ${VAR} (empty when unset), ${VAR:-default} (when unset or empty), ${VAR-default} (when
// unset), ${VAR:?message} and ${VAR?message} (an error when unset [or empty]), ${VAR:+other} and
// ${VAR+other}, and $$ for a literal $.
#include <filesystem>
#include <map>
#include <string>

namespace mcore::engine {

using InterpolationVariables = std::map<std::string, std::string>;

// mcore's own environment, then the KEY=VALUE lines of `dir`/.env (Compose's) for names it lacks.
InterpolationVariables interpolation_variables(const std::filesystem::path& dir);

// `text` with its references replaced. Throws Error naming the reference for ${VAR?message} with VAR
// unset and for a malformed reference ("${", "${1A}").
std::string interpolate(const std::string& text, const InterpolationVariables& variables);

}  // namespace mcore::engine
