// Notifications end to end: the real broker, the real notifications binary, a real SMTP server
// (aiosmtpd) and a webhook receiver in this process.
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>

#include "common/http/server.hpp"
#include "common/util/clock.hpp"
#include "services/notifications/signature.hpp"
#include "tests/e2e/e2e_fixture.hpp"

namespace jilaf::e2e {
namespace {

using nlohmann::json;
using std::chrono::seconds;

/// An HTTP endpoint that checks each webhook's signature and can be told to fail.
class WebhookReceiver {
 public:
  /// `workers`: requests it can hold at once (see Hold).
  explicit WebhookReceiver(std::string secret, std::size_t workers = 2)
      : secret_(std::move(secret)) {
    runtime_ = std::make_unique<http::Runtime>(1, workers);
    http::ServerOptions options;
    options.name = "webhook-receiver";
    options.address = "127.0.0.1";
    server_ = std::make_unique<http::HttpServer>(
        *runtime_, options, [this](http::Request& request) { return Handle(request); });
    server_->Start();
    runtime_->Start();
  }
  ~WebhookReceiver() {
    Hold(false);
    server_->Stop(std::chrono::milliseconds(1000));
    runtime_->Stop();
  }

  [[nodiscard]] std::string Url() const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + "/hooks/jilaf";
  }
  void FailNext(int count) { fail_next_ = count; }
  void AlwaysFail(bool fail) { always_fail_ = fail; }
  /// Answers every request with 302 to `location` (empty: stop redirecting).
  void RedirectTo(std::string location) {
    std::lock_guard lock(mutex_);
    redirect_ = std::move(location);
  }
  /// While true, every request waits (a slow endpoint) until Hold(false).
  void Hold(bool hold) {
    {
      std::lock_guard lock(mutex_);
      hold_ = hold;
    }
    released_.notify_all();
  }
  /// Requests being answered now, and the most there were at once.
  [[nodiscard]] int InFlight() const { return in_flight_; }
  [[nodiscard]] int PeakInFlight() const { return peak_in_flight_; }
  [[nodiscard]] int Requests() const { return requests_; }
  /// The events accepted (2xx) so far, with whether their signature verified.
  std::vector<std::pair<json, bool>> Accepted() {
    std::lock_guard lock(mutex_);
    return accepted_;
  }
  [[nodiscard]] int BadSignatures() const { return bad_signatures_; }

 private:
  http::Response Handle(http::Request& request) {
    ++requests_;
    const int now_in_flight = ++in_flight_;
    for (int peak = peak_in_flight_;
         now_in_flight > peak && !peak_in_flight_.compare_exchange_weak(peak, now_in_flight);) {
    }
    {
      std::unique_lock lock(mutex_);
      released_.wait_for(lock, std::chrono::seconds(60), [this] { return !hold_; });
    }
    auto response = Answer(request);
    --in_flight_;
    return response;
  }

  http::Response Answer(http::Request& request) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const bool signed_ok = notifications::VerifyWebhookSignature(
        secret_, std::string(request.Header("x-jilaf-signature")), request.body, now);
    if (!signed_ok) ++bad_signatures_;
    if (always_fail_) return http::Response::Empty(500);
    {
      std::lock_guard lock(mutex_);
      if (!redirect_.empty()) {
        auto response = http::Response::Empty(302);
        response.SetHeader("Location", redirect_);
        return response;
      }
    }
    if (fail_next_ > 0) {
      --fail_next_;
      return http::Response::Empty(503);
    }
    std::lock_guard lock(mutex_);
    accepted_.emplace_back(json::parse(request.body), signed_ok);
    return http::Response::Empty(204);
  }

  std::string secret_;
  std::unique_ptr<http::Runtime> runtime_;
  std::unique_ptr<http::HttpServer> server_;
  std::atomic<int> requests_{0};
  std::atomic<int> fail_next_{0};
  std::atomic<bool> always_fail_{false};
  std::atomic<int> bad_signatures_{0};
  std::atomic<int> in_flight_{0};
  std::atomic<int> peak_in_flight_{0};
  std::mutex mutex_;
  std::condition_variable released_;
  bool hold_ = false;
  std::vector<std::pair<json, bool>> accepted_;
  std::string redirect_;
};

class NotificationsE2e : public E2eTest {
 protected:
  // A certificate for 127.0.0.1 made by OpenSSL, and an SMTP server that requires STARTTLS with
  // it and AUTH as jilaf-mailer; the certificate's path (empty, with a failure, if OpenSSL
  // failed).
  std::string StartTlsAuthSmtpSink() {
    const std::string cert = dir_ + "/smtp-cert.pem";
    const std::string key = dir_ + "/smtp-key.pem";
    std::string output;
    const int status = testing::RunCommand(
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext "
        "subjectAltName=IP:127.0.0.1 -keyout " +
            key + " -out " + cert,
        &output);
    EXPECT_EQ(status, 0) << output;
    if (status != 0) return {};
    smtp_port_ = StartSmtpSink({"--tls", cert, key, "--auth", "jilaf-mailer", "s3cret-Passw0rd"});
    return cert;
  }

  // missions' report.published for `mission`, titled `title` in both languages.
  void PublishReport(const std::string& mission, const json& title,
                     const std::string& published_at) {
    ProduceEvent(
        "jilaf.missions.events",
        events::MakeEvent("/jilaf/missions", "jilaf.missions.report.published", mission,
                          "reports/" + mission, "/schemas/missions/report.published/v1.json",
                          {{"mission_id", mission},
                           {"status", "published"},
                           {"previous_status", "in_review"},
                           {"fiscal_year", 2026},
                           {"countries", {"VN"}},
                           {"mission_title", title},
                           {"title", title},
                           {"summary", {{"ja", "概要"}, {"en", "Summary"}}},
                           {"published_at", published_at}}));
  }

  void SetUp() override {
    E2eTest::SetUp();
    marker_ = "e2e-" + events::NewUuid().substr(0, 8);
    contact_ = marker_ + "@partner.example";
    admin_ = Token("admin");
  }

  RunningService& StartWithSmtp(const std::string& db = {},
                                const std::vector<std::string>& extra = {}) {
    if (smtp_port_ == 0) smtp_port_ = StartSmtpSink();
    std::vector<std::string> args = {"--smtp-port",
                                     std::to_string(smtp_port_),
                                     "--retry-base-ms",
                                     "100",
                                     "--retry-max-ms",
                                     "400",
                                     "--delivery-max-attempts",
                                     "4",
                                     "--dispatch-interval-ms",
                                     "50",
                                     "--webhook-dev-hosts",
                                     "127.0.0.1"};  // the receiver runs here, over plain http
    args.insert(args.end(), extra.begin(), extra.end());
    return StartNotificationsWith(args, db);
  }

  json Post(const RunningService& service, const std::string& target, const json& body,
            int expected) {
    const auto result = Call(service, "POST", target, body.dump(), admin_);
    EXPECT_EQ(result.status, expected) << target << ": " << result.body;
    return result.body.empty() ? json() : json::parse(result.body);
  }

