#include "cli/container_format.hpp"

#include <array>
#include <cctype>
#include <cstdio>
#include <string_view>

#include "cli/image_format.hpp"

namespace mcore::cli {
namespace {

using engine::ContainerState;

// Whole seconds from `time` to `now`, as Go's int(d.Seconds()); a missing time counts as now.
std::int64_t seconds_since(const std::string& time, Clock::time_point now) {
  const auto then = parse_time(time);
  if (!then) return 0;
  return std::chrono::duration_cast<std::chrono::seconds>(now - *then).count();
}

// One UTF-8 sequence at `at`: its code point and length, or nullopt when the byte starts none.
struct Decoded {
  char32_t code_point;
  std::size_t length;
};
std::optional<Decoded> decode_utf8(std::string_view text, std::size_t at) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(at);
  if (lead < 0x80) return Decoded{lead, 1};
  std::size_t length = lead >= 0xf0 && lead < 0xf5   ? 4
                       : lead >= 0xe0                ? 3
                       : lead >= 0xc2 && lead < 0xe0 ? 2
                                                     : 0;
  if (length == 0 || at + length > text.size()) return std::nullopt;
  char32_t code_point = lead & (0x7f >> length);
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(at + i) & 0xc0) != 0x80) return std::nullopt;
    code_point = (code_point << 6) | (byte(at + i) & 0x3f);
  }
  constexpr std::array<char32_t, 5> kSmallest = {0, 0, 0x80, 0x800, 0x10000};
  if (code_point < kSmallest[length] || code_point > 0x10ffff ||
      (code_point >= 0xd800 && code_point < 0xe000)) {
    return std::nullopt;  // overlong, out of range or a surrogate: Go treats these bytes as invalid
  }
  return Decoded{code_point, length};
}

// The code points Go's unicode.IsPrint refuses that a command line may plausibly hold: C0 and C1
// controls, DEL, the soft hyphen, line and paragraph separators, the byte-order mark.
bool printable(char32_t c) {
  if (c < 0x20 || (c >= 0x7f && c < 0xa0)) return false;
  return c != 0xad && c != 0x2028 && c != 0x2029 && c != 0xfeff;
}

}  // namespace

bool is_up(const engine::ContainerRecord& record) {
  return record.state == ContainerState::running || record.state == ContainerState::paused ||
         record.state == ContainerState::restarting;
}

std::optional<Clock::time_point> parse_time(const std::string& rfc3339) {
  const auto seconds = parse_rfc3339(rfc3339);
  if (!seconds) return std::nullopt;
  std::chrono::nanoseconds fraction{0};
  // parse_rfc3339 checked the shape: a fraction, when present, starts right after the seconds.
  constexpr std::size_t kFractionAt = std::string_view("2006-01-02T15:04:05").size();
  if (rfc3339.size() > kFractionAt && rfc3339[kFractionAt] == '.') {
    std::int64_t scale = 100'000'000;
    for (std::size_t i = kFractionAt + 1;
         i < rfc3339.size() && std::isdigit(static_cast<unsigned char>(rfc3339[i])); ++i, scale /= 10) {
      fraction += std::chrono::nanoseconds((rfc3339[i] - '0') * scale);
    }
  }
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(*seconds) + fraction));
}

std::string human_duration(std::int64_t seconds) {
  // Docker's HumanDuration is human_duration_ago's text without the " ago".
  std::string text = human_duration_ago(seconds);
  text.resize(text.size() - std::string_view(" ago").size());
  return text;
}

std::string container_status(const engine::ContainerRecord& record, Clock::time_point now) {
  const auto exit_code = std::to_string(record.exit_code);
  switch (record.state) {
    case ContainerState::running: return "Up " + human_duration(seconds_since(record.started_at, now));
    case ContainerState::paused:
      return "Up " + human_duration(seconds_since(record.started_at, now)) + " (Paused)";
    case ContainerState::restarting:
      return "Restarting (" + exit_code + ") " + human_duration(seconds_since(record.finished_at, now)) +
             " ago";
    case ContainerState::dead: return "Dead";
    case ContainerState::created: return "Created";
    case ContainerState::exited: break;
  }
  if (record.started_at.empty()) return "Created";
  if (record.finished_at.empty()) return "";
  return "Exited (" + exit_code + ") " + human_duration(seconds_since(record.finished_at, now)) + " ago";
}

std::string container_created(const engine::ContainerRecord& record, Clock::time_point now) {
  const auto created = parse_time(record.created);
  if (!created) return "";
  // Docker's list reports the creation time in whole seconds.
  const auto whole = std::chrono::floor<std::chrono::seconds>(*created);
  return human_duration(std::chrono::duration_cast<std::chrono::seconds>(now - whole).count()) + " ago";
}

std::string container_command(const std::vector<std::string>& args, bool no_trunc) {
  std::string command;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i > 0) command += ' ';
    const bool quote = i > 0 && args[i].find(' ') != std::string::npos;
    command += quote ? "'" + args[i] + "'" : args[i];
  }
  return go_quote(no_trunc ? command : ellipsis(command, 20));
}

std::string container_ports(const engine::ContainerRecord& record) {
  if (!record.endpoint || !is_up(record)) return "";
  std::string text;
  for (const auto& port : record.endpoint->ports) {
    if (!text.empty()) text += ", ";
    text += (port.host_ip.empty() ? "0.0.0.0" : port.host_ip) + ":" + std::to_string(port.host_port) + "->" +
            std::to_string(port.container_port) + "/" + port.protocol;
  }
  return text;
}

std::string container_image(const engine::ContainerSpec& spec, bool no_trunc) {
  if (spec.image.empty()) return spec.rootfs.string();
  if (no_trunc) return spec.image;
  if (!spec.image_id.empty() && short_id(spec.image) == short_id(spec.image_id))
    return short_id(spec.image_id);
  return spec.image.substr(0, spec.image.find('@'));
}

std::string ellipsis(const std::string& text, std::size_t max_width) {
  if (max_width == 0) return "";
  std::size_t characters = 0;
  std::size_t cut = 0;  // the byte offset after max_width - 1 characters
  for (std::size_t at = 0; at < text.size();) {
    const auto decoded = decode_utf8(text, at);
    at += decoded ? decoded->length : 1;
    if (++characters == max_width - 1) cut = at;
    if (characters > max_width) return text.substr(0, cut) + "…";
  }
  return text;
}

std::string go_quote(const std::string& text) {
  std::string out = "\"";
  char escape[16];
  for (std::size_t at = 0; at < text.size();) {
    const auto decoded = decode_utf8(text, at);
    if (!decoded) {
      std::snprintf(escape, sizeof escape, "\\x%02x", static_cast<unsigned char>(text[at]));
      out += escape;
      ++at;
      continue;
    }
    const char32_t c = decoded->code_point;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      default:
        if (printable(c)) {
          out.append(text, at, decoded->length);
        } else {
          std::snprintf(escape, sizeof escape, c < 0x80 ? "\\x%02x" : "\\u%04x", static_cast<unsigned>(c));
          out += escape;
        }
    }
    at += decoded->length;
  }
  return out + "\"";
}

std::string human_binary_size(double bytes) {
  static constexpr std::array<const char*, 9> kUnits = {"B",   "KiB", "MiB", "GiB", "TiB",
                                                        "PiB", "EiB", "ZiB", "YiB"};
  std::size_t unit = 0;
  while (bytes >= 1024.0 && unit + 1 < kUnits.size()) {
    bytes /= 1024.0;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.4g%s", bytes, kUnits[unit]);
  return text;
}

std::string percent(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f%%", value);
  return text;
}

}  // namespace mcore::cli
