// The projects service end to end: one project's whole life through HTTP, its events read back
// from jilaf.projects.events on the real broker, roles, and the served OpenAPI document.
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "common/events/cloud_event.hpp"
#include "tests/e2e/e2e_fixture.hpp"

namespace jilaf::e2e {
namespace {

using std::chrono::seconds;

/// Reads jilaf.projects.events from the beginning, keeping the events of one key.
class ProjectEventReader {
 public:
  struct Event {
    std::map<std::string, std::string> headers;
    nlohmann::json data;
  };

  explicit ProjectEventReader(const std::string& bootstrap) {
    std::string error;
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    conf->set("bootstrap.servers", bootstrap, error);
    conf->set("group.id", "e2e-projects-reader-" + events::NewUuid().substr(0, 8), error);
    conf->set("auto.offset.reset", "earliest", error);
    consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), error));
    consumer_->subscribe({"jilaf.projects.events"});
  }
  ~ProjectEventReader() { consumer_->close(); }

  /// Reads until `done(events so far)` holds or the timeout passes; returns the events of `key`.
  std::vector<Event> Read(const std::string& key,
                          const std::function<bool(const std::vector<Event>&)>& done,
                          seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done(events_) && std::chrono::steady_clock::now() < deadline) {
      std::unique_ptr<RdKafka::Message> message(consumer_->consume(200));
      if (message->err() != RdKafka::ERR_NO_ERROR || message->key() == nullptr ||
          *message->key() != key) {
        continue;
      }
      Event event;
      if (message->headers() != nullptr) {
        for (const auto& header : message->headers()->get_all()) {
          event.headers[header.key()] =
              std::string(static_cast<const char*>(header.value()), header.value_size());
        }
      }
      event.data = nlohmann::json::parse(
          std::string(static_cast<const char*>(message->payload()), message->len()));
      events_.push_back(std::move(event));
    }
    return events_;
  }

 private:
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::vector<Event> events_;
};

class ProjectsE2eTest : public E2eTest {
 protected:
  nlohmann::json Post(const RunningService& svc, const std::string& path,
                      const nlohmann::json& body, int expected, const std::string& token = {},
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
    const auto r = Call(svc, "POST", path, body.dump(), token.empty() ? staff_token_ : token,
                        std::move(headers));
    EXPECT_EQ(r.status, expected) << path << ": " << r.body;
    return r.body.empty() ? nlohmann::json() : nlohmann::json::parse(r.body);
  }

  // POST .../transitions with the current ETag of `resource`.
  nlohmann::json Move(const RunningService& svc, const std::string& resource, nlohmann::json body,
                      int expected = 200, const std::string& token = {}) {
    const auto current = Call(svc, "GET", resource, {}, staff_token_);
    EXPECT_EQ(current.status, 200) << resource << ": " << current.body;
    return Post(svc, resource + "/transitions", body, expected, token,
                {{"If-Match", std::string(current.Header("etag"))}});
  }

  // A second staff member: the projects service lets no one approve their own proposal or pay
  // a tranche they approved.
  std::string Colleague() { return Token("staff", "e2e-colleague"); }
};