  json Put(const RunningService& service, const std::string& target, const json& body,
           int expected) {
    const auto result = Call(service, "PUT", target, body.dump(), admin_);
    EXPECT_EQ(result.status, expected) << target << ": " << result.body;
    return json::parse(result.body);
  }

  /// Every delivery the query selects (all pages).
  std::vector<json> Deliveries(const RunningService& service, const std::string& query) {
    std::vector<json> out;
    std::string token;
    do {
      const auto result = Call(
          service, "GET",
          "/v1/deliveries?page_size=200&" + query + (token.empty() ? "" : "&page_token=" + token),
          {}, admin_);
      EXPECT_EQ(result.status, 200) << result.body;
      if (result.status != 200) break;
      const json page = json::parse(result.body);
      for (const auto& item : page["items"]) out.push_back(item);
      token = page.value("next_page_token", "");
    } while (!token.empty());
    return out;
  }

  /// Email (ja, to the nominating organisation) and webhook rules for this test's events only.
  std::string SetUpInvitationRules(const RunningService& notifications,
                                   const WebhookReceiver& receiver) {
    const std::string type = "jilaf.invitations.nomination.submitted";
    Put(notifications, "/v1/templates/" + type + "/email/ja",
        {{"subject",
          "【JILAF】{{data.candidate.family_name}} {{data.candidate.given_name}} 様の"
          "ご推薦を受け付けました"},
         {"body",
          "{{data.nominating_organisation.name}} 御中\n\n"
          "{{data.programme_title.ja}}への{{data.candidate.family_name}} "
          "{{data.candidate.given_name}} 様のご推薦を受け付けました。\n"
          "今後ともよろしくお願い申し上げます。\n国際労働財団（JILAF）"}},
        201);
    Put(notifications, "/v1/templates/" + type + "/email/en",
        {{"subject",
          "Nomination of {{data.candidate.given_name}} {{data.candidate.family_name}} "
          "received"},
         {"body", "Dear {{data.nominating_organisation.name}},\nwe received your nomination."}},
        201);
    const json pin = {
        {"pointer", "/nominating_organisation/contact_email"}, {"op", "eq"}, {"value", contact_}};
    Post(notifications, "/v1/rules",
         {{"name", "Acknowledge nominations to the partner"},
          {"event_type", type},
          {"channel", "email"},
          {"locale", "ja"},
          {"category", "acknowledgements"},
          {"recipients", {{{"pointer", "/nominating_organisation/contact_email"}}}},
          {"conditions", {pin}}},
         201);
    const auto hook =
        Post(notifications, "/v1/webhooks", {{"url", receiver.Url()}, {"secret", secret_}}, 201);
    Post(notifications, "/v1/rules",
         {{"name", "Nominations to the partner CRM"},
          {"event_type", "jilaf.invitations.*"},
          {"channel", "webhook"},
          {"recipients", {{{"endpoint", hook["id"]}}}},
          {"conditions", {pin}}},
         201);
    return hook["id"];
  }

  testing::HttpResult NominateWithContact(const RunningService& invitations,
                                          const std::string& programme_id) {
    const json body = {{"candidate",
                        {{"family_name", "Nguyen"},
                         {"given_name", "Lan"},
                         {"nationality", "VN"},
                         {"email", "lan@example.org"},
                         {"union", "VGCL"},
                         {"position", "Youth officer"}}},
                       {"nominating_organisation",
                        {{"name", "VGCL"}, {"country", "VN"}, {"contact_email", contact_}}}};
    return Call(invitations, "POST", "/v1/programmes/" + programme_id + "/nominations", body.dump(),
                staff_token_);
  }

  /// A tranche event as the projects service will publish it (produced here directly).
  events::CloudEvent Tranche(std::int64_t amount) {
    const std::string project = events::NewUuid();
    // The real producer's shape (schemas/projects/tranche.paid/v1.json, which the contract check
    // holds this to), plus a marker of the test's own.
    return events::MakeEvent("/jilaf/projects", "jilaf.projects.tranche.paid", project,
                             "projects/" + project, "/schemas/projects/tranche.paid/v1.json",
                             {{"project_id", project},
                              {"tranche_id", events::NewUuid()},
                              {"status", "paid"},
                              {"from", "approved"},
                              {"amount", amount},
                              {"currency", "JPY"},
                              {"exchange_rate", "1"},
                              {"amount_jpy", amount},
                              {"planned_date", "2026-07-01"},
                              {"value_date", "2026-07-01"},
                              {"country", "VN"},
                              {"area", "industrial_relations"},
                              {"support_type", "grant"},
                              {"project_fiscal_year", 2026},
                              {"version", 4},
                              {"marker", marker_}});
  }

  void SetUpTrancheWebhook(const RunningService& notifications, const WebhookReceiver& receiver) {
    const auto hook =
        Post(notifications, "/v1/webhooks", {{"url", receiver.Url()}, {"secret", secret_}}, 201);
    Post(notifications, "/v1/rules",
         {{"name", "Large tranches to finance"},
          {"event_type", "jilaf.projects.tranche.paid"},
          {"channel", "webhook"},
          {"operational", true},
          {"recipients", {{{"endpoint", hook["id"]}}}},
          {"conditions",
           {{{"pointer", "/marker"}, {"op", "eq"}, {"value", marker_}},
            {{"pointer", "/amount"}, {"op", "gt"}, {"value", 1000000}}}}},
         201);
  }

  /// Caught up with every topic it reads: a lag gauge for each of the 9 partitions (3 topics of
  /// 3), all at zero (NaN, lag unknown, is not caught up either).
  bool CaughtUp(const RunningService& notifications) {
    const auto text = Admin(notifications, "/metrics").body;
    int partitions = 0;
    bool behind = false;
    std::size_t pos = 0;
    while ((pos = text.find("\njilaf_consumer_lag{", pos)) != std::string::npos) {
      const auto end = std::min(text.find('\n', pos + 1), text.size());
      const auto line = text.substr(pos + 1, end - pos - 1);
      ++partitions;
      behind = behind || !(std::stod(line.substr(line.rfind(' ') + 1)) == 0);
      pos = end;
    }
    return partitions >= 9 && !behind;
  }

  std::string marker_;
  std::string contact_;
  std::string admin_;
  std::string secret_ = "whsec_e2e_0123456789abcdef";
  int smtp_port_ = 0;
};

