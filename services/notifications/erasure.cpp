// What notifications holds of a person, and its deletion when invitations erases them.
#include "services/notifications/erasure.hpp"

#include "common/store/dialect.hpp"
#include "services/notifications/tables.hpp"

namespace jilaf::notifications {
namespace {

std::vector<std::string> Column(store::Db& tx, const std::string& sql, const std::string& arg) {
  std::vector<std::string> out;
  auto stmt = tx.Prepare(sql);
  stmt.Bind(1, arg);
  while (stmt.Step()) out.push_back(stmt.Text(0));
  return out;
}

void Run(store::Db& tx, const std::string& sql, const std::string& arg) {
  auto stmt = tx.Prepare(sql);
  stmt.Bind(1, arg);
  stmt.Run();
}

void ForgetMailbox(store::Db& tx, const std::string& email) {
  for (const auto& id : Column(tx, "SELECT id FROM deliveries WHERE recipient = ?", email)) {
    Tables().deliveries.Delete(tx, id);
  }
  Run(tx, "DELETE FROM preferences WHERE recipient = ?", email);
  Run(tx, "DELETE FROM subscribers WHERE email = ?", email);
  Run(tx, "DELETE FROM idempotency_keys WHERE " + store::Contains(tx, "body"), email);
}

}  // namespace

void RecordPersonEvent(store::Db& tx, const std::string& person_id, const std::string& event_id) {
  auto stmt = tx.Prepare(
      "INSERT INTO person_events(person_id, event_id) VALUES (?, ?) ON CONFLICT DO NOTHING");
  stmt.Bind(1, person_id).Bind(2, event_id);
  stmt.Run();
}

void ErasePerson(store::Db& tx, const std::string& person_id, const nlohmann::json& record) {
  const std::string of_person = "(SELECT event_id FROM person_events WHERE person_id = ?)";
  for (const auto& id :
       Column(tx, "SELECT id FROM deliveries WHERE event_id IN " + of_person, person_id)) {
    Tables().deliveries.Delete(tx, id);
  }
  Run(tx,
      "DELETE FROM inbox_reads WHERE item_id IN (SELECT id FROM inbox_notifications"
      " WHERE event_id IN " +
          of_person + ")",
      person_id);
  Run(tx, "DELETE FROM inbox_notifications WHERE event_id IN " + of_person, person_id);
  Run(tx, "DELETE FROM person_events WHERE person_id = ?", person_id);
  if (record.is_object()) {
    const auto email = record.value("candidate", nlohmann::json::object()).value("email", "");
    if (!email.empty()) ForgetMailbox(tx, email);
  }
  // Terms of deleted deliveries leave the full-text index's segments.
  if (tx.engine() == store::Engine::kSqlite) {
    // After the batch's index writes (deliveries are indexed at its end), so that the terms the
    // erasure removed leave the segments too.
    tx.AtBatchEnd([](store::Db& db) {
      db.Exec("INSERT INTO deliveries_search(deliveries_search) VALUES('optimize')");
    });
  }
}

}  // namespace jilaf::notifications
