#include "services/notifications/schema.hpp"

#include <nlohmann/json.hpp>

#include "services/notifications/queries.hpp"
#include "services/notifications/tables.hpp"

namespace jilaf::notifications {

store::MigrationSet Migrations() {
  return {"notifications",
          {{1, "staff inbox",
            "CREATE TABLE inbox_notifications ("
            " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " id TEXT NOT NULL UNIQUE,"
            " event_id TEXT NOT NULL,"
            " audience TEXT NOT NULL,"
            " doc TEXT NOT NULL,"
            " created_at TEXT NOT NULL);"
            "CREATE INDEX inbox_audience ON inbox_notifications(audience, seq);"},
           {2, "routing, templates, deliveries, feed, periodicals",
            "CREATE TABLE inbox_reads (item_id TEXT NOT NULL, user TEXT NOT NULL,"
            " read_at TEXT NOT NULL, PRIMARY KEY (item_id, user));"
            "CREATE TABLE rules (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
            " enabled INTEGER NOT NULL, version INTEGER NOT NULL, doc TEXT NOT NULL);"
            "CREATE TABLE templates (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " event_type TEXT NOT NULL, channel TEXT NOT NULL, locale TEXT NOT NULL,"
            " version INTEGER NOT NULL, doc TEXT NOT NULL, UNIQUE (event_type, channel, locale));"
            "CREATE TABLE webhooks (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
            " url TEXT NOT NULL, secret TEXT NOT NULL, doc TEXT NOT NULL);"
            "CREATE TABLE deliveries (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " id TEXT NOT NULL UNIQUE, event_id TEXT NOT NULL, rule_id TEXT NOT NULL,"
            " recipient TEXT NOT NULL, channel TEXT NOT NULL, status TEXT NOT NULL,"
            " attempts INTEGER NOT NULL, next_attempt_ms INTEGER NOT NULL, doc TEXT NOT NULL,"
            " UNIQUE (event_id, rule_id, recipient, channel));"
            "CREATE INDEX deliveries_due ON deliveries(status, next_attempt_ms);"
            "CREATE TABLE preferences (recipient TEXT PRIMARY KEY, version INTEGER NOT NULL,"
            " doc TEXT NOT NULL);"
            "CREATE TABLE feed_items (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " id TEXT NOT NULL UNIQUE, event_id TEXT NOT NULL UNIQUE, published_at TEXT NOT NULL,"
            " doc TEXT NOT NULL);"
            "CREATE TABLE periodicals (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " id TEXT NOT NULL UNIQUE, number INTEGER NOT NULL UNIQUE,"
            " last_item_seq INTEGER NOT NULL, doc TEXT NOT NULL);"
            "CREATE TABLE subscribers (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " id TEXT NOT NULL UNIQUE, email TEXT NOT NULL UNIQUE, token TEXT NOT NULL UNIQUE,"
            " status TEXT NOT NULL, doc TEXT NOT NULL);"},
           {3, "rules keep their times beside the document; webhook secrets leave the documents",
            "ALTER TABLE rules ADD COLUMN created_at TEXT NOT NULL DEFAULT '';"
            "ALTER TABLE rules ADD COLUMN updated_at TEXT NOT NULL DEFAULT '';"
            "UPDATE rules SET created_at = COALESCE(json_extract(doc, '$.created_at'), ''),"
            " updated_at = COALESCE(json_extract(doc, '$.updated_at'), '');"
            "CREATE TABLE webhook_secrets (id TEXT PRIMARY KEY, secret TEXT NOT NULL);"
            "INSERT INTO webhook_secrets(id, secret) SELECT id, secret FROM webhooks;"
            "ALTER TABLE webhooks DROP COLUMN secret;"},
           // Filled by IndexForSearch at start (the words are folded in C++).
           {4, "search: the full-text index of deliveries by recipient",
            Tables().deliveries.SearchSql()}}};
}

namespace {

struct DefaultTemplate {
  const char* event_type;
  const char* channel;
  const char* locale;
  const char* subject;
  const char* body;
};

// The staff inbox texts the service always had; Japanese in business style (family name first).
const DefaultTemplate kDefaults[] = {
    {"jilaf.invitations.nomination.submitted", "inbox", "en",
     "New nomination: {{data.candidate.family_name}} {{data.candidate.given_name}} "
     "({{data.candidate.nationality}})",
     "{{data.nominating_organisation.name}} nominated {{data.candidate.given_name}} "
     "{{data.candidate.family_name}} for {{data.programme_title.en}}."},
    {"jilaf.invitations.nomination.submitted", "inbox", "ja",
     "新規推薦: {{data.candidate.family_name}} {{data.candidate.given_name}} 様"
     "（{{data.candidate.nationality}}）",
     "{{data.nominating_organisation.name}}より、{{data.programme_title.ja}}への"
     "{{data.candidate.family_name}} {{data.candidate.given_name}} 様のご推薦がありました。"},
    {"jilaf.invitations.programme.created", "inbox", "en", "Programme created: {{data.title.en}}",
     "FY{{data.fiscal_year}} {{data.track}} programme \"{{data.title.en}}\" was created."},
    {"jilaf.invitations.programme.created", "inbox", "ja", "プログラム登録: {{data.title.ja}}",
     "{{data.fiscal_year}}年度のプログラム「{{data.title.ja}}」が登録されました。"},
    {"jilaf.invitations.*", "inbox", "en", "Invitations: {{event.type}}",
     "Event {{event.id}} on {{event.subject}}."},
    {"jilaf.invitations.*", "inbox", "ja", "招へい事業: {{event.type}}",
     "{{event.subject}} に関するイベント {{event.id}} がありました。"},
};

}  // namespace

void SeedDefaults(store::Store& store) {
  store.Write([](store::Db& tx) {
    if (Tables().rules.Count(tx, {}) > 0) return;
    for (const auto& t : kDefaults) {
      if (FindTemplate(tx, t.event_type, t.channel, t.locale)) continue;
      SaveTemplate(tx, {{"event_type", t.event_type},
                        {"channel", t.channel},
                        {"locale", t.locale},
                        {"subject", t.subject},
                        {"body", t.body},
                        {"version", 1}});
    }
    nlohmann::json rule = {{"name", "Every invitations event to the staff inbox"},
                           {"event_type", "jilaf.invitations.*"},
                           {"channel", "inbox"},
                           {"recipients", {{{"role", "staff"}}}},
                           {"conditions", nlohmann::json::array()},
                           {"locale", "en"},
                           {"category", "operations"},
                           {"operational", true},
                           {"enabled", true}};
    aggregate::Stamp(rule);
    rule["id"] = "default-staff-inbox";
    Tables().rules.Insert(tx, rule);
  });
}

}  // namespace jilaf::notifications