TEST_F(NotificationsE2e, NominationProducesExactlyTheEmailWebhookAndInboxEntry) {
  WebhookReceiver receiver(secret_);
  auto& invitations = StartInvitations();
  auto& notifications = StartWithSmtp();
  SetUpInvitationRules(notifications, receiver);

  const auto programme_id = CreateOpenProgramme(invitations, "Young Leaders " + marker_);
  const auto created = NominateWithContact(invitations, programme_id);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string nomination_id = json::parse(created.body)["id"];

  ASSERT_TRUE(testing::WaitUntil([&] { return !Mails().empty() && !receiver.Accepted().empty(); },
                                 seconds(60)))
      << "mails: " << Mails().size() << ", webhooks: " << receiver.Requests();
  ASSERT_TRUE(WaitForInbox(notifications, {"nominations/" + nomination_id}, seconds(60)));

  const auto mails = Mails();
  ASSERT_EQ(mails.size(), 1u);
  const auto& mail = mails[0];
  EXPECT_EQ(mail["rcpt_tos"], json::array({contact_}));
  EXPECT_EQ(mail["subject"], "【JILAF】Nguyen Lan 様のご推薦を受け付けました");
  EXPECT_NE(mail["body"].get<std::string>().find("VGCL 御中"), std::string::npos) << mail;
  EXPECT_NE(mail["body"].get<std::string>().find(
                "青年労働組合指導者招へいへのNguyen Lan 様のご推薦を受け付けました。"),
            std::string::npos)
      << mail;

  const auto accepted = receiver.Accepted();
  ASSERT_EQ(accepted.size(), 1u);
  EXPECT_TRUE(accepted[0].second) << "webhook signature did not verify";
  EXPECT_EQ(receiver.BadSignatures(), 0);
  EXPECT_EQ(accepted[0].first["type"], "jilaf.invitations.nomination.submitted");
  EXPECT_EQ(accepted[0].first["subject"], "nominations/" + nomination_id);
  EXPECT_EQ(accepted[0].first["data"]["candidate"]["family_name"], "Nguyen");

  const std::string event_id = accepted[0].first["id"];
  const auto email = Deliveries(notifications, "channel=email&event_id=" + event_id);
  ASSERT_EQ(email.size(), 1u);
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        return Deliveries(notifications, "status=sent&channel=email&event_id=" + event_id).size() ==
               1;
      },
      seconds(60)));
  EXPECT_EQ(mail["message_id"], "<" + email[0]["id"].get<std::string>() + "@notifications.jilaf>");
  EXPECT_EQ(Deliveries(notifications, "channel=webhook&event_id=" + event_id).size(), 1u);
  const auto inbox = Deliveries(notifications, "channel=inbox&event_id=" + event_id);
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox[0]["status"], "sent");

  int items = 0;
  for (const auto& item : Inbox(notifications)) {
    if (item["event"]["subject"] != "nominations/" + nomination_id) continue;
    ++items;
    EXPECT_EQ(item["title"], "New nomination: Nguyen Lan (VN)");
    EXPECT_EQ(item["audience"], "staff");
    EXPECT_EQ(item["read"], false);
    const auto read =
        Call(notifications, "POST", "/v1/inbox/" + item["id"].get<std::string>() + "/read", {},
             staff_token_);
    EXPECT_EQ(read.status, 204) << read.body;
  }
  EXPECT_EQ(items, 1);
  for (const auto& item : Inbox(notifications)) {
    if (item["event"]["subject"] == "nominations/" + nomination_id) {
      EXPECT_EQ(item["read"], true);
    }
  }
  EXPECT_GE(Metric(notifications,
                   "jilaf_notifications_deliveries_total{channel=\"email\",status=\"sent\"}"),
            1.0);
  // Outcomes reach analytics: rules, template saves and deliveries on jilaf.notifications.events.
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        return Metric(notifications,
                      "jilaf_events_published_total{topic=\"jilaf.notifications.events\"}") >= 8.0;
      },
      seconds(60)));
}

TEST_F(NotificationsE2e, ReplayOfEveryTopicSendsNothingAgain) {
  WebhookReceiver receiver(secret_);
  auto& invitations = StartInvitations();
  auto* notifications = &StartWithSmtp();
  SetUpInvitationRules(*notifications, receiver);
  SetUpTrancheWebhook(*notifications, receiver);
  const auto programme_id = CreateOpenProgramme(invitations, "Replay " + marker_);
  ASSERT_EQ(NominateWithContact(invitations, programme_id).status, 201);
  ProduceEvent("jilaf.projects.events", Tranche(2000000));
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return Mails().size() == 1 && receiver.Accepted().size() == 2; }, seconds(60)))
      << "mails: " << Mails().size() << ", webhooks: " << receiver.Accepted().size();
  // Earlier tests' events (the default rules give staff some of projects and missions too) are
  // planned while the service catches up: count once it has.
  ASSERT_TRUE(testing::WaitUntil([&] { return CaughtUp(*notifications); }, seconds(60)));
  const auto deliveries_before = Deliveries(*notifications, "").size();

  const std::string db = notifications->db;
  Stop(*notifications);
  KafkaCtl("reset-offsets " + group_ + " jilaf.invitations.events");
  KafkaCtl("reset-offsets " + group_ + " jilaf.projects.events");
  notifications = &StartWithSmtp(db);
  const std::string duplicates = "jilaf_events_duplicates_total{consumer=\"" + group_ + "\"";
  ASSERT_TRUE(
      testing::WaitUntil([&] { return Metric(*notifications, duplicates) >= 3.0; }, seconds(60)));
  // Give the dispatcher (every 50 ms) many passes: anything re-planned would be sent by then.
  EXPECT_FALSE(testing::WaitUntil([&] { return Mails().size() > 1 || receiver.Requests() > 2; },
                                  seconds(3)));
  EXPECT_EQ(Mails().size(), 1u);
  EXPECT_EQ(receiver.Requests(), 2);
  EXPECT_EQ(Deliveries(*notifications, "").size(), deliveries_before);
}

TEST_F(NotificationsE2e, WebhookFailingThreeTimesIsSentOnceAfterRetries) {
  WebhookReceiver receiver(secret_);
  auto& notifications = StartWithSmtp();
  SetUpTrancheWebhook(notifications, receiver);
  receiver.FailNext(3);
  const auto small = Tranche(500000);  // below the rule's threshold: no delivery
  const auto large = Tranche(1500000);
  ProduceEvent("jilaf.projects.events", small);
  ProduceEvent("jilaf.projects.events", large);
  ASSERT_TRUE(testing::WaitUntil([&] { return !receiver.Accepted().empty(); }, seconds(60)))
      << "requests: " << receiver.Requests();
  EXPECT_EQ(receiver.Requests(), 4);
  ASSERT_EQ(receiver.Accepted().size(), 1u);
  EXPECT_EQ(receiver.Accepted()[0].first["id"], large.id);
  EXPECT_TRUE(receiver.Accepted()[0].second);
  std::vector<json> deliveries;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        deliveries = Deliveries(notifications, "event_id=" + large.id);
        return deliveries.size() == 1 && deliveries[0]["status"] == "sent";
      },
      seconds(60)));
  EXPECT_EQ(deliveries[0]["attempts"], 4);
  EXPECT_EQ(deliveries[0]["history"].size(), 4u);
  EXPECT_EQ(deliveries[0]["history"][0]["outcome"], "failed");
  EXPECT_TRUE(Deliveries(notifications, "event_id=" + small.id).empty());
  EXPECT_GE(Metric(notifications,
                   "jilaf_notifications_deliveries_total{channel=\"webhook\",status=\"retrying\"}"),
            3.0);
}

