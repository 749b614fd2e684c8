// Compose's variable interpolation in deployment files.
#include "engine/deploy/compose_interpolation.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "mcore/error.hpp"
#include "test_support.hpp"

namespace mcore::engine {
namespace {

const InterpolationVariables kVariables = {{"TAG", "1.2"}, {"EMPTY", ""}, {"USER_NAME", "ann"}};

TEST(ComposeInterpolation, ReferencesAndDefaults) {
  EXPECT_EQ(interpolate("busybox:$TAG", kVariables), "busybox:1.2");
  EXPECT_EQ(interpolate("busybox:${TAG}-x", kVariables), "busybox:1.2-x");
  EXPECT_EQ(interpolate("[$UNSET]", kVariables), "[]") << "unset is empty, as in Compose";
  EXPECT_EQ(interpolate("${UNSET:-8080}:80", kVariables), "8080:80");
  EXPECT_EQ(interpolate("${EMPTY:-d}|${EMPTY-d}", kVariables), "d|") << ":- also replaces an empty value, - does not";
  EXPECT_EQ(interpolate("${TAG:+set}|${UNSET+set}", kVariables), "set|");
  EXPECT_EQ(interpolate("cost $$5 and $ alone", kVariables), "cost $5 and $ alone");
  EXPECT_EQ(interpolate("$USER_NAME.", kVariables), "ann.");
}

TEST(ComposeInterpolation, RequiredAndMalformedReferencesAreErrors) {
  EXPECT_NE(test::error_of([] { interpolate("${DB_PASSWORD:?set a password}", kVariables); })
                .find("required variable DB_PASSWORD is unset: set a password"),
            std::string::npos);
  EXPECT_NE(test::error_of([] { interpolate("${EMPTY:?}", kVariables); }).find("EMPTY is empty"), std::string::npos);
  EXPECT_EQ(interpolate("${EMPTY?}", kVariables), "") << "? without : accepts an empty value";
  EXPECT_NE(test::error_of([] { interpolate("${TAG", kVariables); }).find("unclosed"), std::string::npos);
  EXPECT_NE(test::error_of([] { interpolate("${1A}", kVariables); }).find("invalid interpolation"), std::string::npos);
}

TEST(ComposeInterpolation, TheEnvironmentWinsOverTheDotEnvFile) {
  test::TempDir dir("mcore-interpolation");
  std::ofstream(dir.path() / ".env") << "# a comment\nFROM_DOT_ENV=yes\nPATH=not-this\n";
  const auto variables = interpolation_variables(dir.path());
  EXPECT_EQ(variables.at("FROM_DOT_ENV"), "yes");
  EXPECT_NE(variables.at("PATH"), "not-this");
}

}  // namespace
}  // namespace mcore::engine
