#pragma once
// How container verbs show states, ages, commands and sizes, matching `docker ps` and `docker stats` so
// scripts and eyes agree. Pure functions of a record and the time: the verbs pass `now` in.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/api/containers.hpp"

namespace mcore::cli {

using Clock = std::chrono::system_clock;

// Docker's State.Running: a running, paused or restarting container, the ones ps lists without -a.
bool is_up(const engine::ContainerRecord& record);

// An RFC 3339 time with its fraction of a second kept; nullopt when missing or malformed.
std::optional<Clock::time_point> parse_time(const std::string& rfc3339);

// Docker's units.HumanDuration: "Less than a second", "1 second", "About a minute", "3 hours"...
std::string human_duration(std::int64_t seconds);

// The STATUS column of an observed record (observe_container), Docker's State.String(): "Up 3 minutes",
// "Up 3 minutes (Paused)", "Restarting (1) 2 seconds ago", "Exited (137) 5 seconds ago", "Created",
// "Dead"; "" for an exited record without a finish time, as Docker.
std::string container_status(const engine::ContainerRecord& record, Clock::time_point now);

// The CREATED column: "2 hours ago" ("" when the record has no creation time).
std::string container_created(const engine::ContainerRecord& record, Clock::time_point now);

// The COMMAND column: the arguments joined as Docker's daemon does (arguments holding a space in single
// quotes), cut to 20 characters with "…" unless `no_trunc`, then Go-quoted: "\"sleep 100\"".
std::string container_command(const std::vector<std::string>& args, bool no_trunc);

// The PORTS column: the published ports of a running container as Docker lists them,
// "0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp"; "" when it publishes none or is not attached.
std::string container_ports(const engine::ContainerRecord& record);

// The IMAGE column: the image as named to `run` (a digest dropped and an id cut to 12 digits unless
// `no_trunc`), or the --rootfs directory of a container run without an image.
std::string container_image(const engine::ContainerSpec& spec, bool no_trunc);

// Docker's formatter.Ellipsis: `text` when it has at most `max_width` characters, else its first
// max_width - 1 and "…". Counts code points (every one as one column).
std::string ellipsis(const std::string& text, std::size_t max_width);

// Go's strconv.Quote: double quotes, with \" \\ \n \t ... and \xNN or \uNNNN for what is not printable.
std::string go_quote(const std::string& text);

// Binary units with four significant digits, as `docker stats`: 2048000 -> "1.953MiB", 0 -> "0B".
std::string human_binary_size(double bytes);

// "12.34%", two decimals, as `docker stats` prints CPU % and MEM %.
std::string percent(double value);

}  // namespace mcore::cli