// One slow webhook endpoint holds up only its own deliveries: the mail of the same events goes
// out through the real SMTP server while the endpoint still holds its requests, no more than
// --dispatch-per-endpoint requests reach it at once, and each delivery is sent exactly once.
TEST_F(NotificationsE2e, SlowWebhookHoldsUpNeitherTheMailNorMoreThanItsLimit) {
  WebhookReceiver receiver(secret_, 8);  // could take 8 at once: the limit is the dispatcher's
  receiver.Hold(true);
  auto& notifications = StartWithSmtp({}, {"--dispatch-concurrency", "4", "--dispatch-per-endpoint",
                                           "2", "--webhook-timeout-ms", "60000"});
  SetUpTrancheWebhook(notifications, receiver);
  const std::string type = "jilaf.projects.tranche.paid";
  for (const char* locale : {"ja", "en"}) {
    Put(notifications, "/v1/templates/" + type + "/email/" + locale,
        {{"subject", "Tranche paid: {{data.amount}} {{data.currency}}"},
         {"body", "A tranche was paid."}},
        201);
  }
  Post(notifications, "/v1/rules",
       {{"name", "Paid tranches to finance by mail"},
        {"event_type", type},
        {"channel", "email"},
        {"locale", "en"},
        {"operational", true},
        {"recipients", {{{"address", contact_}}}},
        {"conditions", {{{"pointer", "/marker"}, {"op", "eq"}, {"value", marker_}}}}},
       201);
  constexpr int kEvents = 5;
  std::vector<std::string> ids;
  for (int i = 0; i < kEvents; ++i) {
    const auto event = Tranche(2'000'000 + i);
    ids.push_back(event.id);
    ProduceEvent("jilaf.projects.events", event);
  }
  ASSERT_TRUE(testing::WaitUntil([&] { return Mails().size() == kEvents; }, seconds(60)))
      << "mails: " << Mails().size() << ", webhook requests: " << receiver.Requests();
  // Every mail is out while the slow endpoint holds as many requests as it may get, no more.
  EXPECT_TRUE(testing::WaitUntil([&] { return receiver.InFlight() == 2; }, seconds(10)))
      << "in flight: " << receiver.InFlight();
  EXPECT_EQ(receiver.Requests(), 2);
  EXPECT_TRUE(receiver.Accepted().empty());
  // A mail reaches the sink a moment before its delivery is recorded as sent.
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        return Deliveries(notifications, "channel=email&status=sent").size() ==
               static_cast<std::size_t>(kEvents);
      },
      seconds(10)))
      << "e-mail deliveries recorded as sent: "
      << Deliveries(notifications, "channel=email&status=sent").size();

  receiver.Hold(false);
  ASSERT_TRUE(
      testing::WaitUntil([&] { return receiver.Accepted().size() == kEvents; }, seconds(60)))
      << "webhooks accepted: " << receiver.Accepted().size();
  EXPECT_EQ(receiver.PeakInFlight(), 2);
  for (const auto& id : ids) {
    std::vector<json> deliveries;
    ASSERT_TRUE(testing::WaitUntil(
        [&] {
          deliveries = Deliveries(notifications, "channel=webhook&status=sent&event_id=" + id);
          return deliveries.size() == 1;
        },
        seconds(60)));
    EXPECT_EQ(deliveries[0]["attempts"], 1) << deliveries[0];
  }
  // At most once per attempt: no delivery reached an endpoint twice.
  EXPECT_FALSE(testing::WaitUntil(
      [&] { return receiver.Requests() > kEvents || Mails().size() > kEvents; }, seconds(1)));
}

TEST_F(NotificationsE2e, AlwaysFailingWebhookGoesDeadAndIsRedriven) {
  WebhookReceiver receiver(secret_);
  auto& notifications = StartWithSmtp();
  SetUpTrancheWebhook(notifications, receiver);
  receiver.AlwaysFail(true);
  const auto event = Tranche(3000000);
  ProduceEvent("jilaf.projects.events", event);
  std::vector<json> deliveries;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        deliveries = Deliveries(notifications, "status=dead&event_id=" + event.id);
        return deliveries.size() == 1;
      },
      seconds(60)))
      << "requests: " << receiver.Requests();
  EXPECT_EQ(deliveries[0]["attempts"], 4);
  EXPECT_EQ(receiver.Requests(), 4);
  const std::string id = deliveries[0]["id"];

  receiver.AlwaysFail(false);
  const auto redriven =
      Call(notifications, "POST", "/v1/deliveries/" + id + "/redrive", {}, staff_token_);
  ASSERT_EQ(redriven.status, 202) << redriven.body;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        const auto result = Call(notifications, "GET", "/v1/deliveries/" + id, {}, staff_token_);
        return json::parse(result.body)["status"] == "sent";
      },
      seconds(60)));
  ASSERT_EQ(receiver.Accepted().size(), 1u);
  EXPECT_EQ(receiver.Accepted()[0].first["id"], event.id);
  const auto again =
      Call(notifications, "POST", "/v1/deliveries/" + id + "/redrive", {}, staff_token_);
  EXPECT_EQ(again.status, 409) << again.body;
}

