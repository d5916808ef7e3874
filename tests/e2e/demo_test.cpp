// scripts/demo against the four real services and the real broker, twice in a row: both runs
// succeed, the second loads the next fiscal year instead of a second copy of the first, and the
// fiscal-year reports of that year say what the second run says it loaded.
#include <regex>

#include "tests/e2e/e2e_fixture.hpp"

namespace jilaf::e2e {
namespace {

using nlohmann::json;

class DemoE2e : public E2eTest {
 protected:
  std::string Url(const RunningService& service) {
    return "http://127.0.0.1:" + std::to_string(service.http_port);
  }

  int RunDemo(const RunningService& invitations, const RunningService& projects,
              const RunningService& missions, const RunningService& notifications,
              std::string* output) {
    const std::string command =
        "JILAF_INVITATIONS_URL=" + Url(invitations) + " JILAF_PROJECTS_URL=" + Url(projects) +
        " JILAF_MISSIONS_URL=" + Url(missions) + " JILAF_NOTIFICATIONS_URL=" + Url(notifications) +
        " JILAF_DEMO_TOKEN=" + Token("staff") + " JILAF_DEMO_ADMIN_TOKEN=" + Token("admin") +
        " JILAF_DEMO_REVIEWER_TOKEN=" + Token("staff", "e2e-reviewer") + " " + JILAF_SOURCE_DIR +
        "/scripts/demo";
    return testing::RunCommand(command, output);
  }

  static long Said(const std::string& output, const std::string& pattern) {
    std::smatch match;
    if (!std::regex_search(output, match, std::regex(pattern))) return -1;
    return std::stol(std::regex_replace(match[1].str(), std::regex(","), ""));
  }
};

TEST_F(DemoE2e, SecondRunLoadsTheNextFiscalYearAndItsReportsMatchWhatItSays) {
  auto& invitations = StartInvitations();
  auto& projects = StartProjects();
  auto& missions = StartMissions();
  auto& notifications = StartNotifications();

  std::string first;
  ASSERT_EQ(RunDemo(invitations, projects, missions, notifications, &first), 0) << first;
  EXPECT_NE(first.find("loading FY2026"), std::string::npos) << first;
  EXPECT_NE(first.find("done: loaded FY2026"), std::string::npos) << first;

  std::string second;
  ASSERT_EQ(RunDemo(invitations, projects, missions, notifications, &second), 0) << second;
  EXPECT_NE(second.find("FY2026 is loaded already; loading FY2027"), std::string::npos) << second;
  EXPECT_NE(second.find("done: loaded FY2027"), std::string::npos) << second;

  // FY2027 was empty before the second run: its reports hold exactly what that run says.
  const auto staff = Token("staff");
  const auto people = Call(invitations, "GET", "/v1/reports/fiscal-years/2027", {}, staff);
  ASSERT_EQ(people.status, 200) << people.body;
  const json year = json::parse(people.body);
  const std::string figures = R"(FY2027 report matches: (\d+) nominated, (\d+) selected, (\d+))";
  EXPECT_EQ(year["nominated"].get<long>(), Said(second, figures)) << second;
  EXPECT_EQ(year["selected"].get<long>(),
            Said(second, R"(FY2027 report matches: \d+ nominated, (\d+) selected)"));
  EXPECT_EQ(year["completed"].get<long>(),
            Said(second, R"(FY2027 report matches: \d+ nominated, \d+ selected, (\d+) completed)"));
  EXPECT_GT(year["nominated"].get<long>(), 100);

  const auto money = Call(projects, "GET", "/v1/reports/fiscal-years/2027", {}, staff);
  ASSERT_EQ(money.status, 200) << money.body;
  const json totals = json::parse(money.body)["totals"];
  EXPECT_EQ(totals["projects"].get<long>(),
            Said(second, R"(FY2027 report agrees to the yen: (\d+) projects)"))
      << second;
  EXPECT_EQ(totals["committed_jpy"].get<long>(), Said(second, R"(committed JPY ([\d,]+))"));
  EXPECT_EQ(totals["disbursed_jpy"].get<long>(), Said(second, R"(disbursed JPY ([\d,]+))"));
}

}  // namespace
}  // namespace jilaf::e2e