TEST_F(ProjectsE2eTest, WholeLifeOfAProjectAndItsEvents) {
  auto& projects = StartProjects({"--overdue-scan-interval-ms", "200"});
  const std::string admin = Token("admin");
  const auto partner = Post(projects, "/v1/partners",
                            {{"name", "Federation of Independent Trade Unions"},
                             {"acronym", "FITU"},
                             {"country", "KH"},
                             {"kind", "federation"},
                             {"contact", {{"name", "Mr Sok"}, {"email", "sok@example.org"}}}},
                            201);
  const auto project =
      Post(projects, "/v1/projects",
           {{"title", {{"ja", "建設現場の安全"}, {"en", "Safer construction sites"}}},
            {"country", "KH"},
            {"partner_id", partner["id"]},
            {"area", "occupational_safety_health"},
            {"support_type", "both"},
            {"description", "Training of union safety representatives"},
            {"funding_source", "JILAF own funds"},
            {"start_date", "2026-04-01"},
            {"end_date", "2027-03-31"},
            {"budget", {{"amount", 8'000'000}, {"currency", "JPY"}}}},
           201, {}, {{"Idempotency-Key", "project-" + events::NewUuid()}});
  const std::string id = project["id"];
  const std::string path = "/v1/projects/" + id;

  // Found by its title in either language, and by its partner's name, also once renamed.
  auto found = [&](const std::string& q) {
    const auto result = Call(projects, "GET", "/v1/projects?q=" + q, {}, Token("viewer"));
    EXPECT_EQ(result.status, 200) << result.body;
    return result.body.find(id) != std::string::npos;
  };
  EXPECT_TRUE(found("safer%20construction"));
  EXPECT_TRUE(found("%E5%BB%BA%E8%A8%AD"));  // 建設
  EXPECT_TRUE(found("fitu"));
  const auto current =
      Call(projects, "GET", "/v1/partners/" + partner["id"].get<std::string>(), {}, staff_token_);
  const auto renamed = Call(projects, "PATCH", "/v1/partners/" + partner["id"].get<std::string>(),
                            R"({"name": "Cambodian Construction Workers Federation"})",
                            staff_token_, {{"If-Match", std::string(current.Header("etag"))}});
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_TRUE(found("cambodian%20workers"));
  EXPECT_FALSE(found("independent"));

  Move(projects, path, {{"to", "under_review"}});
  Move(projects, path, {{"to", "approved"}}, 409);  // no approving review yet
  Post(projects, path + "/reviews", {{"decision", "approve"}, {"comment", "Well targeted"}}, 201,
       Colleague());
  Move(projects, path, {{"to", "approved"}});
  Move(projects, path, {{"to", "active"}});

  // A report due long ago: the scheduler announces it overdue, once, while the project runs.
  const auto report =
      Post(projects, path + "/reports", {{"kind", "financial"}, {"due_date", "2026-01-31"}}, 201);
  const std::string report_path = "/v1/reports/" + report["id"].get<std::string>();
  const auto announced = [&] {
    const auto got = Call(projects, "GET", report_path, {}, staff_token_);
    return nlohmann::json::parse(got.body).contains("overdue_notified_for");
  };
  for (int i = 0; i < 300 && !announced(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(announced()) << "the overdue scan did not announce the missed report";

  // 20,000.00 USD at 150.25 → 3,005,000 yen; paid at 151.10 on the value date → 3,022,000.
  const auto tranche = Post(projects, path + "/tranches",
                            {{"amount", 2'000'000},
                             {"currency", "USD"},
                             {"exchange_rate", "150.25"},
                             {"planned_date", "2026-06-01"}},
                            201);
  const std::string tranche_path = "/v1/tranches/" + tranche["id"].get<std::string>();
  Move(projects, tranche_path, {{"to", "requested"}});
  Move(projects, tranche_path, {{"to", "approved"}});
  const auto paid =
      Move(projects, tranche_path,
           {{"to", "paid"}, {"value_date", "2026-06-03"}, {"exchange_rate", "151.10"}}, 200,
           Colleague());
  EXPECT_EQ(paid["amount_jpy"], 3'022'000);
  // Over the ceiling: 4,978,000 yen remain.
  const auto big =
      Post(projects, path + "/tranches",
           {{"amount", 5'000'000}, {"currency", "JPY"}, {"planned_date", "2026-09-01"}}, 201);
  const std::string big_path = "/v1/tranches/" + big["id"].get<std::string>();
  Move(projects, big_path, {{"to", "requested"}});
  const auto refused = Move(projects, big_path, {{"to", "approved"}}, 409);
  EXPECT_EQ(refused["remaining_jpy"], 4'978'000) << refused;

  const auto dispatch = Post(projects, path + "/dispatches",
                             {{"expert", {{"id", "e2e-" + id}, {"name", "Tanaka Ichiro"}}},
                              {"role", "Safety trainer"},
                              {"country", "KH"},
                              {"from_date", "2026-07-01"},
                              {"to_date", "2026-07-10"}},
                             201);
  Post(projects, path + "/dispatches",
       {{"expert", {{"id", "e2e-" + id}, {"name", "Tanaka Ichiro"}}},
        {"role", "Safety trainer"},
        {"country", "KH"},
        {"from_date", "2026-07-10"},
        {"to_date", "2026-07-12"}},
       409);
  const auto indicator = Post(projects, path + "/indicators",
                              {{"name", "Safety representatives trained"},
                               {"unit", "persons"},
                               {"baseline", 0},
                               {"target", 60},
                               {"disaggregation", {"female", "male"}}},
                              201);
  const std::string indicator_path = "/v1/indicators/" + indicator["id"].get<std::string>();
  const auto actual = Call(projects, "PUT", indicator_path + "/actuals/2026-Q2",
                           R"({"value": 25, "breakdown": {"female": 11, "male": 14}})",
                           staff_token_, {{"If-Match", "\"v1\""}});
  EXPECT_EQ(actual.status, 200) << actual.body;

  // Roles: viewers read, staff cannot amend or delete, admin can amend.
  const std::string viewer = Token("viewer");
  EXPECT_EQ(Call(projects, "GET", path, {}, viewer).status, 200);
  EXPECT_EQ(Call(projects, "POST", "/v1/partners", "{}", viewer).status, 403);
  const nlohmann::json amendment = {{"reason", "Extension after flood delays"},
                                    {"end_date", "2027-06-30"}};
  Post(projects, path + "/amendments", amendment, 403);
  EXPECT_EQ(Call(projects, "DELETE", path, {}, staff_token_, {{"If-Match", "\"v1\""}}).status, 403);
  Post(projects, path + "/amendments", amendment, 201, admin);

  Move(projects, path, {{"to", "suspended"}, {"comment", "Flooding"}});
  Move(projects, path, {{"to", "active"}});
  Move(projects, path, {{"to", "completed"}});
  Move(projects, path, {{"to", "closed"}});

  const auto fy = Call(projects, "GET", "/v1/reports/fiscal-years/2026", {}, viewer);
  ASSERT_EQ(fy.status, 200) << fy.body;
  EXPECT_GE(nlohmann::json::parse(fy.body)["by_country"]["KH"]["disbursed_jpy"].get<std::int64_t>(),
            3'022'000);

  const std::vector<std::string> expected = {"project.created",   "project.under_review",
                                             "review.recorded",   "project.approved",
                                             "project.active",    "report.scheduled",
                                             "report.overdue",    "tranche.planned",
                                             "tranche.requested", "tranche.approved",
                                             "tranche.paid",      "dispatch.planned",
                                             "indicator.created", "indicator.actual_recorded",
                                             "project.amended",   "project.suspended",
                                             "project.completed", "project.closed"};
  ProjectEventReader reader(bootstrap_);
  const auto all = reader.Read(
      id,
      [&](const std::vector<ProjectEventReader::Event>& so_far) {
        bool closed = false;
        bool overdue = false;
        for (const auto& event : so_far) {
          closed = closed || event.headers.at("ce_type") == "jilaf.projects.project.closed";
          overdue = overdue || event.headers.at("ce_type") == "jilaf.projects.report.overdue";
        }
        return closed && overdue;
      },
      seconds(60));
  std::map<std::string, int> counts;
  for (const auto& event : all) {
    const std::string type = event.headers.at("ce_type");
    counts[type.substr(std::string("jilaf.projects.").size())]++;
    // Every event names a schema that exists in the repository.
    const std::string schema = event.headers.at("ce_dataschema");
    EXPECT_TRUE(std::filesystem::exists(std::string(JILAF_SOURCE_DIR) + schema))
        << type << " → " << schema;
    EXPECT_EQ(event.data["project_id"], id) << type;
    if (type == "jilaf.projects.tranche.paid") {
      EXPECT_EQ(event.data["amount"], 2'000'000);
      EXPECT_EQ(event.data["currency"], "USD");
      EXPECT_EQ(event.data["exchange_rate"], "151.10");
      EXPECT_EQ(event.data["amount_jpy"], 3'022'000);
      EXPECT_EQ(event.data["value_date"], "2026-06-03");
    }
    if (type == "jilaf.projects.report.overdue") {
      EXPECT_EQ(event.data["report_id"], report["id"]);
    }
  }
  for (const auto& type : expected) EXPECT_GE(counts[type], 1) << type << " missing";
  EXPECT_EQ(counts["report.overdue"], 1);    // many scans ran; one announcement per due date
  EXPECT_EQ(counts["tranche.approved"], 1);  // the refused approval left no event
  EXPECT_EQ(dispatch["status"], "planned");
}

// Over real HTTP with real tokens: the same staff member is refused the second step of each
// two-person decision with a problem naming the rule; a colleague then succeeds.
TEST_F(ProjectsE2eTest, SeparationOfDutiesNeedsASecondStaffMember) {
  auto& projects = StartProjects();
  const auto partner = Post(projects, "/v1/partners",
                            {{"name", "Nepal Trade Union Congress"},
                             {"country", "NP"},
                             {"kind", "national_centre"},
                             {"contact", {{"name", "Mr Rai"}, {"email", "rai@example.org"}}}},
                            201);
  const auto project = Post(projects, "/v1/projects",
                            {{"title", {{"ja", "家族計画"}, {"en", "Family planning at work"}}},
                             {"country", "NP"},
                             {"partner_id", partner["id"]},
                             {"area", "family_planning"},
                             {"support_type", "financing"},
                             {"funding_source", "JILAF own funds"},
                             {"start_date", "2026-04-01"},
                             {"end_date", "2027-03-31"},
                             {"budget", {{"amount", 2'000'000}, {"currency", "JPY"}}}},
                            201);
  const std::string path = "/v1/projects/" + project["id"].get<std::string>();
  EXPECT_EQ(project["created_by"], "e2e-staff");
  Move(projects, path, {{"to", "under_review"}});

  const nlohmann::json approve = {{"decision", "approve"}, {"comment", "My own plan"}};
  const auto own = Call(projects, "POST", path + "/reviews", approve.dump(), staff_token_);
  EXPECT_EQ(own.status, 403) << own.body;
  EXPECT_EQ(own.Header("content-type"), "application/problem+json");
  const auto refusal = nlohmann::json::parse(own.body);
  EXPECT_EQ(refusal["type"], "/problems/separation-of-duties") << own.body;
  EXPECT_EQ(refusal["rule"], "author-cannot-approve") << own.body;
  EXPECT_EQ(refusal["earlier_actor"], "e2e-staff") << own.body;
  const auto reviews = Call(projects, "GET", path + "/reviews", {}, staff_token_);
  EXPECT_EQ(nlohmann::json::parse(reviews.body)["items"].size(), 0u) << reviews.body;
  Post(projects, path + "/reviews", approve, 201, Colleague());
  Move(projects, path, {{"to", "approved"}});

  const auto tranche =
      Post(projects, path + "/tranches",
           {{"amount", 500'000}, {"currency", "JPY"}, {"planned_date", "2026-06-01"}}, 201);
  const std::string tranche_path = "/v1/tranches/" + tranche["id"].get<std::string>();
  Move(projects, tranche_path, {{"to", "requested"}});
  Move(projects, tranche_path, {{"to", "approved"}}, 200, Colleague());
  const auto unpaid = Move(projects, tranche_path, {{"to", "paid"}}, 403, Colleague());
  EXPECT_EQ(unpaid["type"], "/problems/separation-of-duties") << unpaid;
  EXPECT_EQ(unpaid["rule"], "approver-cannot-pay") << unpaid;
  EXPECT_EQ(unpaid["earlier_actor"], "e2e-colleague") << unpaid;
  const auto paid = Move(projects, tranche_path, {{"to", "paid"}});
  EXPECT_EQ(paid["status"], "paid") << paid;
}

TEST_F(ProjectsE2eTest, ServesOpenApiAndFieldPreciseProblems) {
  auto& projects = StartProjects();
  const auto doc = Call(projects, "GET", "/openapi.json");
  ASSERT_EQ(doc.status, 200);
  const auto openapi = nlohmann::json::parse(doc.body);
  EXPECT_EQ(openapi["openapi"], "3.1.0");
  EXPECT_TRUE(openapi["paths"].contains("/v1/reports/fiscal-years/{fy}"));

  const auto bad =
      Call(projects, "POST", "/v1/partners",
           R"({"name": "X", "country": "Japan", "contact": {"name": "A"}})", staff_token_);
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(bad.Header("content-type"), "application/problem+json");
  std::set<std::string> fields;
  const auto problem = nlohmann::json::parse(bad.body);
  for (const auto& e : problem["errors"]) fields.insert(e["field"]);
  EXPECT_EQ(fields, (std::set<std::string>{"/country", "/contact/email"})) << bad.body;
  EXPECT_EQ(Call(projects, "GET", "/v1/projects?area=mining", {}, staff_token_).status, 400);
  EXPECT_EQ(Call(projects, "GET", "/v1/projects", {}, {}).status, 401);
}

}  // namespace
}  // namespace jilaf::e2e