TEST_F(NotificationsE2e, PublishedReportReachesTheAtomFeedAndTheNextPeriodical) {
  auto& notifications = StartWithSmtp();
  const std::string subscriber = marker_ + "@reader.example";
  Post(notifications, "/v1/subscribers",
       {{"email", subscriber},
        {"locale", "ja"},
        {"consent", {{"given", true}, {"method", "web form, double opt-in"}}}},
       201);
  const auto refused = Call(
      notifications, "POST", "/v1/subscribers",
      json{{"email", "x" + subscriber}, {"consent", {{"given", false}, {"method", "none"}}}}.dump(),
      admin_);
  EXPECT_EQ(refused.status, 422) << refused.body;
  // Header and command injection through the address (issue 19): 422 naming the field.
  for (const std::string& bad : {subscriber + "\r\nBcc: victim@example.org",
                                 "Reader <" + subscriber + ">", subscriber + ">"}) {
    const auto injected =
        Call(notifications, "POST", "/v1/subscribers",
             json{{"email", bad}, {"consent", {{"given", true}, {"method", "web form"}}}}.dump(),
             admin_);
    EXPECT_EQ(injected.status, 422) << injected.body;
    EXPECT_EQ(json::parse(injected.body)["errors"][0]["field"], "/email") << injected.body;
  }

  const std::string report_id = events::NewUuid();
  const json title = {{"ja", "労働事情調査報告 " + marker_}, {"en", "Labour mission " + marker_}};
  // Now, not a fixed date: the feed shows its newest 50 entries, and the topics hold earlier
  // runs' (the suite runs once per store engine).
  PublishReport(report_id, title, util::NowRfc3339());
  const std::string entry_id = "tag:jilaf.or.jp,1989:report/" + report_id;
  std::string atom;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        atom = Call(notifications, "GET", "/v1/feed.atom?lang=en").body;
        return atom.find(entry_id) != std::string::npos;
      },
      seconds(60)));
  EXPECT_NE(atom.find("<title>Labour mission " + marker_ + "</title>"), std::string::npos);
  const auto feed = Call(notifications, "GET", "/v1/feed.atom?lang=ja");
  EXPECT_EQ(feed.Header("content-type"), "application/atom+xml; charset=utf-8");
  EXPECT_NE(feed.body.find(entry_id), std::string::npos);  // the same id in both languages
  testing::WriteFile(dir_ + "/feed.xml", feed.body);
  std::string output;
  EXPECT_EQ(testing::RunCommand("/usr/bin/python3 -c 'import sys, xml.dom.minidom as m; "
                                "d = m.parse(sys.argv[1]); "
                                "assert d.documentElement.namespaceURI == "
                                "\"http://www.w3.org/2005/Atom\"' " +
                                    dir_ + "/feed.xml",
                                &output),
            0)
      << output;

  // The service reads every topic from the beginning: it must have caught up with what earlier
  // tests published, or their reports would land in the issues below.
  ASSERT_TRUE(testing::WaitUntil([&] { return CaughtUp(notifications); }, seconds(60)));
  const auto issue = Post(notifications, "/v1/periodicals", json::object(), 201);
  bool listed = false;
  for (const auto& item : issue["items"]) listed = listed || item["aggregate_id"] == report_id;
  EXPECT_TRUE(listed) << issue.dump();
  EXPECT_NE(issue["ja"]["body"].get<std::string>().find(title["ja"].get<std::string>()),
            std::string::npos);
  EXPECT_NE(issue["en"]["body"].get<std::string>().find(title["en"].get<std::string>()),
            std::string::npos);
  const auto archive = Call(notifications, "GET", "/v1/periodicals");
  ASSERT_EQ(archive.status, 200);
  EXPECT_EQ(json::parse(archive.body)["items"][0]["id"], issue["id"]);

  ASSERT_TRUE(testing::WaitUntil([&] { return Mails().size() == 1; }, seconds(60)));
  const auto mail = Mails()[0];
  EXPECT_EQ(mail["rcpt_tos"], json::array({subscriber}));
  EXPECT_EQ(mail["subject"], issue["ja"]["title"]);
  EXPECT_NE(mail["body"].get<std::string>().find(title["ja"].get<std::string>()),
            std::string::npos);
  const std::string unsubscribe = mail["headers"]["list-unsubscribe"];
  const auto start = unsubscribe.find("/v1/unsubscribe?token=");
  ASSERT_NE(start, std::string::npos) << unsubscribe;
  const std::string target = unsubscribe.substr(start, unsubscribe.size() - start - 1);
  EXPECT_NE(mail["body"].get<std::string>().find(target), std::string::npos);
  // GET (a mail scanner, a link preview) shows a confirmation page and changes nothing; the
  // page's form POSTs to the same link, which unsubscribes (issue 19).
  const auto page = Call(notifications, "GET", target);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("<form method=\"post\""), std::string::npos) << page.body;

  // Nothing new since the issue: no second issue; after another report, an issue, and its mail
  // still goes to the subscriber: the GET changed nothing.
  EXPECT_EQ(Call(notifications, "POST", "/v1/periodicals", "{}", admin_).status, 409);
  const auto publish_report = [&](const std::string& id) {
    ProduceEvent("jilaf.missions.events",
                 events::MakeEvent("/jilaf/missions", "jilaf.missions.report.published", id,
                                   "reports/" + id, "/schemas/missions/report.published/v1.json",
                                   {{"mission_id", id},
                                    {"status", "published"},
                                    {"previous_status", "in_review"},
                                    {"fiscal_year", 2026},
                                    {"countries", {"VN"}},
                                    {"mission_title", title},
                                    {"title", title},
                                    {"summary", {{"ja", "第二報"}, {"en", "Second"}}},
                                    {"published_at", util::NowRfc3339()}}));
    ASSERT_TRUE(testing::WaitUntil(
        [&] {
          return Call(notifications, "GET", "/v1/feed.atom").body.find(id) != std::string::npos;
        },
        seconds(60)));
  };
  const std::string second = events::NewUuid();
  publish_report(second);
  const auto next = Post(notifications, "/v1/periodicals", json::object(), 201);
  EXPECT_EQ(next["number"], issue["number"].get<int>() + 1);
  EXPECT_EQ(next["recipients"], 1);
  ASSERT_EQ(next["items"].size(), 1u);
  EXPECT_EQ(next["items"][0]["aggregate_id"], second);

  // The POST unsubscribes: the issue after it goes to nobody.
  const auto done = Call(notifications, "POST", target);
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(json::parse(done.body)["status"], "unsubscribed");
  const std::string third = events::NewUuid();
  publish_report(third);
  const auto last = Post(notifications, "/v1/periodicals", json::object(), 201);
  EXPECT_EQ(last["recipients"], 0);
}

