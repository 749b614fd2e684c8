#pragma once
// A user namespace's uid or gid map, as Podman's --uidmap and --gidmap give its lines
// (CONTAINER:HOST:SIZE) and as the kernel takes it (/proc/PID/uid_map, user_namespaces(7)).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcore::engine {

// The ids [start, start + size). Ids are 32-bit; 4294967295 is (uid_t)-1, never a real id.
struct IdRange {
  std::uint32_t start = 0;
  std::uint32_t size = 0;
  std::uint64_t end() const { return std::uint64_t{start} + size; }
};

bool overlaps(const IdRange& a, const IdRange& b);

// One line of a map: `size` ids from `container_id` inside are `host_id` onwards outside.
struct IdMapEntry {
  std::uint32_t container_id = 0;
  std::uint32_t host_id = 0;
  std::uint32_t size = 0;
  IdRange container_range() const { return {container_id, size}; }
  IdRange host_range() const { return {host_id, size}; }
  bool operator==(const IdMapEntry&) const = default;
};
using IdMap = std::vector<IdMapEntry>;

// The kernel takes at most this many lines per map (since Linux 4.15).
constexpr std::size_t kMaxIdMapEntries = 340;

// A decimal id or count with nothing around it ("65536"), or nullopt.
std::optional<std::uint32_t> parse_id_number(std::string_view field);

// Parses "CONTAINER:HOST:SIZE" in decimal. Throws an Error naming `flag` ("--uidmap") and the text
// when a field is missing, not a number, SIZE is 0 or a range runs past 4294967294.
IdMapEntry parse_id_map_entry(std::string_view text, std::string_view flag);

// Every line of `lines` parsed as above; the map is not checked as a whole.
IdMap parse_id_map_lines(const std::vector<std::string>& lines, std::string_view flag);

// Checks a whole map as the kernel would: 1 to kMaxIdMapEntries lines, no two lines overlapping inside
// or outside. Throws an Error naming `flag` and the two lines that overlap.
void check_id_map(const IdMap& map, std::string_view flag);

// The map as /proc/PID/uid_map takes it in one write: "CONTAINER HOST SIZE\n" per line.
std::string proc_id_map_text(const IdMap& map);

// Whether every line maps ids to themselves (an empty map too).
bool is_identity(const IdMap& map);

// The host id a container id maps to, or nullopt where the map does not cover it (the kernel shows
// such ids as the overflow id, 65534).
std::optional<std::uint32_t> host_id_of(const IdMap& map, std::uint32_t container_id);
// The other way: the container id a host id shows as, or nullopt where the map does not reach it.
std::optional<std::uint32_t> container_id_of(const IdMap& map, std::uint32_t host_id);

// Whether every host id of `map` lies inside one of `allowed` (a rootless user's own ranges).
bool host_ids_within(const IdMap& map, const std::vector<IdRange>& allowed);

// "CONTAINER:HOST:SIZE", as the flag takes it.
std::string to_string(const IdMapEntry& entry);

// Each line of `map` as above (how records and `inspect` show a map).
std::vector<std::string> id_map_lines(const IdMap& map);

}  // namespace mcore::engine
