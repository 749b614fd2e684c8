#include "cli/verb_options.hpp"

#include <gtest/gtest.h>

#include "mcore/error.hpp"

namespace mcore::cli {
namespace {

namespace po = boost::program_options;
using Args = std::vector<std::string>;
using testing::IsSubstring;

po::options_description run_like_options() {
  po::options_description options("Options");
  // clang-format off
  options.add_options()
    ("memory,m", po::value<std::string>(), "memory limit")
    ("env,e", po::value<std::vector<std::string>>(), "environment variable")
    ("cpu-shares,c", po::value<std::uint64_t>(), "CPU weight")
    ("interactive,i", po::bool_switch(), "keep stdin open")
    ("tty,t", po::bool_switch(), "allocate a terminal")
    ("rm", po::value<bool>()->implicit_value(true)->default_value(false), "remove when done")
    ("network,net", po::value<std::string>()->default_value("none"), "network mode");
  // clang-format on
  return options;
}

ParsedVerb parse(const Args& args) { return parse_options("mcore run", run_like_options(), args); }

// The Error parsing `args` throws, as "<what> | <hint>".
std::string parse_error(const Args& args) {
  try {
    parse(args);
  } catch (const Error& error) {
    return std::string(error.what()) + " | " + error.hint();
  }
  ADD_FAILURE() << "expected the arguments to be rejected";
  return "";
}

TEST(VerbOptions, ValueFormsAreEquivalent) {
  for (const Args& args :
       {Args{"--memory", "1g"}, Args{"--memory=1g"}, Args{"-m", "1g"}, Args{"-m1g"}, Args{"-m=1g"}}) {
    SCOPED_TRACE(args[0]);
    EXPECT_EQ(parse(args).options["memory"].as<std::string>(), "1g");
  }
}

TEST(VerbOptions, ShortFlagsCombine) {
  const auto parsed = parse({"-it"});
  EXPECT_TRUE(parsed.options["interactive"].as<bool>());
  EXPECT_TRUE(parsed.options["tty"].as<bool>());
  const auto with_value = parse({"-itm", "2g"});
  EXPECT_TRUE(with_value.options["tty"].as<bool>());
  EXPECT_EQ(with_value.options["memory"].as<std::string>(), "2g");
  EXPECT_EQ(parse({"-tm512m"}).options["memory"].as<std::string>(), "512m");
}

TEST(VerbOptions, RepeatedListOptionsAccumulate) {
  const auto parsed = parse({"-e", "A=1", "--env", "B=2", "--env=C=3", "-eD"});
  EXPECT_EQ(parsed.options["env"].as<std::vector<std::string>>(), (Args{"A=1", "B=2", "C=3", "D"}));
}

TEST(VerbOptions, ParsingStopsAtTheFirstPositional) {
  const auto parsed = parse({"-i", "alpine", "sh", "-c", "echo hi", "--rm"});
  EXPECT_EQ(parsed.positionals, (Args{"alpine", "sh", "-c", "echo hi", "--rm"}));
  EXPECT_FALSE(parsed.options["rm"].as<bool>());
  EXPECT_EQ(parse({"--", "-x"}).positionals, Args{"-x"}) << "-- ends the options";
  EXPECT_EQ(parse({"-"}).positionals, Args{"-"}) << "- alone is an argument";
}

TEST(VerbOptions, AValueMayLookLikeAFlag) {
  EXPECT_EQ(parse({"-e", "--rm"}).options["env"].as<std::vector<std::string>>(), Args{"--rm"});
}

TEST(VerbOptions, OptionalValuesOnlyFollowAnEqualsSign) {
  EXPECT_TRUE(parse({"--rm", "alpine"}).options["rm"].as<bool>());
  EXPECT_EQ(parse({"--rm", "alpine"}).positionals, Args{"alpine"});
  EXPECT_FALSE(parse({"--rm=false"}).options["rm"].as<bool>());
}

TEST(VerbOptions, DefaultsAndAliases) {
  EXPECT_EQ(parse({}).options["network"].as<std::string>(), "none");
  EXPECT_EQ(parse({"--net", "host"}).options["network"].as<std::string>(), "host");
  EXPECT_EQ(parse({"-c", "512"}).options["cpu-shares"].as<std::uint64_t>(), 512u);
}

TEST(VerbOptions, BadFlagsSayWhatAndWhereToLook) {
  EXPECT_EQ(parse_error({"--foo"}), "unknown flag: --foo | see 'mcore run --help'");
  EXPECT_EQ(parse_error({"--foo=1"}), "unknown flag: --foo | see 'mcore run --help'");
  EXPECT_PRED_FORMAT2(IsSubstring, "unknown shorthand flag: 'x' in -ix", parse_error({"-ix"}));
  EXPECT_PRED_FORMAT2(IsSubstring, "flag needs an argument: --memory", parse_error({"--memory"}));
  EXPECT_PRED_FORMAT2(IsSubstring, "flag needs an argument: -m", parse_error({"-im"}));
  EXPECT_PRED_FORMAT2(IsSubstring, "flag --tty does not take a value", parse_error({"--tty=yes"}));
  EXPECT_PRED_FORMAT2(IsSubstring, "--memory may be given only once",
                      parse_error({"-m", "1g", "--memory", "2g"}));
}

TEST(VerbOptions, BadValuesNameTheValueAndTheFlag) {
  EXPECT_PRED_FORMAT2(IsSubstring, "invalid value \"lots\" for flag --cpu-shares",
                      parse_error({"--cpu-shares", "lots"}));
  EXPECT_PRED_FORMAT2(IsSubstring, "invalid value \"x\" for flag -c", parse_error({"-cx"}));
  EXPECT_PRED_FORMAT2(IsSubstring, "invalid value \"maybe\" for flag --rm", parse_error({"--rm=maybe"}));
}

TEST(VerbOptions, HelpPrintsUsageAndStops) {
  po::options_description options = run_like_options();
  options.add_options()("required", po::value<std::string>()->required(), "must be given");
  testing::internal::CaptureStdout();
  const auto parsed = parse_verb("run", "[OPTIONS] IMAGE [COMMAND]", "Run a command", options, {"--help"});
  const std::string out = testing::internal::GetCapturedStdout();
  EXPECT_FALSE(parsed.has_value());
  EXPECT_PRED_FORMAT2(IsSubstring, "Usage: mcore run [OPTIONS] IMAGE [COMMAND]\n\nRun a command\n", out);
  EXPECT_PRED_FORMAT2(IsSubstring, "--memory", out);
  EXPECT_PRED_FORMAT2(IsSubstring, "--help", out);

  EXPECT_THROW(parse_verb("run", "", "", options, {"-i"}), Error)
      << "without --help, required options are checked";
  const auto given = parse_verb("run", "", "", options, {"--required", "x", "-h"});
  EXPECT_FALSE(given.has_value()) << "-h works too";
}

TEST(VerbOptions, OtherRuntimesSpellingsAreNotReadAsShortFlagClusters) {
  // -mem would otherwise be -m em; -cpu would be -c pu.
  EXPECT_PRED_FORMAT2(IsSubstring, "unknown flag: -mem | did you mean --memory?", parse_error({"-mem", "100m"}));
  EXPECT_PRED_FORMAT2(IsSubstring, "unknown flag: -mem | did you mean --memory?", parse_error({"-mem=100m"}));
  EXPECT_PRED_FORMAT2(IsSubstring, "did you mean --network?", parse_error({"-net", "host"}));
  EXPECT_PRED_FORMAT2(IsSubstring, "did you mean --memory?", parse_error({"--memory-limit", "128M"}));
  // A long flag's name after one dash, where a short flag would swallow the rest as its value.
  EXPECT_PRED_FORMAT2(IsSubstring, "unknown flag: -env | did you mean --env?", parse_error({"-env", "A=1"}));
  // An invalid cluster names the closest flag; a near-miss long flag too.
  EXPECT_PRED_FORMAT2(IsSubstring, "did you mean --interactive?", parse_error({"-interactiv"}));
  EXPECT_PRED_FORMAT2(IsSubstring, "did you mean --network?", parse_error({"--netwrok", "host"}));
  // Nothing close: the usual hint.
  EXPECT_PRED_FORMAT2(IsSubstring, "unknown flag: --zzz | see 'mcore run --help'", parse_error({"--zzz"}));
  // Valid clusters keep working.
  EXPECT_EQ(parse({"-m512m"}).options["memory"].as<std::string>(), "512m");
  EXPECT_TRUE(parse({"-ti"}).options["tty"].as<bool>());
}

TEST(VerbOptions, ExpectNoArguments) {
  ParsedVerb parsed;
  EXPECT_NO_THROW(expect_no_arguments("info", parsed));
  parsed.positionals = {"extra"};
  try {
    expect_no_arguments("info", parsed);
    FAIL() << "expected an Error";
  } catch (const Error& error) {
    EXPECT_PRED_FORMAT2(IsSubstring, "'info' takes no arguments, but got \"extra\"", error.what());
  }
}

}  // namespace
}  // namespace mcore::cli
