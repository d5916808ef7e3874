#include "common/config/flags.hpp"

#include <gtest/gtest.h>

#include <map>

namespace jilaf::config {
namespace {

struct Fixture {
  std::string db = "default.db";
  std::int64_t port = 8081;
  bool verbose = false;
  Flags flags{"jilaf-test", "test"};
  std::map<std::string, std::string> env;

  Fixture() {
    flags.String("db", &db, "database");
    flags.Int("http-port", &port, 0, 65535, "port");
    flags.Bool("verbose", &verbose, "chatty");
  }

  std::optional<std::string> Parse(const std::vector<std::string>& args, bool* help = nullptr) {
    bool requested = false;
    auto result = flags.Parse(
        args,
        [this](const char* name) -> const char* {
          const auto it = env.find(name);
          return it == env.end() ? nullptr : it->second.c_str();
        },
        requested);
    if (help != nullptr) *help = requested;
    return result;
  }
};

TEST(Flags, DefaultsEnvironmentAndFlagsInThatOrder) {
  Fixture f;
  EXPECT_FALSE(f.Parse({}).has_value());
  EXPECT_EQ(f.db, "default.db");
  f.env["JILAF_DB"] = "env.db";
  f.env["JILAF_HTTP_PORT"] = "9000";
  EXPECT_FALSE(f.Parse({"--db", "flag.db"}).has_value());
  EXPECT_EQ(f.db, "flag.db");
  EXPECT_EQ(f.port, 9000);
}

TEST(Flags, AcceptsEqualsFormAndBareBooleans) {
  Fixture f;
  EXPECT_FALSE(f.Parse({"--http-port=1234", "--verbose"}).has_value());
  EXPECT_EQ(f.port, 1234);
  EXPECT_TRUE(f.verbose);
}

TEST(Flags, ErrorsNameTheSetting) {
  Fixture f;
  EXPECT_EQ(*f.Parse({"--http-port", "http"}),
            "invalid flag (--http-port / JILAF_HTTP_PORT): 'http' is not an integer");
  EXPECT_EQ(*f.Parse({"--http-port", "70000"}),
            "invalid flag (--http-port / JILAF_HTTP_PORT): 70000 is outside 0..65535");
  EXPECT_EQ(*f.Parse({"--nope"}), "unknown flag --nope (see --help)");
  EXPECT_EQ(*f.Parse({"--db"}), "flag --db needs a value");
  f.env["JILAF_VERBOSE"] = "maybe";
  EXPECT_NE(f.Parse({})->find("JILAF_VERBOSE"), std::string::npos);
}

TEST(Flags, HelpListsEveryFlagWithItsVariable) {
  Fixture f;
  bool help = false;
  EXPECT_FALSE(f.Parse({"--help"}, &help).has_value());
  EXPECT_TRUE(help);
  const auto usage = f.flags.Usage();
  for (const char* text : {"--db", "JILAF_DB", "--http-port", "JILAF_HTTP_PORT", "--verbose"}) {
    EXPECT_NE(usage.find(text), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace jilaf::config
