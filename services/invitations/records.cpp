#include "services/invitations/records.hpp"

#include "common/events/cloud_event.hpp"
#include "common/events/outbox.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "common/store/json_doc.hpp"
#include "services/invitations/schema.hpp"

namespace jilaf::invitations {

nlohmann::json LoadProgramme(store::Db& db, const std::string& id) {
  auto doc = store::LoadJsonDoc(db, "SELECT doc FROM programmes WHERE id = ?", id);
  if (!doc) throw http::ApiError::NotFound("no programme with id " + id);
  return std::move(*doc);
}

nlohmann::json LoadNomination(store::Db& db, const std::string& id) {
  auto doc = store::LoadJsonDoc(db, "SELECT doc FROM nominations WHERE id = ?", id);
  if (!doc) throw http::ApiError::NotFound("no nomination with id " + id);
  return std::move(*doc);
}

PersonalData LoadPersonal(store::Db& db, const FieldCipher& cipher, const std::string& id) {
  PersonalData personal;
  auto stmt = db.Prepare(
      "SELECT passport_number, date_of_birth FROM nomination_personal WHERE nomination_id = ?");
  stmt.Bind(1, id);
  if (!stmt.Step()) return personal;
  if (auto sealed = stmt.OptText(0)) {
    personal.passport_number = cipher.Decrypt(*sealed, id + "/passport_number");
  }
  if (auto sealed = stmt.OptText(1)) {
    personal.date_of_birth = cipher.Decrypt(*sealed, id + "/date_of_birth");
  }
  return personal;
}

void SaveNomination(store::Db& tx, nlohmann::json& nomination) {
  nomination["version"] = nomination["version"].get<std::int64_t>() + 1;
  nomination["updated_at"] = events::NowRfc3339();
  auto update = tx.Prepare(
      "UPDATE nominations SET status = ?, version = ?, waitlist_rank = ?, doc = ?, updated_at = ?"
      " WHERE id = ?");
  std::optional<std::int64_t> rank;
  if (nomination.contains("waitlist_rank")) rank = nomination["waitlist_rank"].get<std::int64_t>();
  update.Bind(1, nomination["status"].get<std::string>())
      .Bind(2, nomination["version"].get<std::int64_t>())
      .Bind(3, rank)
      .Bind(4, nomination.dump())
      .Bind(5, nomination["updated_at"].get<std::string>())
      .Bind(6, nomination["id"].get<std::string>());
  update.Run();
}

void SaveProgramme(store::Db& tx, nlohmann::json& programme) {
  programme["version"] = programme["version"].get<std::int64_t>() + 1;
  programme["updated_at"] = events::NowRfc3339();
  auto update = tx.Prepare(
      "UPDATE programmes SET fiscal_year = ?, track = ?, status = ?, version = ?, doc = ?,"
      " updated_at = ? WHERE id = ?");
  update.Bind(1, programme["fiscal_year"].get<std::int64_t>())
      .Bind(2, programme["track"].get<std::string>())
      .Bind(3, programme["status"].get<std::string>())
      .Bind(4, programme["version"].get<std::int64_t>())
      .Bind(5, programme.dump())
      .Bind(6, programme["updated_at"].get<std::string>())
      .Bind(7, programme["id"].get<std::string>());
  update.Run();
}

Occupancy LoadOccupancy(store::Db& db, const std::string& programme_id) {
  Occupancy taken;
  auto stmt = db.Prepare(
      "SELECT nationality, count(*) FROM nominations WHERE programme_id = ? AND status IN"
      " ('selected', 'invited', 'visa_applied', 'visa_granted', 'travel_booked', 'arrived',"
      " 'completed') GROUP BY nationality");
  stmt.Bind(1, programme_id);
  while (stmt.Step()) {
    taken.by_country[stmt.Text(0)] = stmt.Int(1);
    taken.total += stmt.Int(1);
  }
  return taken;
}

void EmitNominationEvent(store::Db& tx, const nlohmann::json& programme,
                         const nlohmann::json& nomination,
                         const std::optional<std::string>& previous_status,
                         const std::string& traceparent, nlohmann::json extra,
                         const std::string& what) {
  auto data = NominationEventData(programme, nomination, previous_status);
  if (extra.is_object()) data.update(extra);
  const std::string id = nomination["id"];
  const std::string kind = what.empty() ? nomination["status"].get<std::string>() : what;
  events::AppendToOutbox(
      tx, kEventsTopic,
      events::MakeEvent(kEventSource, "jilaf.invitations.nomination." + kind, id,
                        "nominations/" + id, "/schemas/invitations/nomination." + kind + "/v1.json",
                        std::move(data), traceparent));
}

void EmitProgrammeEvent(store::Db& tx, const nlohmann::json& programme, const std::string& what,
                        const std::optional<std::string>& previous_status,
                        const std::string& traceparent) {
  const std::string id = programme["id"];
  events::AppendToOutbox(
      tx, kEventsTopic,
      events::MakeEvent(kEventSource, "jilaf.invitations.programme." + what, id, "programmes/" + id,
                        "/schemas/invitations/programme." + what + "/v1.json",
                        ProgrammeEventData(programme, previous_status), traceparent));
}

namespace {

std::int64_t NextWaitlistRank(store::Db& tx, const std::string& programme_id) {
  auto stmt = tx.Prepare(
      "SELECT coalesce(max(waitlist_rank), 0) FROM nominations"
      " WHERE programme_id = ?");
  stmt.Bind(1, programme_id);
  return stmt.Step() ? stmt.Int(0) + 1 : 1;
}

std::vector<WaitlistEntry> LoadWaitlist(store::Db& tx, const std::string& programme_id) {
  std::vector<WaitlistEntry> waitlist;
  auto stmt = tx.Prepare(
      "SELECT id, nationality, waitlist_rank FROM nominations WHERE programme_id = ? AND"
      " status = 'waitlisted' ORDER BY waitlist_rank");
  stmt.Bind(1, programme_id);
  while (stmt.Step()) waitlist.push_back({stmt.Text(0), stmt.Text(1), stmt.Int(2)});
  return waitlist;
}

void CreateFollowUps(store::Db& tx, const nlohmann::json& programme,
                     const nlohmann::json& nomination) {
  const std::string end = programme["end_date"];
  for (int months : kFollowUpMonths) {
    const std::string id = events::NewTimeOrderedUuid();
    const nlohmann::json doc = {{"id", id},
                                {"nomination_id", nomination["id"]},
                                {"programme_id", nomination["programme_id"]},
                                {"months", months},
                                {"due_date", AddMonths(end, months)},
                                {"status", "due"},
                                {"version", 1},
                                {"created_at", events::NowRfc3339()}};
    auto insert = tx.Prepare(
        "INSERT OR IGNORE INTO followups(id, nomination_id, months, due_date, status, doc)"
        " VALUES (?, ?, ?, ?, 'due', ?)");
    insert.Bind(1, id)
        .Bind(2, nomination["id"].get<std::string>())
        .Bind(3, months)
        .Bind(4, doc["due_date"].get<std::string>())
        .Bind(5, doc.dump());
    insert.Run();
  }
}

}  // namespace

TransitionResult TransitionNomination(store::Db& tx, const std::string& id, const std::string& to,
                                      const std::optional<std::string>& reason,
                                      const http::Request* request,
                                      const std::string& traceparent) {
  TransitionResult result;
  auto nomination = LoadNomination(tx, id);
  if (request != nullptr) http::RequireIfMatch(*request, nomination["version"].get<std::int64_t>());
  const std::string from = nomination["status"];
  NominationMachine().Check(from, to);
  const std::string programme_id = nomination["programme_id"];
  const auto programme = LoadProgramme(tx, programme_id);
  const std::string programme_status = programme["status"];
  if (programme_status == "cancelled" || programme_status == "completed") {
    throw http::ApiError::Conflict("programme " + programme_id + " is " + programme_status +
                                   "; its nominations can no longer change")
        .With("programme_status", programme_status);
  }
  const auto limits = SeatLimits::FromProgramme(programme);
  auto taken = LoadOccupancy(tx, programme_id);
  if (to == "selected") CheckCapacity(limits, taken, nomination["candidate"]["nationality"]);

  nomination["status"] = to;
  if (to == "waitlisted") {
    nomination["waitlist_rank"] = NextWaitlistRank(tx, programme_id);
  } else {
    nomination.erase("waitlist_rank");
  }
  nlohmann::json extra = nlohmann::json::object();
  if (reason) {
    nomination["status_reason"] = *reason;
    extra["reason"] = *reason;
  } else {
    nomination.erase("status_reason");
  }
  SaveNomination(tx, nomination);
  EmitNominationEvent(tx, programme, nomination, from, traceparent, extra);
  if (to == "completed") CreateFollowUps(tx, programme, nomination);

  const bool may_promote = programme_status == "open" || programme_status == "selection" ||
                           programme_status == "confirmed";
  if (FreesSeatForWaitlist(from, to) && may_promote) {
    taken = LoadOccupancy(tx, programme_id);
    if (auto next = PickPromotion(limits, taken, LoadWaitlist(tx, programme_id))) {
      auto promoted = LoadNomination(tx, next->nomination_id);
      const std::string previous = promoted["status"];
      promoted["status"] = "selected";
      promoted.erase("waitlist_rank");
      promoted["status_reason"] = "promoted from the waitlist: nomination " + id + " " + to;
      SaveNomination(tx, promoted);
      EmitNominationEvent(tx, programme, promoted, previous, traceparent,
                          {{"reason", promoted["status_reason"]},
                           {"promoted_from_waitlist", true},
                           {"replaces_nomination_id", id}});
      result.promoted.push_back(next->nomination_id);
    }
  }
  result.nomination = std::move(nomination);
  return result;
}

http::Response JsonWithEtag(int status, const nlohmann::json& doc) {
  auto response = http::Response::Json(status, doc);
  response.SetHeader("ETag", http::MakeEtag(doc["version"].get<std::int64_t>()));
  return response;
}

}  // namespace jilaf::invitations
