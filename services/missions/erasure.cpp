// What missions holds of a person, kept current from invitations' people topic and anonymised
// when invitations erases them. Alumni rows stay (the yearly reports count them), nameless.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <functional>

#include "common/events/people.hpp"
#include "common/store/dialect.hpp"
#include "common/util/clock.hpp"
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

// The alumni of a person (the directory's rows name their person in the document).
std::vector<std::string> AlumniOf(store::Db& tx, const std::string& person_id) {
  return Ids(tx, "SELECT id FROM alumni WHERE " + store::JsonText(tx, "doc", "person_id") + " = ?",
             person_id);
}

// One alumnus's document changed in C++ (the same on both engines), with its e-mail key.
void RewriteAlumnus(store::Db& tx, const std::string& id,
                    const std::function<bool(nlohmann::json&, std::string&)>& change) {
  auto read = tx.Prepare("SELECT doc, email_lower FROM alumni WHERE id = ?");
  read.Bind(1, id);
  if (!read.Step()) return;
  auto doc = nlohmann::json::parse(read.Text(0));
  std::string email_lower = read.Text(1);
  if (!change(doc, email_lower)) return;
  auto write = tx.Prepare("UPDATE alumni SET email_lower = ?, doc = ? WHERE id = ?");
  write.Bind(1, email_lower).Bind(2, doc.dump()).Bind(3, id);
  write.Run();
}

std::string Email(const nlohmann::json& record) {
  if (!record.is_object()) return {};
  return Lower(record.value("candidate", nlohmann::json::object()).value("email", ""));
}

// Registrations and participants (inside seminar and education documents) with the address.
void AnonymiseAttendees(store::Db& tx, const aggregate::DocTable& table, const char* member,
                        const std::string& email) {
  for (const auto& id :
       Ids(tx,
           "SELECT id FROM " + table.spec().name + " WHERE " + store::Contains(tx, "lower(doc)"),
           email)) {
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
  const std::string now = util::NowRfc3339();
  for (const auto& id : AlumniOf(tx, person_id)) {
    RewriteAlumnus(tx, id, [&now](nlohmann::json& doc, std::string& email_lower) {
      doc.erase("email");
      for (const char* member :
           {"family_name", "given_name", "union", "position", "nominating_organisation"}) {
        doc[member] = kErased;
      }
      doc["erased_at"] = now;
      email_lower.clear();
      return true;
    });
    auto replies = tx.Prepare("DELETE FROM idempotency_keys WHERE " + store::Contains(tx, "body"));
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
    auto replies =
        tx.Prepare("DELETE FROM idempotency_keys WHERE " + store::Contains(tx, "lower(body)"));
    replies.Bind(1, email);
    replies.Run();
  }
  // Terms of replaced documents leave the full-text indexes' segments.
  if (tx.engine() != store::Engine::kSqlite) return;  // FTS5's segments; GIN needs no merge
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
  for (const auto& id : AlumniOf(tx, event.key)) {
    RewriteAlumnus(tx, id, [&candidate](nlohmann::json& doc, std::string& email_lower) {
      if (doc.contains("erased_at")) return false;
      const std::string email = candidate.value("email", "");
      doc["family_name"] = candidate.value("family_name", "");
      doc["given_name"] = candidate.value("given_name", "");
      doc["email"] = email;
      email_lower = Lower(email);
      return true;
    });
  }
}

}  // namespace jilaf::missions
