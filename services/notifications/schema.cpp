#include "services/notifications/schema.hpp"

#include <nlohmann/json.hpp>

#include "common/store/dialect.hpp"
#include "services/notifications/queries.hpp"
#include "services/notifications/tables.hpp"

namespace jilaf::notifications {

namespace {

std::string StaffInbox() {
  return "CREATE TABLE inbox_notifications ("
         " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
         " id TEXT NOT NULL UNIQUE,"
         " event_id TEXT NOT NULL,"
         " audience TEXT NOT NULL,"
         " doc TEXT NOT NULL,"
         " created_at TEXT NOT NULL);"
         "CREATE INDEX inbox_audience ON inbox_notifications(audience, seq);";
}

// "user" quoted: a reserved word on PostgreSQL (SQLite takes either spelling).
std::string Routing() {
  return "CREATE TABLE inbox_reads (item_id TEXT NOT NULL, \"user\" TEXT NOT NULL,"
         " read_at TEXT NOT NULL, PRIMARY KEY (item_id, \"user\"));"
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
         " status TEXT NOT NULL, doc TEXT NOT NULL);";
}

std::string RuleTimesAndWebhookSecrets(store::Engine engine) {
  return "ALTER TABLE rules ADD COLUMN created_at TEXT NOT NULL DEFAULT '';"
         "ALTER TABLE rules ADD COLUMN updated_at TEXT NOT NULL DEFAULT '';"
         "UPDATE rules SET created_at = COALESCE(" +
         store::JsonText(engine, "doc", "created_at") + ", ''), updated_at = COALESCE(" +
         store::JsonText(engine, "doc", "updated_at") +
         ", '');"
         "CREATE TABLE webhook_secrets (id TEXT PRIMARY KEY, secret TEXT NOT NULL);"
         "INSERT INTO webhook_secrets(id, secret) SELECT id, secret FROM webhooks;"
         "ALTER TABLE webhooks DROP COLUMN secret;";
}

}  // namespace

store::MigrationSet Migrations() {
  return {
      "notifications",
      {{1, "staff inbox", StaffInbox(), store::PostgresTypes(StaffInbox())},
       {2, "routing, templates, deliveries, feed, periodicals", Routing(),
        store::PostgresTypes(Routing())},
       {3, "rules keep their times beside the document; webhook secrets leave the documents",
        RuleTimesAndWebhookSecrets(store::Engine::kSqlite),
        RuleTimesAndWebhookSecrets(store::Engine::kPostgres)},
       // Filled by IndexForSearch at start (the words are folded in C++).
       {4, "search: the full-text index of deliveries by recipient",
        Tables().deliveries.SearchSql(), Tables().deliveries.SearchSql(store::Engine::kPostgres)},
       // Erasure finds a person's deliveries and inbox items through the events about them.
       {5, "the events each person's personal data was joined into",
        "CREATE TABLE person_events (person_id TEXT NOT NULL, event_id TEXT NOT NULL,"
        " PRIMARY KEY (person_id, event_id));"},
       // Secrets are sealed with the field key ring from now on; those stored before stay
       // marked 0 until SealClearWebhookSecrets encrypts them at start.
       {6, "webhook secrets are encrypted at rest",
        "ALTER TABLE webhook_secrets ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0;"},
       // The consumer's deliveries reach the full-text index once per commit (TableSpec::
       // index_at_commit); PostgreSQL keeps the table empty.
       {7, "search: a new delivery's words wait for the commit",
        Tables().deliveries.SearchPendingSql(store::Engine::kSqlite),
        Tables().deliveries.SearchPendingSql(store::Engine::kPostgres)}}};
}

namespace {

struct DefaultTemplate {
  const char* event_type;
  const char* locale;
  const char* subject;
  const char* body;
};

// The staff inbox texts seeded at start: an officer's words with names, titles and a link to the
// record; Japanese in business style (family name first, 様). Only fields every event of the
// type carries (the schema's required ones), so that no default can fail to render.
#define JILAF_NOMINEE_EN "{{data.candidate.given_name}} {{data.candidate.family_name}}"
#define JILAF_NOMINEE_JA "{{data.candidate.family_name}} {{data.candidate.given_name}} 様"
#define JILAF_NOMINATION_LINK "{{links.invitations}}/v1/nominations/{{data.nomination_id}}"
const DefaultTemplate kDefaults[] = {
    {"jilaf.invitations.nomination.submitted", "en",
     "New nomination: {{data.candidate.family_name}} {{data.candidate.given_name}} "
     "({{data.candidate.nationality}})",
     "{{data.nominating_organisation.name}} nominated " JILAF_NOMINEE_EN
     " ({{data.candidate.nationality}}) for {{data.programme_title.en}}.\n"
     "Screen the nomination: " JILAF_NOMINATION_LINK},
    {"jilaf.invitations.nomination.submitted", "ja",
     "新規推薦: " JILAF_NOMINEE_JA "（{{data.candidate.nationality}}）",
     "{{data.nominating_organisation.name}}より、{{data.programme_title.ja}}への" JILAF_NOMINEE_JA
     "（{{data.candidate.nationality}}）のご推薦がありました。\n"
     "選考をお願いいたします: " JILAF_NOMINATION_LINK},
    {"jilaf.invitations.nomination.selected", "en", "Selected: " JILAF_NOMINEE_EN,
     JILAF_NOMINEE_EN " ({{data.candidate.nationality}}, nominated by "
                      "{{data.nominating_organisation.name}}) was selected for "
                      "{{data.programme_title.en}} (FY{{data.fiscal_year}}).\n"
                      "Next: invitation letter and visa. " JILAF_NOMINATION_LINK},
    {"jilaf.invitations.nomination.selected", "ja", "選考結果（選出）: " JILAF_NOMINEE_JA,
     "{{data.programme_title.ja}}（{{data.fiscal_year}}年度）に、"
     "{{data.nominating_organisation.name}}よりご推薦の" JILAF_NOMINEE_JA
     "（{{data.candidate.nationality}}）が選出されました。\n"
     "招へい状の送付と査証手続きをお願いいたします: " JILAF_NOMINATION_LINK},
    {"jilaf.invitations.nomination.withdrawn", "en", "Withdrawn: " JILAF_NOMINEE_EN,
     "The nomination of " JILAF_NOMINEE_EN " ({{data.candidate.nationality}}) for "
     "{{data.programme_title.en}} was withdrawn (it was {{data.previous_status}}).\n"
     "A seat may be free for the waiting list: " JILAF_NOMINATION_LINK},
    {"jilaf.invitations.nomination.withdrawn", "ja", "推薦取り下げ: " JILAF_NOMINEE_JA,
     "{{data.programme_title.ja}}への" JILAF_NOMINEE_JA "（{{data.candidate.nationality}}）の"
     "ご推薦が取り下げられました（取り下げ前の状態: {{data.previous_status}}）。\n"
     "補欠の繰り上げをご検討ください: " JILAF_NOMINATION_LINK},
    {"jilaf.invitations.nomination.visa_granted", "en", "Visa granted: " JILAF_NOMINEE_EN,
     "The Japanese visa of " JILAF_NOMINEE_EN " ({{data.candidate.nationality}}) for "
     "{{data.programme_title.en}} was granted. Travel can be booked: " JILAF_NOMINATION_LINK},
    {"jilaf.invitations.nomination.visa_granted", "ja", "査証発給: " JILAF_NOMINEE_JA,
     "{{data.programme_title.ja}}に参加される" JILAF_NOMINEE_JA "（{{data.candidate.nationality}}）"
     "の査証が発給されました。渡航手配をお願いいたします: " JILAF_NOMINATION_LINK},
    {"jilaf.invitations.nomination.visa_denied", "en", "Visa denied: " JILAF_NOMINEE_EN,
     "The Japanese visa of " JILAF_NOMINEE_EN " ({{data.candidate.nationality}}) for "
     "{{data.programme_title.en}} was denied. Inform {{data.nominating_organisation.name}} and "
     "consider the waiting list: " JILAF_NOMINATION_LINK},
    {"jilaf.invitations.nomination.visa_denied", "ja", "査証不発給: " JILAF_NOMINEE_JA,
     "{{data.programme_title.ja}}に参加予定の" JILAF_NOMINEE_JA "（{{data.candidate.nationality}}）"
     "の査証が発給されませんでした。{{data.nominating_organisation.name}}へのご連絡と補欠の"
     "繰り上げをご検討ください: " JILAF_NOMINATION_LINK},
    {"jilaf.invitations.followup.overdue", "en",
     "Follow-up overdue: " JILAF_NOMINEE_EN " ({{data.months}} months)",
     "The {{data.months}}-month follow-up of " JILAF_NOMINEE_EN " ({{data.candidate.nationality}})"
     " was due on {{data.due_date}} and has not arrived. Please remind the "
     "participant: " JILAF_NOMINATION_LINK},
    {"jilaf.invitations.followup.overdue", "ja",
     "フォローアップ未提出: " JILAF_NOMINEE_JA "（{{data.months}}か月）",
     JILAF_NOMINEE_JA
     "（{{data.candidate.nationality}}）の{{data.months}}か月後フォローアップ"
     "（提出期限 "
     "{{data.due_date}}）が未提出です。ご確認をお願いいたします: " JILAF_NOMINATION_LINK},
    {"jilaf.invitations.programme.created", "en", "Programme created: {{data.title.en}}",
     "FY{{data.fiscal_year}} {{data.track}} programme \"{{data.title.en}}\" was created "
     "({{data.start_date}} to {{data.end_date}}, {{data.seats}} seats): "
     "{{links.invitations}}/v1/programmes/{{data.programme_id}}"},
    {"jilaf.invitations.programme.created", "ja", "プログラム登録: {{data.title.ja}}",
     "{{data.fiscal_year}}年度のプログラム「{{data.title.ja}}」（{{data.start_date}}〜"
     "{{data.end_date}}、定員{{data.seats}}名）が登録されました: "
     "{{links.invitations}}/v1/programmes/{{data.programme_id}}"},
    {"jilaf.invitations.*", "en", "Invitations: {{event.what}}",
     "A {{event.what}} was recorded: {{links.invitations}}/v1/{{event.subject}}"},
    {"jilaf.invitations.*", "ja", "招へい事業: {{event.what}}",
     "招へい事業の記録が更新されました（{{event.what}}）: "
     "{{links.invitations}}/v1/{{event.subject}}"},
    {"jilaf.projects.project.approved", "en", "Project approved: {{data.title.en}}",
     "The project \"{{data.title.en}}\" ({{data.country}}, FY{{data.fiscal_year}}, "
     "{{data.budget.amount}} {{data.budget.currency}}) was approved. Tranches can now be "
     "planned: {{links.projects}}/v1/projects/{{data.project_id}}"},
    {"jilaf.projects.project.approved", "ja", "プロジェクト承認: {{data.title.ja}}",
     "プロジェクト「{{data.title.ja}}」（{{data.country}}、{{data.fiscal_year}}年度、予算 "
     "{{data.budget.amount}} {{data.budget.currency}}）が承認されました。"
     "資金の支払計画をご登録ください: {{links.projects}}/v1/projects/{{data.project_id}}"},
    {"jilaf.projects.report.overdue", "en", "Report overdue: {{data.project_title.en}}",
     "The {{data.kind}} report of \"{{data.project_title.en}}\" ({{data.country}}) was due on "
     "{{data.due_date}} and has not been received. Tranches planned after that date are held "
     "until it is approved: {{links.projects}}/v1/reports/{{data.report_id}}"},
    {"jilaf.projects.report.overdue", "ja", "報告書未提出: {{data.project_title.ja}}",
     "プロジェクト「{{data.project_title.ja}}」（{{data.country}}）の報告書（{{data.kind}}、"
     "提出期限 {{data.due_date}}）が未提出です。承認されるまで、期限後の資金支払いは保留されます: "
     "{{links.projects}}/v1/reports/{{data.report_id}}"},
    {"jilaf.projects.tranche.held", "en", "Tranche held: {{data.project_title.en}}",
     "The tranche of JPY {{data.amount_jpy}} planned for {{data.planned_date}} in "
     "\"{{data.project_title.en}}\" ({{data.country}}) is held: the progress report due on "
     "{{data.report_due_date}} has not been received, and the tranche cannot be approved until "
     "that report is: {{links.projects}}/v1/tranches/{{data.tranche_id}} (report: "
     "{{links.projects}}/v1/reports/{{data.report_id}})"},
    {"jilaf.projects.tranche.held", "ja", "資金支払保留: {{data.project_title.ja}}",
     "プロジェクト「{{data.project_title.ja}}」（{{data.country}}）の{{data.planned_date}}"
     "支払予定の資金（{{data.amount_jpy}}円）は、提出期限 {{data.report_due_date}} の"
     "進捗報告書が未提出のため保留されています。報告書が承認されるまで承認できませんので、"
     "ご確認をお願いいたします: "
     "{{links.projects}}/v1/tranches/{{data.tranche_id}}（報告書: "
     "{{links.projects}}/v1/reports/{{data.report_id}}）"},
    {"jilaf.missions.seminar.registration_open", "en", "Registration open: {{data.title.en}}",
     "Registration for \"{{data.title.en}}\" ({{data.venue.city}}, {{data.start_date}} to "
     "{{data.end_date}}, {{data.capacity}} places) is open: "
     "{{links.missions}}/v1/seminars/{{data.seminar_id}}"},
    {"jilaf.missions.seminar.registration_open", "ja", "参加登録開始: {{data.title.ja}}",
     "セミナー「{{data.title.ja}}」（{{data.venue.city}}、{{data.start_date}}〜{{data.end_date}}、"
     "定員{{data.capacity}}名）の参加登録を開始しました: "
     "{{links.missions}}/v1/seminars/{{data.seminar_id}}"},
    {"jilaf.missions.registration.waitlisted", "en", "Seminar full: registration waitlisted",
     "A registration from {{data.country}} was put on the waiting list: the seminar is full. "
     "Consider more places or another session: "
     "{{links.missions}}/v1/seminars/{{data.seminar_id}}"},
    {"jilaf.missions.registration.waitlisted", "ja", "セミナー満席: キャンセル待ち登録",
     "セミナーが満席のため、{{data.country}}からの参加登録をキャンセル待ちとしました。"
     "定員の追加などをご検討ください: {{links.missions}}/v1/seminars/{{data.seminar_id}}"},
    {"jilaf.missions.certificate.issued", "en", "Certificate issued ({{data.country}})",
     "A certificate dated {{data.certificate_date}} was issued to a participant from "
     "{{data.country}} ({{data.sessions_attended}} of {{data.sessions_total}} sessions "
     "attended): {{links.missions}}/v1/education-programmes/{{data.programme_id}}"},
    {"jilaf.missions.certificate.issued", "ja", "修了証発行（{{data.country}}）",
     "{{data.country}}からの参加者に修了証（{{data.certificate_date}}付）を発行しました"
     "（出席 {{data.sessions_attended}}/{{data.sessions_total}} 回）: "
     "{{links.missions}}/v1/education-programmes/{{data.programme_id}}"},
};
#undef JILAF_NOMINEE_EN
#undef JILAF_NOMINEE_JA
#undef JILAF_NOMINATION_LINK

// The texts the first release seeded; still unchanged, they are replaced by the ones above.
const DefaultTemplate kRetired[] = {
    {"jilaf.invitations.*", "en", "Invitations: {{event.type}}",
     "Event {{event.id}} on {{event.subject}}."},
    {"jilaf.invitations.*", "ja", "招へい事業: {{event.type}}",
     "{{event.subject}} に関するイベント {{event.id}} がありました。"},
};

struct DefaultRule {
  const char* id;
  const char* name;
  const char* event_type;
};

// Every invitations event (texts above for those staff act on, the generic one for the rest);
// of projects and missions only those an officer must act on.
const DefaultRule kDefaultRules[] = {
    {"default-staff-inbox", "Every invitations event to the staff inbox", "jilaf.invitations.*"},
    {"default-staff-inbox-project-approved", "Approved projects to the staff inbox",
     "jilaf.projects.project.approved"},
    {"default-staff-inbox-report-overdue", "Overdue project reports to the staff inbox",
     "jilaf.projects.report.overdue"},
    {"default-staff-inbox-tranche-held",
     "Tranches held for a missing progress report to the staff inbox",
     "jilaf.projects.tranche.held"},
    {"default-staff-inbox-seminar-open", "Seminars opening registration to the staff inbox",
     "jilaf.missions.seminar.registration_open"},
    {"default-staff-inbox-seminar-full",
     "Full seminars (waitlisted registrations) to the staff inbox",
     "jilaf.missions.registration.waitlisted"},
    {"default-staff-inbox-certificate", "Certificates issued to the staff inbox",
     "jilaf.missions.certificate.issued"},
};

bool Unchanged(const nlohmann::json& stored, const DefaultTemplate& retired) {
  return stored.value("subject", "") == retired.subject && stored.value("body", "") == retired.body;
}

void SeedTemplate(store::Db& tx, const DefaultTemplate& t) {
  const auto stored = FindTemplate(tx, t.event_type, "inbox", t.locale);
  std::int64_t version = 1;
  if (stored) {
    bool retired = false;
    for (const auto& old : kRetired) {
      retired = retired || (old.event_type == std::string_view(t.event_type) &&
                            old.locale == std::string_view(t.locale) && Unchanged(*stored, old));
    }
    if (!retired) return;  // an admin's text, or this one already
    version = (*stored)["version"].get<std::int64_t>() + 1;
  }
  SaveTemplate(tx, {{"event_type", t.event_type},
                    {"channel", "inbox"},
                    {"locale", t.locale},
                    {"subject", t.subject},
                    {"body", t.body},
                    {"version", version}});
}

}  // namespace

std::vector<std::string> DefaultTemplateTypes() {
  std::vector<std::string> types;
  for (const auto& t : kDefaults) {
    if (types.empty() || types.back() != t.event_type) types.emplace_back(t.event_type);
  }
  return types;
}

// Each default once: a template an admin changed stays, and so does a default rule an admin
// disabled (rules are never deleted); defaults added by a later release join existing stores.
void SeedDefaults(store::Store& store) {
  store.Write([](store::Db& tx) {
    for (const auto& t : kDefaults) SeedTemplate(tx, t);
    for (const auto& r : kDefaultRules) {
      if (Tables().rules.Find(tx, r.id)) continue;
      nlohmann::json rule = {{"name", r.name},
                             {"event_type", r.event_type},
                             {"channel", "inbox"},
                             {"recipients", {{{"role", "staff"}}}},
                             {"conditions", nlohmann::json::array()},
                             {"locale", "en"},
                             {"category", "operations"},
                             {"operational", true},
                             {"enabled", true}};
      aggregate::Stamp(rule);
      rule["id"] = r.id;
      Tables().rules.Insert(tx, rule);
    }
  });
}

}  // namespace jilaf::notifications