// A programme created as a draft and then opened reaches the Atom feed; the entry's link is a
// public resource that answers; the staff inbox item speaks of it and links it; a registered
// webhook's Location answers too.
TEST_F(NotificationsE2e, DraftProgrammeOpenedReachesTheFeedWithALinkThatAnswers) {
  auto& invitations = StartInvitations();
  auto& notifications = StartNotifications();
  const json body = {{"fiscal_year", 2026},
                     {"title", {{"ja", "草案から公開 " + marker_}, {"en", "Opened " + marker_}}},
                     {"track", "developing"},
                     {"region", "Asia"},
                     {"start_date", "2026-06-01"},
                     {"end_date", "2026-06-20"},
                     {"seats", 12},
                     {"country_quotas", {{"VN", 2}}},
                     {"host_organisations", {"RENGO"}},
                     {"status", "draft"}};
  const auto created = Call(invitations, "POST", "/v1/programmes", body.dump(), staff_token_);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = json::parse(created.body)["id"];
  const auto opened = Call(invitations, "POST", "/v1/programmes/" + id + "/transitions",
                           json{{"to", "open"}}.dump(), staff_token_,
                           {{"If-Match", std::string(created.Header("etag"))}});
  ASSERT_EQ(opened.status, 200) << opened.body;

  const std::string entry_id = "tag:jilaf.or.jp,1989:programme/" + id;
  std::string atom;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        atom = Call(notifications, "GET", "/v1/feed.atom?lang=en").body;
        return atom.find(entry_id) != std::string::npos;
      },
      seconds(60)));
  // The entry's alternate link: this API's public item (no portal configured), which answers.
  const auto entry = atom.find(entry_id);
  const auto href = atom.find("href=\"", entry);
  ASSERT_NE(href, std::string::npos);
  const std::string link = atom.substr(href + 6, atom.find('"', href + 6) - href - 6);
  // --public-base-url (default http://127.0.0.1:8084) + the item's path on this API.
  const std::string path = "/v1/feed/programme:" + id;
  ASSERT_EQ(link, "http://127.0.0.1:8084" + path);
  const auto item = Call(notifications, "GET", path);  // no token: public
  ASSERT_EQ(item.status, 200) << item.body;
  EXPECT_EQ(json::parse(item.body)["title"]["en"], "Opened " + marker_);
  EXPECT_EQ(Call(notifications, "GET", "/v1/feed/programme:nothing").status, 404);

  // The staff inbox: the opening in words, with a link to the programme; no event id.
  ASSERT_TRUE(WaitForInbox(notifications, {"programmes/" + id}, seconds(60)));
  bool spoke = false;
  for (const auto& inbox : Inbox(notifications)) {
    if (inbox["event"]["type"] != "jilaf.invitations.programme.open" ||
        inbox["event"]["subject"] != "programmes/" + id) {
      continue;
    }
    spoke = true;
    EXPECT_EQ(inbox["title"], "Invitations: programme open");
    const std::string text = inbox["body"];
    EXPECT_NE(text.find("/v1/programmes/" + id), std::string::npos) << text;
    EXPECT_EQ(text.find(inbox["event"]["id"].get<std::string>()), std::string::npos) << text;
  }
  EXPECT_TRUE(spoke);

  // Webhook registration's Location is a route that answers, without the secret.
  const auto hook = Call(notifications, "POST", "/v1/webhooks",
                         json{{"url", "https://crm.example.org/hook"}}.dump(), admin_);
  ASSERT_EQ(hook.status, 201) << hook.body;
  const std::string location = hook.Header("location");
  ASSERT_FALSE(location.empty());
  const auto read = Call(notifications, "GET", location, {}, admin_);
  ASSERT_EQ(read.status, 200) << location << ": " << read.body;
  EXPECT_EQ(json::parse(read.body)["id"], json::parse(hook.body)["id"]);
  EXPECT_EQ(json::parse(read.body)["url"], "https://crm.example.org/hook");
  EXPECT_FALSE(json::parse(read.body).contains("secret"));
  EXPECT_EQ(Call(notifications, "GET", "/v1/webhooks/nothing", {}, admin_).status, 404);
  EXPECT_EQ(Call(notifications, "GET", location, {}, staff_token_).status, 403);
}

// Out of the box, projects events staff act on reach the staff inbox in words: an approved
// project, an overdue progress report and the tranche it holds (produced by the real projects
// service), each with a link.
TEST_F(NotificationsE2e, ApprovedProjectAndOverdueReportReachTheStaffInboxInWords) {
  auto& projects = StartProjects({"--overdue-scan-interval-ms", "200"});
  auto& notifications = StartNotifications();
  auto post = [&](const std::string& path, const json& body,
                  std::vector<std::pair<std::string, std::string>> headers = {}) {
    const auto r = Call(projects, "POST", path, body.dump(), staff_token_, std::move(headers));
    EXPECT_TRUE(r.status == 200 || r.status == 201) << path << ": " << r.body;
    return json::parse(r.body);
  };
  auto move = [&](const std::string& resource, const std::string& to) {
    const auto current = Call(projects, "GET", resource, {}, staff_token_);
    return post(resource + "/transitions", {{"to", to}},
                {{"If-Match", std::string(current.Header("etag"))}});
  };
  const auto partner =
      post("/v1/partners", {{"name", "Cambodian Labour Confederation"},
                            {"acronym", "CLC"},
                            {"country", "KH"},
                            {"kind", "federation"},
                            {"contact", {{"name", "Ms Sok"}, {"email", "s@x.org"}}}});
  const std::string title = "Safer sites " + marker_;
  const auto project =
      post("/v1/projects", {{"title", {{"ja", "建設現場の安全"}, {"en", title}}},
                            {"country", "KH"},
                            {"partner_id", partner["id"]},
                            {"area", "occupational_safety_health"},
                            {"support_type", "both"},
                            {"description", "Safety representatives"},
                            {"funding_source", "JILAF own funds"},
                            {"start_date", "2026-04-01"},
                            {"end_date", "2027-03-31"},
                            {"budget", {{"amount", 8'000'000}, {"currency", "JPY"}}}});
  const std::string id = project["id"];
  const std::string path = "/v1/projects/" + id;
  move(path, "under_review");
  // A second staff member approves: the author may not (separation of duties).
  const auto review = Call(projects, "POST", path + "/reviews",
                           json{{"decision", "approve"}, {"comment", "Well targeted"}}.dump(),
                           Token("staff", "e2e-reviewer"));
  ASSERT_EQ(review.status, 201) << review.body;
  move(path, "approved");
  // Planned before the report exists, so the scan that announces the report overdue finds it held.
  const auto tranche =
      post(path + "/tranches",
           {{"amount", 1'200'000}, {"currency", "JPY"}, {"planned_date", "2026-06-30"}});
  const auto report = post(path + "/reports", {{"kind", "progress"}, {"due_date", "2026-01-31"}});

  std::map<std::string, json> seen;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        for (const auto& item : Inbox(notifications)) {
          const std::string type = item["event"]["type"];
          const std::string text = item["body"];
          if (text.find(id) != std::string::npos ||
              text.find(report["id"].get<std::string>()) != std::string::npos) {
            seen[type] = item;
          }
        }
        return seen.count("jilaf.projects.project.approved") == 1 &&
               seen.count("jilaf.projects.report.overdue") == 1 &&
               seen.count("jilaf.projects.tranche.held") == 1;
      },
      seconds(60)));
  const auto& approved = seen["jilaf.projects.project.approved"];
  EXPECT_EQ(approved["title"], "Project approved: " + title);
  EXPECT_EQ(approved["audience"], "staff");
  EXPECT_NE(approved["body"].get<std::string>().find("8000000 JPY"), std::string::npos) << approved;
  EXPECT_NE(approved["body"].get<std::string>().find("/v1/projects/" + id), std::string::npos);
  const auto& overdue = seen["jilaf.projects.report.overdue"];
  EXPECT_EQ(overdue["title"], "Report overdue: " + title);
  EXPECT_NE(overdue["body"].get<std::string>().find("due on 2026-01-31"), std::string::npos)
      << overdue;
  EXPECT_NE(
      overdue["body"].get<std::string>().find("/v1/reports/" + report["id"].get<std::string>()),
      std::string::npos);
  const auto& held = seen["jilaf.projects.tranche.held"];
  EXPECT_EQ(held["title"], "Tranche held: " + title);
  EXPECT_EQ(held["audience"], "staff");
  const std::string held_body = held["body"];
  EXPECT_NE(held_body.find("JPY 1200000 planned for 2026-06-30"), std::string::npos) << held;
  EXPECT_NE(held_body.find("due on 2026-01-31"), std::string::npos) << held;
  EXPECT_NE(held_body.find("/v1/tranches/" + tranche["id"].get<std::string>()), std::string::npos)
      << held;
}

