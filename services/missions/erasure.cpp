// What missions holds of a person, kept current from invitations' people topic and anonymised
// when invitations erases them. Alumni rows stay (the yearly reports count them), nameless.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include "common/util/clock.hpp"

#include "common/events/people.hpp"
#include "services/missions/routes.hpp"
#include "services/missions/tables.hpp"

namespace jilaf::missions {
namespace {

constexpr const char* kErased = "(erased)";

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::vector<std::string> Ids(store::Db& tx, const std::string& sql, const std::string& arg) {
  std::vector<std::string> out;
  auto stmt = tx.Prepare(sql);
  stmt.Bind(1, arg);
  while (stmt.Step()) out.push_back(stmt.Text(0));
  return out;
}

std::string Email(const nlohmann::json& record) {
  if (!record.is_object()) return {};
  return Lower(record.value("candidate", nlohmann::json::object()).value("email", ""));
}

// Registrations and participants (inside seminar and education documents) with the address.
void AnonymiseAttendees(store::Db& tx, const aggregate::DocTable& table, const char* member,
                        const std::string& email) {
  for (const auto& id :
       Ids(tx, "SELECT id FROM " + table.spec().name + " WHERE instr(lower(doc), ?) > 0", email)) {
    auto doc = table.Get(tx, id);
    bool changed = false;
    for (auto& entry : doc[member]) {
      if (!entry.is_object() || Lower(entry.value("email", "")) != email) continue;
      for (const char* name : {"family_name", "given_name", "name", "union", "position"}) {
        if (entry.contains(name)) entry[name] = kErased;
      }
      entry["email"] = "";
      changed = true;
    }
    if (changed) table.Update(tx, doc);
  }
}

void AnonymiseAlumni(store::Db& tx, const std::string& person_id) {
  for (const auto& id :
       Ids(tx, "SELECT id FROM alumni WHERE json_extract(doc, '$.person_id') = ?", person_id)) {
    auto stmt = tx.Prepare(
        "UPDATE alumni SET email_lower = '', doc = json_set(json_remove(doc, '$.email'),"
        " '$.family_name', ?1, '$.given_name', ?1, '$.union', ?1, '$.position', ?1,"
        " '$.nominating_organisation', ?1, '$.erased_at', ?2) WHERE id = ?3");
    stmt.Bind(1, std::string(kErased)).Bind(2, util::NowRfc3339()).Bind(3, id);
    stmt.Run();
    auto replies = tx.Prepare("DELETE FROM idempotency_keys WHERE instr(body, ?) > 0");
    replies.Bind(1, id);
    replies.Run();
  }
}

}  // namespace

void ErasePerson(store::Db& tx, const std::string& person_id, const nlohmann::json& record) {
  AnonymiseAlumni(tx, person_id);
  if (PeopleTable().Find(tx, person_id)) PeopleTable().Delete(tx, person_id);
  const std::string email = Email(record);
  if (!email.empty()) {
    AnonymiseAttendees(tx, Seminar().kind.table, "registrations", email);
    AnonymiseAttendees(tx, Education().kind.table, "participants", email);
    auto replies = tx.Prepare("DELETE FROM idempotency_keys WHERE instr(lower(body), ?) > 0");
    replies.Bind(1, email);
    replies.Run();
  }
  // Terms of replaced documents leave the full-text indexes' segments.
  for (const char* index : {"people_search", "seminars_search", "education_programmes_search"}) {
    tx.Exec(std::string("INSERT INTO ") + index + "(" + index + ") VALUES('optimize')");
  }
}

void ApplyPeopleRecord(store::Db& tx, const events::CloudEvent& event,
                       const events::MessageOrigin& /*origin*/) {
  events::ApplyPersonRecord(tx, event, ErasePerson);
  if (!event.data.is_object()) return;
  // A corrected name or address reaches the person read model and the alumni directory.
  const auto& candidate = event.data.value("candidate", nlohmann::json::object());
  if (auto person = PeopleTable().Find(tx, event.key)) {
    for (const char* key : {"family_name", "given_name"}) {
      if (candidate.contains(key)) (*person)[key] = candidate[key];
    }
    PeopleTable().Update(tx, *person);
  }
  for (const auto& id :
       Ids(tx, "SELECT id FROM alumni WHERE json_extract(doc, '$.person_id') = ?", event.key)) {
    auto stmt = tx.Prepare(
        "UPDATE alumni SET email_lower = lower(?1), doc = json_set(doc, '$.family_name', ?2,"
        " '$.given_name', ?3, '$.email', ?1) WHERE id = ?4 AND json_extract(doc, '$.erased_at')"
        " IS NULL");
    stmt.Bind(1, candidate.value("email", ""))
        .Bind(2, candidate.value("family_name", ""))
        .Bind(3, candidate.value("given_name", ""))
        .Bind(4, id);
    stmt.Run();
  }
}

}  // namespace jilaf::missions
