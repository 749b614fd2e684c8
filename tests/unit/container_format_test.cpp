// The pure helpers behind `mcore ps` and `mcore stats`: Docker's status and age texts, the COMMAND and
// IMAGE columns, Go's quoting, binary sizes; and ps's --filter rules.
#include "cli/container_format.hpp"
#include "mcore/error.hpp"

#include <gtest/gtest.h>

#include "cli/container_filter.hpp"

namespace mcore::cli {
namespace {

using engine::ContainerRecord;
using engine::ContainerState;
using namespace std::chrono_literals;

Clock::time_point at(const std::string& rfc3339) {
  auto time = parse_time(rfc3339);
  EXPECT_TRUE(time) << rfc3339;
  return time.value_or(Clock::time_point{});
}

ContainerRecord record_in(ContainerState state, int exit_code = 0) {
  ContainerRecord record;
  record.id = std::string(64, 'a');
  record.name = "web";
  record.state = state;
  record.created = "2024-01-01T10:00:00.000000000Z";
  if (state != ContainerState::created) record.started_at = "2024-01-01T10:00:01.500000000Z";
  if (state == ContainerState::exited || state == ContainerState::restarting) {
    record.finished_at = "2024-01-01T10:05:00.000000000Z";
  }
  record.exit_code = exit_code;
  return record;
}

TEST(ContainerFormat, ParsesTimesWithTheirFraction) {
  EXPECT_EQ(at("2024-01-01T00:00:00.25Z") - at("2024-01-01T00:00:00Z"), 250ms);
  EXPECT_EQ(at("2024-01-01T00:00:01.000000001Z") - at("2024-01-01T00:00:01Z"), 1ns);
  EXPECT_EQ(at("2024-01-01T02:00:00.5+02:00") - at("2024-01-01T00:00:00Z"), 500ms);
  EXPECT_FALSE(parse_time(""));
  EXPECT_FALSE(parse_time("yesterday"));
}

TEST(ContainerFormat, DurationsReadLikeDockersHumanDuration) {
  EXPECT_EQ(human_duration(0), "Less than a second");
  EXPECT_EQ(human_duration(1), "1 second");
  EXPECT_EQ(human_duration(59), "59 seconds");
  EXPECT_EQ(human_duration(60), "About a minute");
  EXPECT_EQ(human_duration(3 * 60), "3 minutes");
  EXPECT_EQ(human_duration(3600), "About an hour");
  EXPECT_EQ(human_duration(2 * 3600), "2 hours");
  EXPECT_EQ(human_duration(3 * 86400), "3 days");
}

TEST(ContainerFormat, StatusFollowsTheObservedState) {
  const auto started = at("2024-01-01T10:00:01.5Z");
  EXPECT_EQ(container_status(record_in(ContainerState::running), started + 3min), "Up 3 minutes");
  EXPECT_EQ(container_status(record_in(ContainerState::running), started + 400ms), "Up Less than a second");
  EXPECT_EQ(container_status(record_in(ContainerState::paused), started + 3min), "Up 3 minutes (Paused)");
  const auto finished = at("2024-01-01T10:05:00Z");
  EXPECT_EQ(container_status(record_in(ContainerState::restarting, 1), finished + 2s),
            "Restarting (1) 2 seconds ago");
  EXPECT_EQ(container_status(record_in(ContainerState::exited, 137), finished + 5s),
            "Exited (137) 5 seconds ago");
  EXPECT_EQ(container_status(record_in(ContainerState::exited, 0), finished + 61min),
            "Exited (0) About an hour ago");
  EXPECT_EQ(container_status(record_in(ContainerState::created), finished), "Created");
  EXPECT_EQ(container_status(record_in(ContainerState::dead), finished), "Dead");
  auto unfinished = record_in(ContainerState::exited);
  unfinished.finished_at.clear();
  EXPECT_EQ(container_status(unfinished, finished), "");
}

TEST(ContainerFormat, PortsListThePublishedOnesOfARunningContainer) {
  auto record = record_in(ContainerState::running);
  EXPECT_EQ(container_ports(record), "");
  record.endpoint = engine::NetworkEndpoint{"bridge", "172.17.0.2/16", "172.17.0.1", "",
                                    {{"", 8080, 80, "tcp"}, {"127.0.0.1", 5353, 53, "udp"}}};
  EXPECT_EQ(container_ports(record), "0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp");
  record.state = ContainerState::exited;
  EXPECT_EQ(container_ports(record), "") << "Docker lists no ports for a stopped container";
}

TEST(ContainerFormat, CreatedCountsWholeSecondsAgo) {
  const auto record = record_in(ContainerState::running);
  EXPECT_EQ(container_created(record, at("2024-01-01T12:00:00Z")), "2 hours ago");
  EXPECT_EQ(container_created(record, at("2024-01-01T10:00:00.9Z")), "Less than a second ago");
  auto undated = record;
  undated.created.clear();
  EXPECT_EQ(container_created(undated, at("2024-01-01T12:00:00Z")), "");
}

TEST(ContainerFormat, CommandIsJoinedCutAndQuotedLikeDockers) {
  EXPECT_EQ(container_command({"sleep", "100"}, false), "\"sleep 100\"");
  EXPECT_EQ(container_command({"sh", "-c", "echo hi"}, false), "\"sh -c 'echo hi'\"");
  EXPECT_EQ(container_command({"/bin/sh", "-c", "while true; do sleep 1; done"}, false),
            "\"/bin/sh -c 'while t…\"");
  EXPECT_EQ(container_command({"/bin/sh", "-c", "while true; do sleep 1; done"}, true),
            "\"/bin/sh -c 'while true; do sleep 1; done'\"");
  EXPECT_EQ(container_command({"echo", "a\"b", "c\\d"}, false), "\"echo a\\\"b c\\\\d\"");
  EXPECT_EQ(container_command({}, false), "\"\"");
}

TEST(ContainerFormat, EllipsisCountsCharactersNotBytes) {
  EXPECT_EQ(ellipsis("12345678901234567890", 20), "12345678901234567890");
  EXPECT_EQ(ellipsis("123456789012345678901", 20), "1234567890123456789…");
  // Nineteen two-byte characters and more: cut after nineteen characters, not nineteen bytes.
  std::string wide;
  for (int i = 0; i < 25; ++i) wide += "é";
  std::string expected;
  for (int i = 0; i < 19; ++i) expected += "é";
  EXPECT_EQ(ellipsis(wide, 20), expected + "…");
}

TEST(ContainerFormat, QuotesLikeGo) {
  EXPECT_EQ(go_quote("plain"), "\"plain\"");
  EXPECT_EQ(go_quote("tab\there\nnl"), "\"tab\\there\\nnl\"");
  EXPECT_EQ(go_quote(std::string("nul\0x", 5)), "\"nul\\x00x\"");
  EXPECT_EQ(go_quote("\x7f"), "\"\\x7f\"");
  EXPECT_EQ(go_quote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");  // printable UTF-8 stays
  EXPECT_EQ(go_quote("\xc2\x85"), "\"\\u0085\"");         // a C1 control does not
  EXPECT_EQ(go_quote("bad\xff"), "\"bad\\xff\"");         // nor a byte that is no UTF-8
  EXPECT_EQ(go_quote("\xc0\xaf"), "\"\\xc0\\xaf\"");      // an overlong '/' is two bad bytes, as in Go
}

TEST(ContainerFormat, ImageShowsWhatRunWasGiven) {
  engine::ContainerSpec spec;
  spec.image = "alpine:3.19";
  spec.image_id = "sha256:" + std::string(64, 'b');
  EXPECT_EQ(container_image(spec, false), "alpine:3.19");
  spec.image = "alpine:3.19@sha256:" + std::string(64, 'c');
  EXPECT_EQ(container_image(spec, false), "alpine:3.19");
  EXPECT_EQ(container_image(spec, true), spec.image);
  spec.image = "sha256:" + std::string(64, 'b');
  EXPECT_EQ(container_image(spec, false), std::string(12, 'b'));
  spec.image = std::string(12, 'b');
  EXPECT_EQ(container_image(spec, false), std::string(12, 'b'));
  engine::ContainerSpec rootfs_only;
  rootfs_only.rootfs = "/var/lib/rootfs";
  EXPECT_EQ(container_image(rootfs_only, false), "/var/lib/rootfs");
}

TEST(ContainerFormat, SizesUseBinaryUnitsAndFourDigits) {
  EXPECT_EQ(human_binary_size(0), "0B");
  EXPECT_EQ(human_binary_size(1023), "1023B");
  EXPECT_EQ(human_binary_size(1024), "1KiB");
  EXPECT_EQ(human_binary_size(2'048'000), "1.953MiB");
  EXPECT_EQ(human_binary_size(8.0 * 1024 * 1024 * 1024), "8GiB");
  EXPECT_EQ(percent(12.345), "12.35%");
  EXPECT_EQ(percent(0), "0.00%");
}

TEST(ContainerFilter, SameKeyOrsDifferentKeysAnd) {
  auto web = record_in(ContainerState::running);
  auto db = record_in(ContainerState::exited, 3);
  db.name = "db";
  db.id = std::string(63, 'a') + "b";
  auto either = ContainerFilter::parse({"name=web", "name=db"});
  EXPECT_TRUE(either.matches(web));
  EXPECT_TRUE(either.matches(db));
  auto both = ContainerFilter::parse({"name=db", "status=running"});
  EXPECT_FALSE(both.matches(web));
  EXPECT_FALSE(both.matches(db));
  EXPECT_TRUE(ContainerFilter::parse({"name=db", "status=exited"}).matches(db));
  EXPECT_TRUE(ContainerFilter::parse({}).matches(db));
}

TEST(ContainerFilter, NamesAndIdsAreSearchedAsExpressions) {
  auto web = record_in(ContainerState::running);
  web.name = "frontend_web_1";
  EXPECT_TRUE(ContainerFilter::parse({"name=web"}).matches(web));
  EXPECT_TRUE(ContainerFilter::parse({"name=^/frontend"}).matches(web));
  EXPECT_TRUE(ContainerFilter::parse({"name=^frontend_web_1$"}).matches(web));
  EXPECT_FALSE(ContainerFilter::parse({"name=^web"}).matches(web));
  EXPECT_TRUE(ContainerFilter::parse({"id=aaaa"}).matches(web));
  EXPECT_FALSE(ContainerFilter::parse({"id=b"}).matches(web));
  // Not a valid expression: still matches exactly, like Docker.
  auto odd = web;
  odd.name = "a(b";
  EXPECT_TRUE(ContainerFilter::parse({"name=a(b"}).matches(odd));
  EXPECT_FALSE(ContainerFilter::parse({"name=a(b"}).matches(web));
}

TEST(ContainerFilter, StatusListsStoppedAndExitedMatchesCodes) {
  EXPECT_TRUE(ContainerFilter::parse({"status=exited"}).lists_stopped());
  EXPECT_FALSE(ContainerFilter::parse({"name=x"}).lists_stopped());
  EXPECT_TRUE(ContainerFilter::parse({"status=paused"}).matches(record_in(ContainerState::paused)));
  EXPECT_FALSE(ContainerFilter::parse({"status=running"}).matches(record_in(ContainerState::paused)));
  EXPECT_TRUE(ContainerFilter::parse({"exited=137"}).matches(record_in(ContainerState::exited, 137)));
  EXPECT_TRUE(ContainerFilter::parse({"exited=0137"}).matches(record_in(ContainerState::exited, 137)));
  EXPECT_FALSE(ContainerFilter::parse({"exited=0"}).matches(record_in(ContainerState::exited, 137)));
  EXPECT_FALSE(ContainerFilter::parse({"exited=0"}).matches(record_in(ContainerState::running)));
  EXPECT_FALSE(ContainerFilter::parse({"exited=0"}).matches(record_in(ContainerState::created)));
}

std::string parse_error(const std::vector<std::string>& filters) {
  try {
    ContainerFilter::parse(filters);
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

TEST(ContainerFilter, RefusesWhatDockerRefuses) {
  EXPECT_EQ(parse_error({"foo=bar"}), "invalid filter 'foo'");
  EXPECT_EQ(parse_error({"status=sleeping"}), "invalid filter 'status=sleeping'");
  EXPECT_EQ(parse_error({"exited=x"}), "invalid filter 'exited=x'");
  EXPECT_NE(parse_error({"nameweb"}).find("expected name=value"), std::string::npos);
  EXPECT_NE(parse_error({"volume=data"}).find("not supported"), std::string::npos);
  EXPECT_EQ(parse_error({"label="}), "invalid filter 'label='");
  EXPECT_EQ(parse_error({"status=removing"}), "");
}

TEST(ContainerFilter, LabelsMustAllMatchAsInDocker) {
  auto record = record_in(ContainerState::running);
  record.spec.labels = {{"mcore.deployment", "shop"}, {"tier", "web"}};
  EXPECT_TRUE(ContainerFilter::parse({"label=tier"}).matches(record));
  EXPECT_TRUE(ContainerFilter::parse({"label=mcore.deployment=shop", "label=tier=web"}).matches(record));
  EXPECT_FALSE(ContainerFilter::parse({"label=mcore.deployment=shop", "label=tier=db"}).matches(record));
  EXPECT_FALSE(ContainerFilter::parse({"label=missing"}).matches(record));
  EXPECT_FALSE(ContainerFilter::parse({"label=tier=we"}).matches(record)) << "values match exactly";
}

}  // namespace
}  // namespace mcore::cli
