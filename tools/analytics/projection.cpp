#include "tools/analytics/projection.hpp"

#include <optional>
#include <stdexcept>
#include <string>

namespace jilaf::analytics {
namespace {

using nlohmann::json;

store::Migration Create() {
  return {1, "entities",
          "CREATE TABLE entities ("
          " kind TEXT NOT NULL,"
          " id TEXT NOT NULL,"
          " parent TEXT,"
          " fiscal_year INTEGER,"
          " doc TEXT NOT NULL,"
          " PRIMARY KEY (kind, id)) WITHOUT ROWID;"
          "CREATE INDEX entities_year ON entities(kind, fiscal_year);"
          "CREATE INDEX entities_parent ON entities(kind, parent);"};
}

const json& Need(const json& data, const char* key) {
  const auto it = data.find(key);
  if (it == data.end()) {
    throw std::invalid_argument(std::string("event data lacks ") + key);
  }
  return *it;
}

std::string Text(const json& data, const char* key) {
  const json& value = Need(data, key);
  if (!value.is_string()) throw std::invalid_argument(std::string(key) + " is not a string");
  return value.get<std::string>();
}

std::optional<std::int64_t> Year(const json& data, const char* key = "fiscal_year") {
  const auto it = data.find(key);
  if (it == data.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) throw std::invalid_argument(std::string(key) + " is not integer");
  return it->get<std::int64_t>();
}

json AsJson(std::optional<std::int64_t> year) { return year ? json(*year) : json(); }

json OrNull(const json& data, const char* key) {
  const auto it = data.find(key);
  return it == data.end() ? json() : *it;
}

std::optional<json> Load(store::Db& tx, const char* kind, const std::string& id) {
  auto stmt = tx.Prepare("SELECT doc FROM entities WHERE kind = ? AND id = ?");
  stmt.Bind(1, kind).Bind(2, id);
  if (!stmt.Step()) return std::nullopt;
  return json::parse(stmt.Text(0));
}

void Put(store::Db& tx, const char* kind, const std::string& id,
         const std::optional<std::string>& parent, std::optional<std::int64_t> fiscal_year,
         const json& doc) {
  auto stmt = tx.Prepare(
      "INSERT INTO entities(kind, id, parent, fiscal_year, doc) VALUES (?1, ?2, ?3, ?4, ?5)"
      " ON CONFLICT(kind, id) DO UPDATE SET parent = ?3, fiscal_year = ?4, doc = ?5");
  stmt.Bind(1, kind).Bind(2, id).Bind(3, parent).Bind(4, fiscal_year).Bind(5, doc.dump());
  stmt.Run();
}

// Keeps what is there: for facts that, once true, stay true (an alumnus, a certificate).
void PutIfAbsent(store::Db& tx, const char* kind, const std::string& id,
                 std::optional<std::int64_t> fiscal_year, const json& doc) {
  auto stmt = tx.Prepare(
      "INSERT INTO entities(kind, id, fiscal_year, doc) VALUES (?, ?, ?, ?)"
      " ON CONFLICT(kind, id) DO NOTHING");
  stmt.Bind(1, kind).Bind(2, id).Bind(3, fiscal_year).Bind(4, doc.dump());
  stmt.Run();
}

// Updates the named facts of an entity, keeping the others (events that carry part of it).
void Merge(store::Db& tx, const char* kind, const std::string& id,
           std::optional<std::int64_t> fiscal_year, const json& facts) {
  json doc = Load(tx, kind, id).value_or(json::object());
  doc.update(facts);
  if (!fiscal_year) fiscal_year = Year(doc);
  Put(tx, kind, id, std::nullopt, fiscal_year, doc);
}

void Remove(store::Db& tx, const char* kind, const std::string& id) {
  auto stmt = tx.Prepare("DELETE FROM entities WHERE kind = ? AND id = ?");
  stmt.Bind(1, kind).Bind(2, id);
  stmt.Run();
}

void RemoveChildren(store::Db& tx, const char* kind, const std::string& parent) {
  auto stmt = tx.Prepare("DELETE FROM entities WHERE kind = ? AND parent = ?");
  stmt.Bind(1, kind).Bind(2, parent);
  stmt.Run();
}

// --- invitations ---------------------------------------------------------------------------

void Alumnus(store::Db& tx, const std::string& nomination_id, std::optional<std::int64_t> year) {
  PutIfAbsent(tx, "invitations.alumnus", nomination_id, year, {{"fiscal_year", AsJson(year)}});
}

void ApplyInvitations(store::Db& tx, const std::string& what, const json& data) {
  if (what.starts_with("programme.")) {
    const auto year = Year(data);
    Put(tx, "invitations.programme", Text(data, "programme_id"), std::nullopt, year,
        {{"fiscal_year", AsJson(year)},
         {"track", Need(data, "track")},
         {"region", OrNull(data, "region")}});
  } else if (what == "nomination.deleted") {
    Remove(tx, "invitations.nomination", Text(data, "nomination_id"));
  } else if (what.starts_with("nomination.")) {
    const std::string id = Text(data, "nomination_id");
    const auto year = Year(data);
    const json& candidate = Need(data, "candidate");
    const std::string status = Text(data, "status");
    Put(tx, "invitations.nomination", id, Text(data, "programme_id"), year,
        {{"programme_id", data["programme_id"]},
         {"nationality", Need(candidate, "nationality")},
         {"gender", OrNull(candidate, "gender")},
         {"status", status}});
    // The missions service keeps one alumnus per completed nomination, even after deletion.
    if (status == "completed") Alumnus(tx, id, year);
  }
}

// --- projects ------------------------------------------------------------------------------

void ApplyProjects(store::Db& tx, const std::string& what, const json& data) {
  if (what == "project.deleted") {
    Remove(tx, "projects.project", Text(data, "project_id"));
  } else if (what.starts_with("project.")) {
    const auto year = Year(data);
    Put(tx, "projects.project", Text(data, "project_id"), std::nullopt, year,
        {{"status", Need(data, "status")},
         {"area", Need(data, "area")},
         {"country", Need(data, "country")},
         {"support_type", Need(data, "support_type")},
         {"committed_jpy", Need(Need(data, "budget"), "amount_jpy")}});
  } else if (what.starts_with("tranche.")) {
    Put(tx, "projects.tranche", Text(data, "tranche_id"), Text(data, "project_id"), std::nullopt,
        {{"status", Need(data, "status")},
         {"amount_jpy", OrNull(data, "amount_jpy")},
         {"value_date", OrNull(data, "value_date")}});
  }
}

// --- missions ------------------------------------------------------------------------------

void Registration(store::Db& tx, const std::string& seminar_id, std::optional<std::int64_t> year,
                  const json& r) {
  Put(tx, "missions.registration", Text(r, "registration_id"), seminar_id, year,
      {{"status", Need(r, "status")}, {"alumnus_id", OrNull(r, "alumnus_id")}});
}

void Participant(store::Db& tx, const std::string& programme_id, std::optional<std::int64_t> year,
                 const json& p) {
  const std::string id = Text(p, "participant_id");
  Put(tx, "missions.participant", id, programme_id, year,
      {{"status", Need(p, "status")}, {"alumnus_id", OrNull(p, "alumnus_id")}});
  if (p["status"] == "completed") {
    PutIfAbsent(tx, "missions.certificate", programme_id + "/" + id, year,
                {{"programme_id", programme_id}});
  }
}

void Invited(store::Db& tx, const std::string& alumnus_id, const json& engagement) {
  const auto year = Year(engagement);
  PutIfAbsent(
      tx, "missions.invitation",
      alumnus_id + "/" + Text(engagement, "target_kind") + "/" + Text(engagement, "target_id"),
      year, {{"alumnus_id", alumnus_id}});
}

void ApplyMissions(store::Db& tx, const std::string& what, const json& data) {
  if (what == "mission.snapshot") {
    const auto year = Year(data);
    Put(tx, "missions.mission", Text(data, "mission_id"), std::nullopt, year,
        {{"status", Need(data, "status")},
         {"countries", Need(data, "countries")},
         {"report_status", OrNull(data, "report_status")}});
  } else if (what.starts_with("mission.") && data.contains("status")) {
    Merge(tx, "missions.mission", Text(data, "mission_id"), Year(data),
          {{"status", data["status"]}, {"countries", Need(data, "countries")}});
  } else if (what.starts_with("report.")) {
    Merge(tx, "missions.mission", Text(data, "mission_id"), Year(data),
          {{"report_status", Need(data, "status")}});
  } else if (what == "seminar.snapshot") {
    const std::string id = Text(data, "seminar_id");
    const auto year = Year(data);
    Put(tx, "missions.seminar", id, std::nullopt, year, {{"status", Need(data, "status")}});
    RemoveChildren(tx, "missions.registration", id);
    for (const auto& r : Need(data, "registrations")) Registration(tx, id, year, r);
  } else if (what.starts_with("seminar.")) {
    Merge(tx, "missions.seminar", Text(data, "seminar_id"), Year(data),
          {{"status", Need(data, "status")}});
  } else if (what.starts_with("registration.")) {
    Registration(tx, Text(data, "seminar_id"), Year(data), data);
  } else if (what == "education_programme.snapshot") {
    const std::string id = Text(data, "programme_id");
    const auto year = Year(data);
    Put(tx, "missions.education_programme", id, std::nullopt, year,
        {{"status", Need(data, "status")},
         {"location", Need(data, "location")},
         {"courses", Need(data, "courses")}});
    RemoveChildren(tx, "missions.participant", id);
    for (const auto& p : Need(data, "participants")) Participant(tx, id, year, p);
  } else if (what.starts_with("education_programme.")) {
    json facts = {{"status", Need(data, "status")}, {"location", Need(data, "location")}};
    if (data.contains("courses")) facts["courses"] = data["courses"];
    Merge(tx, "missions.education_programme", Text(data, "programme_id"), Year(data), facts);
  } else if (what == "participant.enrolled") {
    Participant(tx, Text(data, "programme_id"), Year(data),
                {{"participant_id", Need(data, "participant_id")},
                 {"status", "enrolled"},
                 {"alumnus_id", OrNull(data, "alumnus_id")}});
  } else if (what == "participant.completed" || what == "certificate.issued") {
    Participant(tx, Text(data, "programme_id"), Year(data),
                {{"participant_id", Need(data, "participant_id")},
                 {"status", "completed"},
                 {"alumnus_id", OrNull(data, "alumnus_id")}});
  } else if (what == "alumnus.invited") {
    Invited(tx, Text(data, "alumnus_id"), data);
  } else if (what == "alumnus.snapshot") {
    const std::string id = Text(data, "alumnus_id");
    Alumnus(tx, Text(data, "nomination_id"), Year(data));
    for (const auto& engagement : Need(data, "engagements")) {
      if (engagement.value("invited", false)) Invited(tx, id, engagement);
    }
  }
}

}  // namespace

store::MigrationSet Migrations() {
  return {"analytics",
          {Create(),
           {2, "applied positions",
            "CREATE TABLE applied_positions (topic TEXT NOT NULL, partition INTEGER NOT NULL,"
            " next_offset INTEGER NOT NULL, PRIMARY KEY (topic, partition)) WITHOUT ROWID;"}}};
}

void RecordPosition(store::Db& tx, const events::MessageOrigin& origin) {
  auto stmt = tx.Prepare(
      "INSERT INTO applied_positions(topic, partition, next_offset) VALUES (?1, ?2, ?3)"
      " ON CONFLICT(topic, partition) DO UPDATE SET next_offset ="
      " max(next_offset, excluded.next_offset)");
  stmt.Bind(1, origin.topic).Bind(2, origin.partition).Bind(3, origin.offset + 1);
  stmt.Run();
}

StoreState ReadStoreState(store::Db& db, const std::string& group) {
  StoreState state;
  // The positions noted as events were applied, and those the inbox implies (it also holds
  // events recognised as duplicates, and stores made before positions were noted).
  auto positions = db.Prepare(
      "SELECT topic, partition, max(next_offset) FROM (SELECT topic, partition, next_offset"
      " FROM applied_positions UNION ALL SELECT topic, partition, max(offset) + 1 FROM inbox"
      " WHERE consumer = ? GROUP BY topic, partition) GROUP BY topic, partition");
  positions.Bind(1, group);
  while (positions.Step()) {
    state.applied[{positions.Text(0), static_cast<int>(positions.Int(1))}] = positions.Int(2);
  }
  auto consumers = db.Prepare("SELECT DISTINCT consumer FROM inbox ORDER BY consumer");
  while (consumers.Step()) state.consumers.push_back(consumers.Text(0));
  return state;
}

void Apply(store::Db& tx, const events::CloudEvent& event) {
  if (!event.data.is_object()) throw std::invalid_argument("event data is not a JSON object");
  // jilaf.<service>.<aggregate>.<what>
  static constexpr std::string_view kPrefix = "jilaf.";
  if (!event.type.starts_with(kPrefix)) return;
  const std::string rest = event.type.substr(kPrefix.size());
  const auto dot = rest.find('.');
  if (dot == std::string::npos) return;
  const std::string service = rest.substr(0, dot);
  const std::string what = rest.substr(dot + 1);
  if (service == "invitations") {
    ApplyInvitations(tx, what, event.data);
  } else if (service == "projects") {
    ApplyProjects(tx, what, event.data);
  } else if (service == "missions") {
    ApplyMissions(tx, what, event.data);
  }
}

}  // namespace jilaf::analytics
