#include "cli/word_suggestions.hpp"

#include <gtest/gtest.h>

namespace mcore::cli {
namespace {

namespace po = boost::program_options;

TEST(WordSuggestions, ClosestWordPrefersAUniquePrefixThenFewEdits) {
  const std::vector<std::string> verbs{"images", "image", "inspect", "info", "rm", "rmi", "ps", "pull", "logs"};
  EXPECT_EQ(closest_word("imgaes", verbs), "images");  // one swap
  EXPECT_EQ(closest_word("inpsect", verbs), "inspect");
  EXPECT_EQ(closest_word("insp", verbs), "inspect");  // unique prefix
  EXPECT_EQ(closest_word("lgos", verbs), "logs");
  EXPECT_EQ(closest_word("frobnicate", verbs), std::nullopt);
  EXPECT_EQ(closest_word("x", verbs), std::nullopt);
}

TEST(WordSuggestions, ForeignSpellingsMapOnlyToFlagsTheVerbHas) {
  po::options_description run("run");
  run.add_options()("memory,m", po::value<std::string>(), "")("cpus", po::value<std::string>(), "")(
      "cpuset-cpus", po::value<std::string>(), "")("name", po::value<std::string>(), "");
  EXPECT_TRUE(is_foreign_flag(run, "-mem"));
  EXPECT_TRUE(is_foreign_flag(run, "--memory-limit"));
  EXPECT_EQ(suggest_flag(run, "-cpuset"), "--cpuset-cpus");
  EXPECT_EQ(suggest_flag(run, "-cpu"), "--cpus");
  EXPECT_EQ(suggest_flag(run, "-name"), "--name");
  EXPECT_FALSE(is_foreign_flag(run, "-net"));  // this verb has no --network
  EXPECT_EQ(suggest_flag(run, "--qqqq"), std::nullopt);
}

}  // namespace
}  // namespace mcore::cli
