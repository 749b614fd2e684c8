#pragma once
// How image verbs show sizes, ages and names, matching Docker's output so scripts and eyes agree.
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>

#include "engine/api/images.hpp"

namespace mcore::cli {

// Decimal units with three significant digits, as `docker images`: 4260000 -> "4.26MB", 999 -> "999B".
std::string human_size(double bytes);

// Seconds since the epoch of an RFC 3339 time ("2024-01-01T00:00:00.5+02:00"); nullopt when malformed.
std::optional<std::time_t> parse_rfc3339(const std::string& text);

// Docker's "3 days ago" for a duration in seconds (go-units HumanDuration + " ago").
std::string human_duration_ago(std::int64_t seconds);

// "3 days ago" for an RFC 3339 time relative to `now`; "" when the time is malformed or missing.
std::string created_since(const std::string& created, std::time_t now);

// First 12 hex digits of an id ("sha256:abc..." -> "abc..."), or the whole id with `no_trunc`.
std::string short_id(const std::string& id, bool no_trunc = false);

// Docker's familiar form of a stored, normalised name ("docker.io/library/alpine:latest" ->
// "alpine:latest"); the name itself when it does not parse.
std::string familiar(const std::string& name);

}  // namespace mcore::cli
