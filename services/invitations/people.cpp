// Erasure of a person: every nomination of theirs keeps the facts the yearly statistics count
// (programme, status, nationality, gender) and loses everything that names or reaches them.
#include <nlohmann/json.hpp>

#include "common/aggregate/sequences.hpp"
#include "common/events/people.hpp"
#include "common/http/problem.hpp"
#include "common/store/dialect.hpp"
#include "common/util/clock.hpp"
#include "services/invitations/queries.hpp"
#include "services/invitations/routes.hpp"
#include "services/invitations/tables.hpp"

namespace jilaf::invitations {
namespace {

constexpr const char* kErased = "(erased)";

std::vector<std::string> NominationsOfPerson(store::Db& tx, const std::string& person_id) {
  std::vector<std::string> ids;
  auto stmt = tx.Prepare("SELECT id FROM nominations WHERE coalesce(" +
                         store::JsonText(tx, "doc", "person_id") + ", id) = ? ORDER BY seq");
  stmt.Bind(1, person_id);
  while (stmt.Step()) ids.push_back(stmt.Text(0));
  return ids;
}

// The candidate's counted facts stay; names, contacts, union and position become placeholders
// (readers of a nomination expect those members), the e-mail and the organisation's contact go.
void AnonymiseNomination(store::Db& tx, const std::string& id) {
  auto doc = Nominations().Get(tx, id);
  auto& c = doc["candidate"];
  nlohmann::json kept = aggregate::Pick(c, {"nationality", "gender"});
  for (const char* member : {"family_name", "given_name", "union", "position"}) {
    kept[member] = kErased;
  }
  c = std::move(kept);
  doc["nominating_organisation"].erase("contact_email");
  doc.erase("duplicates");
  doc.erase("passport_disclosures");
  doc["erased_at"] = util::NowRfc3339();
  Nominations().Update(tx, doc);
  SetIdentityHash(tx, id, std::nullopt);
  SetMatchKeys(tx, id, std::nullopt, "", "");  // no keys: nothing for a rotation to redo
}

void ErasePersonIn(store::Db& tx, const std::string& person_id, std::string_view traceparent) {
  SecureDelete(tx);  // freed cells are overwritten with zeros, not left in free pages
  const auto ids = NominationsOfPerson(tx, person_id);
  if (ids.empty()) throw http::ApiError::NotFound("no person with id " + person_id);
  for (const auto& id : ids) {
    DeletePersonal(tx, id);
    Logistics().Delete(tx, id);
    for (const auto& followup : FollowUps().Where(tx, {{"nomination_id", id}})) {
      FollowUps().Delete(tx, followup.at("id").get<std::string>());
    }
    AnonymiseNomination(tx, id);
    ForgetRepliesNaming(tx, id);
  }
  ForgetRepliesNaming(tx, person_id);
  ForgetPersonRecords(tx, Events().people_topic(), person_id);
  Events().Erase(tx, person_id, traceparent);
  OptimiseNominationSearch(tx);
}

}  // namespace

http::Response ErasePerson(const http::Request& request, Context& context) {
  const std::string person_id = request.Param("id");
  context.store.Write(
      [&](store::Db& tx) { ErasePersonIn(tx, person_id, request.Header("traceparent")); });
  CheckpointAndTruncateWal(context.db_path);
  events::RequestScrub();  // and rewritten (VACUUM) by the service's scheduler
  return http::Response::Empty(204);
}

}  // namespace jilaf::invitations