// Mail over STARTTLS with AUTH to a real server that requires both (aiosmtpd, with a certificate
// made here by OpenSSL and trusted through --smtp-ca-file), carrying a periodical issued by the
// scheduler (--periodical-interval-ms), not by a POST.
TEST_F(NotificationsE2e, ScheduledPeriodicalIsMailedOverStartTlsWithAuth) {
  const std::string cert = StartTlsAuthSmtpSink();
  ASSERT_FALSE(cert.empty());
  auto& notifications = StartNotificationsWith(
      {"--smtp-port", std::to_string(smtp_port_), "--smtp-tls", "starttls", "--smtp-user",
       "jilaf-mailer", "--smtp-password", "s3cret-Passw0rd", "--smtp-ca-file", cert,
       "--retry-base-ms", "100", "--retry-max-ms", "400", "--dispatch-interval-ms", "50",
       "--periodical-interval-ms", "1000"});
  const std::string subscriber = marker_ + "@reader.example";
  Post(notifications, "/v1/subscribers",
       {{"email", subscriber},
        {"locale", "en"},
        {"consent", {{"given", true}, {"method", "web form, double opt-in"}}}},
       201);
  const std::string mission = events::NewUuid();
  const json title = {{"ja", "定期号の報告 " + marker_}, {"en", "Periodical report " + marker_}};
  PublishReport(mission, title, util::NowRfc3339());
  // Earlier tests' items may fill a first issue; the report arrives in one of the next ones.
  json mail;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        for (const auto& candidate : Mails()) {
          if (candidate["body"].get<std::string>().find(title["en"].get<std::string>()) !=
              std::string::npos) {
            mail = candidate;
            return true;
          }
        }
        return false;
      },
      seconds(90)))
      << testing::TailFile(dir_ + "/smtp.log") << testing::TailFile(notifications.log);
  EXPECT_EQ(mail["rcpt_tos"], json::array({subscriber}));
  EXPECT_EQ(mail["tls"], true);
  EXPECT_EQ(mail["auth_user"], "jilaf-mailer");
  EXPECT_NE(mail["subject"].get<std::string>().find("JILAF Newsletter No. "), std::string::npos);
  // The issue it carries is in the archive, issued without any POST /v1/periodicals.
  const auto archive = json::parse(Call(notifications, "GET", "/v1/periodicals").body);
  bool archived = false;
  for (const auto& issue : archive["items"]) {
    archived = archived || issue["en"]["title"] == mail["subject"];
  }
  EXPECT_TRUE(archived) << archive.dump();
}

// Without the right password the server refuses the mail: nothing arrives, the delivery fails.
TEST_F(NotificationsE2e, SmtpAuthWithAWrongPasswordDeliversNothing) {
  const std::string cert = StartTlsAuthSmtpSink();
  ASSERT_FALSE(cert.empty());
  auto& notifications = StartNotificationsWith(
      {"--smtp-port", std::to_string(smtp_port_), "--smtp-tls", "starttls", "--smtp-user",
       "jilaf-mailer", "--smtp-password", "wrong-password", "--smtp-ca-file", cert,
       "--retry-base-ms", "100", "--retry-max-ms", "200", "--delivery-max-attempts", "2",
       "--dispatch-interval-ms", "50"});
  const std::string subscriber = marker_ + "@reader.example";
  Post(notifications, "/v1/subscribers",
       {{"email", subscriber},
        {"locale", "en"},
        {"consent", {{"given", true}, {"method", "web form, double opt-in"}}}},
       201);
  const std::string mission = events::NewUuid();
  const json title = {{"ja", "認証失敗 " + marker_}, {"en", "Refused " + marker_}};
  PublishReport(mission, title, util::NowRfc3339());
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        return Call(notifications, "GET", "/v1/feed.atom").body.find(mission) != std::string::npos;
      },
      seconds(60)));
  Post(notifications, "/v1/periodicals", json::object(), 201);
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return !Deliveries(notifications, "status=dead&channel=email").empty(); },
      seconds(60)));
  EXPECT_TRUE(Mails().empty());
}

TEST_F(NotificationsE2e, OptOutIsHonouredExceptForOperationalMessages) {
  WebhookReceiver receiver(secret_);
  auto& invitations = StartInvitations();
  auto& notifications = StartWithSmtp();
  SetUpInvitationRules(notifications, receiver);  // email, category acknowledgements
  Post(notifications, "/v1/rules",
       {{"name", "Visa deadlines (operational)"},
        {"event_type", "jilaf.invitations.nomination.submitted"},
        {"channel", "email"},
        {"locale", "en"},
        {"category", "visa"},
        {"operational", true},
        {"recipients", {{{"pointer", "/nominating_organisation/contact_email"}}}},
        {"conditions",
         {{{"pointer", "/nominating_organisation/contact_email"},
           {"op", "eq"},
           {"value", contact_}}}}},
       201);
  // Another recipient's preferences are an admin's to change (issue 19), not staff's.
  const auto by_staff = Call(notifications, "PUT", "/v1/preferences/" + contact_,
                             json{{"opt_out", {"acknowledgements", "visa"}}}.dump(), staff_token_);
  EXPECT_EQ(by_staff.status, 403) << by_staff.body;
  const auto prefs = Call(notifications, "PUT", "/v1/preferences/" + contact_,
                          json{{"opt_out", {"acknowledgements", "visa"}}}.dump(), admin_);
  ASSERT_EQ(prefs.status, 201) << prefs.body;
  EXPECT_EQ(Call(notifications, "GET", "/v1/preferences/" + contact_, {}, staff_token_).status,
            403);
  const auto stale = Call(notifications, "PUT", "/v1/preferences/" + contact_,
                          json{{"opt_out", json::array()}}.dump(), admin_);
  EXPECT_EQ(stale.status, 428) << stale.body;

  const auto programme_id = CreateOpenProgramme(invitations, "Opt-out " + marker_);
  ASSERT_EQ(NominateWithContact(invitations, programme_id).status, 201);
  ASSERT_TRUE(testing::WaitUntil([&] { return !Mails().empty(); }, seconds(60)));
  std::vector<json> suppressed;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        suppressed = Deliveries(notifications, "status=suppressed&channel=email");
        return !suppressed.empty();
      },
      seconds(60)));
  ASSERT_EQ(suppressed.size(), 1u);
  EXPECT_EQ(suppressed[0]["category"], "acknowledgements");
  EXPECT_FALSE(testing::WaitUntil([&] { return Mails().size() > 1; }, seconds(2)));
  const auto mails = Mails();
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0]["subject"], "Nomination of Lan Nguyen received");  // the operational rule
}

