#include "services/invitations/records.hpp"

#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/util/clock.hpp"
#include "common/util/ids.hpp"
#include "services/invitations/queries.hpp"
#include "services/invitations/tables.hpp"

namespace jilaf::invitations {
namespace {

void RequireChangeable(const nlohmann::json& programme) {
  const std::string status = programme.at("status");
  if (status == "cancelled" || status == "completed") {
    throw http::ApiError::Conflict("programme " + programme.at("id").get<std::string>() + " is " +
                                   status + "; its nominations can no longer change")
        .With("programme_status", status);
  }
}

bool MayPromote(const nlohmann::json& programme) {
  const std::string status = programme.at("status");
  return status == "open" || status == "selection" || status == "confirmed";
}

void CreateFollowUps(store::Db& tx, const nlohmann::json& programme,
                     const nlohmann::json& nomination) {
  const std::string nomination_id = nomination.at("id");
  for (int months : kFollowUpMonths) {
    const aggregate::Filters same = {{"nomination_id", nomination_id},
                                     {"months", std::int64_t{months}}};
    if (FollowUps().Count(tx, same) > 0) continue;
    FollowUps().Insert(tx, {{"id", util::NewTimeOrderedUuid()},
                            {"nomination_id", nomination_id},
                            {"programme_id", nomination.at("programme_id")},
                            {"months", months},
                            {"due_date", AddMonths(programme.at("end_date"), months)},
                            {"status", "due"},
                            {"version", 1},
                            {"created_at", util::NowRfc3339()}});
  }
}

void PromoteFromWaitlist(aggregate::Change& change, const nlohmann::json& freed_by,
                         NominationMove& move) {
  auto& tx = change.tx;
  const std::string programme_id = freed_by.at("programme_id");
  const auto next = PickPromotion(SeatLimits::FromProgramme(move.programme),
                                  LoadOccupancy(tx, programme_id), LoadWaitlist(tx, programme_id));
  if (!next) return;
  const std::string id = freed_by.at("id");
  auto promoted = Nominations().Get(tx, next->nomination_id);
  const std::string previous = promoted.at("status");
  promoted["status"] = "selected";
  promoted.erase("waitlist_rank");
  promoted["status_reason"] = "promoted from the waitlist: nomination " + id + " " + move.to;
  Nominations().Update(tx, promoted);
  change.Emit(NominationFacts(move.programme, promoted, previous,
                              {{"reason", promoted["status_reason"]},
                               {"promoted_from_waitlist", true},
                               {"replaces_nomination_id", id}}));
  move.promoted.push_back(next->nomination_id);
}

}  // namespace

aggregate::TransitionInput ReadMove(const nlohmann::json& body) {
  http::ObjectReader in(body);
  auto input = aggregate::ReadTransition(in);
  if (input.reason && input.reason->size() > 500) {
    in.AddError("reason", "must be at most 500 bytes long");
  }
  in.Finish();
  return input;
}

void BeginMove(store::Db& tx, nlohmann::json& nomination, NominationMove& move) {
  move.from = nomination.at("status");
  NominationMachine().Check(move.from, move.to);
  const std::string programme_id = nomination.at("programme_id");
  move.programme = Programmes().Get(tx, programme_id);
  RequireChangeable(move.programme);
  if (move.to == "selected") {
    CheckCapacity(SeatLimits::FromProgramme(move.programme), LoadOccupancy(tx, programme_id),
                  nomination.at("candidate").at("nationality"));
  }
  nomination["status"] = move.to;
  if (move.to == "waitlisted") {
    nomination["waitlist_rank"] = NextWaitlistRank(tx, programme_id);
  } else {
    nomination.erase("waitlist_rank");
  }
  if (move.reason) {
    nomination["status_reason"] = *move.reason;
  } else {
    nomination.erase("status_reason");
  }
}

void FinishMove(aggregate::Change& change, const nlohmann::json& nomination, NominationMove& move) {
  nlohmann::json extra = nlohmann::json::object();
  if (move.reason) extra["reason"] = *move.reason;
  change.Emit(NominationFacts(move.programme, nomination, move.from, extra));
  if (move.to == "completed") CreateFollowUps(change.tx, move.programme, nomination);
  if (FreesSeatForWaitlist(move.from, move.to) && MayPromote(move.programme)) {
    PromoteFromWaitlist(change, nomination, move);
  }
}

nlohmann::json RenderForView(store::Db& db, const FieldCipher& cipher,
                             const nlohmann::json& nomination, View view) {
  const PersonalData personal =
      view == View::kViewer ? PersonalData{} : LoadPersonal(db, cipher, nomination.at("id"));
  return RenderNomination(nomination, personal, view);
}

}  // namespace jilaf::invitations
