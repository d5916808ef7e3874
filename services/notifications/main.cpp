// jilaf-notifications: turns the other services' events into messages (composition root).
#include "common/aggregate/search.hpp"
#include "common/crypto/rekey.hpp"
#include "common/service/field_keys.hpp"
#include "common/service/service.hpp"
#include "common/util/embedded.hpp"
#include "services/notifications/channels.hpp"
#include "services/notifications/deliveries.hpp"
#include "services/notifications/event_handler.hpp"
#include "services/notifications/feed.hpp"
#include "services/notifications/render.hpp"
#include "services/notifications/routes.hpp"
#include "services/notifications/schema.hpp"
#include "services/notifications/tables.hpp"

JILAF_EMBEDDED(notifications_openapi)

int main(int argc, char** argv) {
  namespace n = jilaf::notifications;
  std::string group = "notifications";
  n::DispatchOptions dispatch;
  n::FeedOptions feed;
  n::LinkBases links;
  std::int64_t max_attempts = dispatch.retry.max_attempts;
  std::int64_t retry_base_ms = dispatch.retry.base.count();
  std::int64_t retry_max_ms = dispatch.retry.cap.count();
  std::int64_t dispatch_interval_ms = 500;
  std::int64_t periodical_interval_ms = 0;
  std::string webhook_dev_hosts;
  jilaf::service::FieldKeySettings field_keys;
  auto config = jilaf::service::LoadConfigOrExit(
      "notifications",
      "JILAF notifications service: routes events to email, webhooks, the in-app inbox, the "
      "website feed and periodicals.",
      8084, 9084, argc, argv, [&](jilaf::config::Flags& flags) {
        field_keys.Register(flags, "webhook signing secrets");
        flags.String("consumer-group", &group,
                     "Kafka consumer group, also the inbox's consumer name; dead letters go to "
                     "jilaf.notifications.dlq whatever the group.");
        flags.String("smtp-host", &dispatch.smtp.host, "SMTP server host.");
        flags.Int("smtp-port", &dispatch.smtp.port, 1, 65535, "SMTP server port.");
        flags.String("smtp-tls", &dispatch.smtp.tls,
                     "none, starttls (required) or implicit (smtps).");
        flags.String("smtp-user", &dispatch.smtp.user, "SMTP user name (empty: no AUTH).");
        flags.String("smtp-ca-file", &dispatch.smtp.ca_file,
                     "PEM file of the CA(s) the SMTP server's TLS certificate must chain to "
                     "(empty: the system's trust store); for a private CA.");
        flags.String("smtp-password", &dispatch.smtp.password,
                     "SMTP password (prefer the JILAF_SMTP_PASSWORD variable from a secret).");
        flags.String("smtp-from", &dispatch.smtp.from, "From: header of every mail.");
        flags.Int("smtp-timeout-ms", &dispatch.smtp.timeout_ms, 100, 600000,
                  "Time limit of one SMTP conversation.");
        flags.Int("webhook-timeout-ms", &dispatch.webhook.timeout_ms, 100, 600000,
                  "Time limit of one webhook POST.");
        flags.Int("webhook-max-response-bytes", &dispatch.webhook.max_response_bytes, 0,
                  16L * 1024 * 1024,
                  "Longest webhook answer read; a longer one fails the attempt.");
        flags.String("webhook-dev-hosts", &webhook_dev_hosts,
                     "Comma-separated hosts or addresses that webhooks may reach over plain http "
                     "and at internal (loopback, private) addresses; for development and tests "
                     "only, empty in production.");
        flags.Int("delivery-max-attempts", &max_attempts, 1, 100,
                  "Attempts before a delivery is dead.");
        flags.Int("retry-base-ms", &retry_base_ms, 1, 86400000,
                  "Backoff after the first failed attempt; doubles per attempt, with jitter.");
        flags.Int("retry-max-ms", &retry_max_ms, 1, 604800000, "Longest backoff between attempts.");
        flags.Int("dispatch-interval-ms", &dispatch_interval_ms, 10, 600000,
                  "How often the dispatcher looks for due deliveries.");
        flags.Int("dispatch-concurrency", &dispatch.concurrency, 1, 64,
                  "Deliveries of one dispatch pass sent at once (worker threads, each with its "
                  "own SMTP or HTTP connection).");
        flags.Int("dispatch-per-endpoint", &dispatch.per_endpoint, 1, 64,
                  "Of those, most sent at once to one webhook host (scheme, host, port) or to "
                  "the SMTP server.");
        flags.Int("periodical-interval-ms", &periodical_interval_ms, 0, 31L * 86400000,
                  "How often a periodical issue is produced (0: only on POST /v1/periodicals).");
        flags.String("public-base-url", &feed.public_base_url,
                     "Public URL of this API, used in feed links and unsubscribe links.");
        flags.String("invitations-url", &links.invitations,
                     "Base URL of the invitations API as staff reach it: links in messages.");
        flags.String("projects-url", &links.projects,
                     "Base URL of the projects API as staff reach it: links in messages.");
        flags.String("missions-url", &links.missions,
                     "Base URL of the missions API as staff reach it: links in messages.");
        flags.String("portal-base-url", &feed.portal_base_url,
                     "Public website that shows programmes (/programmes/ID), seminars "
                     "(/seminars/ID) and mission reports (/missions/ID/report); feed and "
                     "newsletter links go there. Empty: to this API's GET /v1/feed/{id}.");
      });
  if (dispatch.smtp.tls != "none" && dispatch.smtp.tls != "starttls" &&
      dispatch.smtp.tls != "implicit") {
    std::fprintf(stderr, "--smtp-tls must be none, starttls or implicit\n");
    return 2;
  }
  dispatch.webhook.egress = n::EgressPolicy::Parse(webhook_dev_hosts);
  dispatch.retry.max_attempts = static_cast<int>(max_attempts);
  dispatch.retry.base = std::chrono::milliseconds(retry_base_ms);
  dispatch.retry.cap = std::chrono::milliseconds(std::max(retry_base_ms, retry_max_ms));
  n::InitCurl();
  n::SetLinkBases(links);

  const auto cipher = jilaf::service::LoadFieldCipherOrExit("notifications", field_keys);
  jilaf::service::Service service(std::move(config),
                                  {jilaf::events::PeopleCopyMigrations(), n::Migrations(),
                                   jilaf::crypto::FieldRekey::Migrations()});
  service.SetOpenApi(jilaf::embedded::notifications_openapi);
  n::SeedDefaults(service.store());
  jilaf::aggregate::IndexForSearch(service.store(), {&n::Tables().deliveries});
  n::DeliveryMetrics metrics(service.metrics());
  (void)n::SealClearWebhookSecrets(service.store(), *cipher);
  jilaf::crypto::FieldRekey rekey(service.store(), *cipher, n::RekeyTargets(*cipher));
  service.AddAdminRoutes(
      [&rekey](jilaf::http::Router& admin) { jilaf::service::AddFieldKeyRoutes(admin, rekey); });
  service.AddBackgroundTask([&rekey] { rekey.ResumeIfUnfinished(); }, [&rekey] { rekey.Stop(); });
  n::Dispatcher dispatcher(service.store(), dispatch, metrics, *cipher);
  // Stopped after the scheduler (no new pass) and before the store: in-flight sends get recorded.
  service.AddBackgroundTask([] {}, [&dispatcher] { dispatcher.Stop(); });

  jilaf::events::ConsumerOptions consumer;
  consumer.name = group;
  consumer.dead_letter_topic = "jilaf.notifications.dlq";
  consumer.topics = {"jilaf.invitations.events", "jilaf.projects.events", "jilaf.missions.events"};
  // The handler's effects are all rows of the transaction (its counters wait for the commit):
  // a fetch's events are applied by one store job, not one job (and savepoint) each.
  consumer.handler_reruns_safely = true;
  service.AddConsumer(std::move(consumer), n::EventHandler(metrics));
  // The copy of invitations' people topic has a group (and inbox name) of its own, so an event
  // waiting for a person's record never holds up the record it waits for.
  auto people = jilaf::events::PeopleCopyOptions(group + "-people", "jilaf.notifications.dlq");
  service.AddConsumer(std::move(people),
                      [](jilaf::store::Db& tx, const jilaf::events::CloudEvent& event,
                         const jilaf::events::MessageOrigin&) {
                        jilaf::events::ApplyPersonRecord(tx, event, n::ErasePerson);
                      });
  service.scheduler().Every("dispatch deliveries", std::chrono::milliseconds(dispatch_interval_ms),
                            [&dispatcher] { dispatcher.RunOnce(); });
  if (periodical_interval_ms > 0) {
    service.scheduler().Every("issue periodical", std::chrono::milliseconds(periodical_interval_ms),
                              [&] { (void)n::IssuePeriodical(service.store(), feed, metrics); });
  }
  return service.Run(n::Routes(service.store(), metrics, feed, dispatch.webhook.egress, *cipher));
}