TEST_F(NotificationsE2e, TemplatesAndRulesAreCheckedAtSaveTime) {
  auto& notifications = StartWithSmtp();
  const std::string type = "jilaf.missions.report.published";
  // A rule before its templates exist.
  const auto early = Call(notifications, "POST", "/v1/rules",
                          json{{"name", "Reports to staff"},
                               {"event_type", type},
                               {"channel", "email"},
                               {"recipients", {{{"address", "desk@jilaf.example"}}}}}
                              .dump(),
                          admin_);
  ASSERT_EQ(early.status, 422) << early.body;
  EXPECT_NE(early.body.find("no email template"), std::string::npos) << early.body;
  // A template naming a field the event does not have.
  const auto bad = Call(
      notifications, "PUT", "/v1/templates/" + type + "/email/en",
      json{{"subject", "{{data.title.en}}"}, {"body", "Read it: {{data.url}} {{data.summary.fr}}"}}
          .dump(),
      admin_);
  ASSERT_EQ(bad.status, 422) << bad.body;
  EXPECT_NE(bad.body.find("{{data.url}}"), std::string::npos) << bad.body;
  EXPECT_NE(bad.body.find("{{data.summary.fr}}"), std::string::npos) << bad.body;
  // The preview renders against the built-in sample.
  const auto preview = Post(
      notifications, "/v1/templates/preview",
      {{"event_type", type}, {"subject", "{{data.title.ja}}"}, {"body", "{{data.summary.ja}}"}},
      200);
  EXPECT_EQ(preview["subject"], "ベトナム労働事情調査報告");
  // Wrong recipient kinds are named precisely.
  const auto wrong = Call(notifications, "POST", "/v1/rules",
                          json{{"name", "x"},
                               {"event_type", "jilaf.missions.*"},
                               {"channel", "inbox"},
                               {"recipients", {{{"address", "desk@jilaf.example"}}}},
                               {"conditions", {{{"pointer", "amount"}, {"op", "gt"}}}}}
                              .dump(),
                          admin_);
  ASSERT_EQ(wrong.status, 422);
  std::set<std::string> fields;
  const json problem = json::parse(wrong.body);
  for (const auto& error : problem["errors"]) fields.insert(error["field"].get<std::string>());
  EXPECT_TRUE(fields.count("/recipients/0") == 1 && fields.count("/conditions/0/pointer") == 1 &&
              fields.count("/conditions/0/value") == 1)
      << wrong.body;
  EXPECT_EQ(Call(notifications, "GET", "/v1/rules", {}, staff_token_).status, 403);
}

TEST_F(NotificationsE2e, ASubscriberIsTheSamePersonWhateverTheCaseOfTheAddress) {
  auto& notifications = StartNotifications();
  const json consent = {{"given", true}, {"method", "web form"}};
  Post(notifications, "/v1/subscribers",
       {{"email", marker_ + "@Reader.example"}, {"consent", consent}}, 201);
  const auto again = Call(
      notifications, "POST", "/v1/subscribers",
      json{{"email", "E2E" + marker_.substr(3) + "@reader.EXAMPLE"}, {"consent", consent}}.dump(),
      admin_);
  EXPECT_EQ(again.status, 409) << again.body;
}

// Issue 19, part 2: without a development listing, nothing internal or non-https registers; each
// refusal is a 422 naming `url`, and the local server behind the first two is never called.
TEST_F(NotificationsE2e, WebhookRegistrationRefusesInternalAndNonHttpsUrls) {
  WebhookReceiver receiver(secret_);
  auto& notifications = StartNotificationsWith({});
  const std::string port = receiver.Url().substr(std::string("http://127.0.0.1:").size());
  for (const std::string& url : std::vector<std::string>{
           receiver.Url(), "https://127.0.0.1:" + port, "https://[::1]/hook",
           "https://169.254.169.254/latest/meta-data/", "https://10.0.0.1/hook",
           "https://[fd00:ec2::254]/", "https://localhost:" + port, "file:///etc/passwd",
           "gopher://127.0.0.1:70/_hook"}) {
    const auto result =
        Call(notifications, "POST", "/v1/webhooks", json{{"url", url}}.dump(), admin_);
    EXPECT_EQ(result.status, 422) << url << ": " << result.body;
    const json problem = json::parse(result.body);
    ASSERT_TRUE(problem.contains("errors")) << result.body;
    EXPECT_EQ(problem["errors"][0]["field"], "/url") << result.body;
  }
  EXPECT_EQ(receiver.Requests(), 0);
  const auto listed = Call(notifications, "GET", "/v1/webhooks", {}, admin_);
  EXPECT_TRUE(json::parse(listed.body)["items"].empty()) << listed.body;
  // A public https address is accepted (the check can say yes).
  Post(notifications, "/v1/webhooks", {{"url", "https://93.184.216.34/hooks/jilaf"}}, 201);
}

// Issue 19, part 2: a redirect is not followed (the server it points to, reachable as it is, gets
// nothing) and ends the delivery; a viewer sees "failed" and the category, an admin the reason.
TEST_F(NotificationsE2e, WebhookRedirectIsNotFollowedAndViewersSeeOnlyTheCategory) {
  WebhookReceiver inside(secret_);
  WebhookReceiver redirecting(secret_);
  redirecting.RedirectTo(inside.Url());
  auto& notifications = StartWithSmtp();
  SetUpTrancheWebhook(notifications, redirecting);
  const auto event = Tranche(2500000);
  ProduceEvent("jilaf.projects.events", event);
  std::vector<json> deliveries;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        deliveries = Deliveries(notifications, "status=dead&event_id=" + event.id);
        return deliveries.size() == 1;
      },
      seconds(60)))
      << "requests: " << redirecting.Requests();
  EXPECT_EQ(deliveries[0]["attempts"], 1);  // permanent: no retries
  EXPECT_EQ(redirecting.Requests(), 1);
  EXPECT_EQ(inside.Requests(), 0);
  EXPECT_EQ(deliveries[0]["last_error_category"], "redirect");
  EXPECT_NE(deliveries[0]["last_error"].get<std::string>().find("302"), std::string::npos);

  const std::string id = deliveries[0]["id"];
  for (const auto& role : {"viewer", "staff"}) {
    const auto one = Call(notifications, "GET", "/v1/deliveries/" + id, {}, Token(role));
    ASSERT_EQ(one.status, 200) << one.body;
    const auto list =
        Call(notifications, "GET", "/v1/deliveries?event_id=" + event.id, {}, Token(role));
    ASSERT_EQ(list.status, 200) << list.body;
    for (const json& seen : {json::parse(one.body), json::parse(list.body)["items"][0]}) {
      EXPECT_EQ(seen["status"], "dead") << role;
      EXPECT_FALSE(seen.contains("last_error")) << role << ": " << seen.dump();
      EXPECT_EQ(seen["last_error_category"], "redirect") << role;
      EXPECT_EQ(seen["history"][0]["outcome"], "failed") << role;
      EXPECT_EQ(seen["history"][0]["category"], "redirect") << role;
      EXPECT_FALSE(seen["history"][0].contains("error")) << role;
      // Webhook payloads are for staff: a viewer sees them masked (aggregate::Masked).
      EXPECT_EQ(seen["content"]["payload"] == "***", std::string(role) == "viewer") << role;
    }
  }
}

}  // namespace
}  // namespace jilaf::e2e
