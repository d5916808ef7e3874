#include "services/invitations/readers.hpp"
#include "services/invitations/routes.hpp"

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "common/aggregate/search.hpp"
#include "common/aggregate/sequences.hpp"
#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "common/util/clock.hpp"
#include "common/util/ids.hpp"
#include "services/invitations/candidates.hpp"
#include "services/invitations/domain.hpp"
#include "services/invitations/queries.hpp"
#include "services/invitations/tables.hpp"

namespace jilaf::invitations {
namespace {

// A nomination under its programme: its keys before the write is queued, the rule before it is
// stored, the rest after.
struct Nomination {
  explicit Nomination(const crypto::FieldCipher& cipher) : cipher(cipher) {}

  const crypto::FieldCipher& cipher;
  PersonalData personal;
  nlohmann::json programme;
  std::vector<std::string> identity_hashes;
  std::optional<std::string> identity_hash;
  MatchKeys match_keys;
  nlohmann::json possible_duplicates;  // as the 201 shows them; the document keeps their ids
  // Sent ahead by Prefetch, taken by Rule in the same job.
  std::unique_ptr<store::Stmt> duplicates_query;
  std::unique_ptr<store::Stmt> contact_query;
  bool prefetched_contact = false;

  // Outside the writer's transaction: the blind indexes depend only on the request. They are
  // looked up under every key of the ring and stored under the newest (the first).
  void Keys(const nlohmann::json& doc) {
    const auto& c = doc.at("candidate");
    if (personal.date_of_birth) {
      identity_hashes = IdentityHashes(cipher, c, *personal.date_of_birth);
      identity_hash = identity_hashes.front();
    }
    match_keys = MatchKeysOf(cipher, c, personal.passport_number);
  }

  // Before the programme's version is checked (CreateChild's prefetch): Rule's reads that
  // depend neither on the programme nor on each other, sent ahead so that on PostgreSQL they
  // share the programme's round trip. The contact lookup is sent only when no identity can
  // name the person (no birth date), the case where Rule always makes it. Where nothing is sent
  // ahead (SQLite) no statement is made here: Rule makes its own, and none outlives the job.
  void Prefetch(store::Db& tx, const nlohmann::json& doc) {
    duplicates_query.reset();
    contact_query.reset();
    prefetched_contact = false;
    if (!tx.SendsAhead()) return;
    const std::string self = doc.at("id");
    duplicates_query = std::make_unique<store::Stmt>(
        PossibleDuplicatesQuery(tx, doc.at("candidate"), match_keys, self));
    duplicates_query->Prefetch();
    if (!personal.date_of_birth) {
      if (auto query = PersonOfContactQuery(tx, doc.at("candidate"), false)) {
        contact_query = std::make_unique<store::Stmt>(std::move(*query));
        contact_query->Prefetch();
      }
    }
    prefetched_contact = true;
  }

  void Rule(aggregate::Change& change, const nlohmann::json& parent, nlohmann::json& doc) {
    store::Db& tx = change.tx;
    programme = parent;
    const std::string programme_id = programme.at("id");
    if (programme["status"] != "open") {
      throw http::ApiError::Conflict("programme " + programme_id + " is " +
                                     programme["status"].get<std::string>() +
                                     "; nominations are accepted only while it is open")
          .With("programme_status", programme["status"]);
    }
    const std::int64_t fiscal_year = programme["fiscal_year"];
    doc["programme_id"] = programme_id;
    doc["fiscal_year"] = fiscal_year;
    doc["status"] = "submitted";
    doc["person_id"] = doc["id"];  // a new person, unless found nominated before
    if (identity_hash) Flag(tx, doc, fiscal_year);
    // Without a birth date nothing is refused; a likely match is reported for staff to judge.
    possible_duplicates = PossibleDuplicatesNow(tx, doc);
    if (!possible_duplicates.empty()) doc["duplicates"] = StoredDuplicates(possible_duplicates);
    // Not found by identity: the same candidate entered (now or before) without a birth date.
    if (doc["person_id"] == doc["id"]) {
      if (auto person = PersonOfContactNow(tx, doc["candidate"])) doc["person_id"] = *person;
    }
    change.KeepColumns({{"identity_hash", identity_hash},
                        {"passport_hash", match_keys.passport_hash},
                        {"name_key", match_keys.name_key},
                        {"index_key", match_keys.key_id}});
  }

  // PossibleDuplicates, from the prefetched statement when one was sent.
  nlohmann::json PossibleDuplicatesNow(store::Db& tx, const nlohmann::json& doc) {
    if (!duplicates_query) {
      return PossibleDuplicates(tx, doc["candidate"], match_keys, doc["id"].get<std::string>());
    }
    const auto query = std::move(duplicates_query);
    return PossibleDuplicatesOf(*query, doc["candidate"]);
  }

  // PersonOfContact, from the prefetched statement when one was sent.
  std::optional<std::string> PersonOfContactNow(store::Db& tx, const nlohmann::json& candidate) {
    if (!std::exchange(prefetched_contact, false) || personal.date_of_birth) {
      return PersonOfContact(tx, candidate, personal.date_of_birth.has_value());
    }
    if (!contact_query) return std::nullopt;  // no e-mail: nothing to look up
    const auto query = std::move(contact_query);
    return PersonOfContactRows(*query, candidate);
  }

  void Flag(store::Db& tx, nlohmann::json& doc, std::int64_t fiscal_year) {
    if (auto person = PersonOfIdentity(tx, identity_hashes)) doc["person_id"] = *person;
    auto earlier = EarlierParticipation(tx, identity_hashes, fiscal_year);
    if (!earlier.empty()) doc["previous_participation"] = std::move(earlier);
  }

  void Announce(aggregate::Change& change, const nlohmann::json& doc) {
    const std::string id = doc.at("id");
    // A nomination without a passport number or birth date has no row of personal data.
    if (personal.passport_number || personal.date_of_birth) {
      StorePersonal(change.tx, cipher, id, personal);
    }
    change.Emit(NominationFacts(programme, doc, std::nullopt));
    // Rendered after the commit unless an Idempotency-Key keeps it for replays; either way it
    // carries no personal data in clear whatever the caller's role: the passport masked, the
    // birth date left out. `doc` is CreateChild's own document, alive until the answer is built.
    change.RespondAfterCommit([this, &doc] {
      auto body = RenderNomination(doc, {personal.passport_number, std::nullopt},
                                   aggregate::Audience::kStaff);
      body.erase("duplicates");
      if (!possible_duplicates.empty()) body["possible_duplicates"] = possible_duplicates;
      const auto warnings = DuplicateWarnings(possible_duplicates);
      if (!warnings.empty()) body["warnings"] = warnings;
      return aggregate::CreatedResponse(Nominations(), body);
    });
  }
};

}  // namespace

http::Response CreateNomination(const http::Request& request, Context& context) {
  Nomination nomination(context.cipher);
  auto doc = ReadNomination(ParseBodyWithoutEcho(request), nomination.personal);
  nomination.Keys(doc);
  return aggregate::CreateChild(
      context.store, request, Programmes(), request.Param("id"), NominationKind(), std::move(doc),
      [&](aggregate::Change& change, const nlohmann::json& programme, nlohmann::json& doc) {
        nomination.Rule(change, programme, doc);
      },
      [&](aggregate::Change& change, const nlohmann::json& doc) {
        nomination.Announce(change, doc);
      },
      [&](store::Db& tx, const nlohmann::json& doc) { nomination.Prefetch(tx, doc); });
}

http::Response GetNomination(const http::Request& request, Context& context) {
  const auto view = aggregate::AudienceOf(request.principal);
  return context.store.Read([&](store::Db& db) {
    const auto doc = Nominations().Get(db, request.Param("id"));
    return aggregate::DocResponse(RenderForView(db, context.cipher, doc, view));
  });
}

namespace {

// The filters every nomination list accepts beside `q`.
aggregate::Filters NominationFilters(const http::Request& request) {
  const auto status = request.Query("status");
  if (status && !NominationMachine().IsState(*status)) {
    throw http::ApiError::BadRequest("query parameter status is not a nomination status")
        .With("field", "status");
  }
  return {{"status", aggregate::Maybe(status)},
          {"nationality", aggregate::Maybe(http::QueryCountry(request, "nationality"))},
          {"fiscal_year", aggregate::Maybe(http::QueryInt(request, "fiscal_year", 1900, 2200))}};
}

// One page (listed or searched), each item as the caller's role may see it.
nlohmann::json FindNominations(store::Db& db, const http::Request& request, Context& context,
                               aggregate::Filters filters, const std::string& programme_id) {
  auto names = aggregate::FilterNames(filters);
  if (programme_id.empty()) names.emplace_back("programme_id");
  auto query = aggregate::ReadListQuery(request, names);
  const auto view = aggregate::AudienceOf(request.principal);
  query.page.masked = view == aggregate::Audience::kViewer;
  filters.emplace_back("programme_id", programme_id.empty()
                                           ? aggregate::Maybe(request.Query("programme_id"))
                                           : aggregate::FilterValue(programme_id));
  auto page = aggregate::FindIn(
      db, query, Nominations(), filters, [&](store::Db& read, nlohmann::json doc) {
        return RenderWithStoredDuplicates(read, context.cipher, doc, view);
      });
  ExpandPossibleDuplicates(db, page["items"]);  // one query for the page, not one per item
  return page;
}

}  // namespace

http::Response ListNominations(const http::Request& request, Context& context) {
  const auto filters = NominationFilters(request);
  return context.store.Read([&](store::Db& db) {
    (void)Programmes().Get(db, request.Param("id"));
    return http::Response::Json(
        200, FindNominations(db, request, context, filters, request.Param("id")));
  });
}

http::Response SearchNominations(const http::Request& request, Context& context) {
  const auto filters = NominationFilters(request);
  return context.store.Read([&](store::Db& db) {
    return http::Response::Json(200, FindNominations(db, request, context, filters, {}));
  });
}

namespace {

// The nomination's lifecycle across records: a move checks seats and quotas, ranks the
// waitlist, promotes into a freed seat and opens the follow-ups, each change with its event.

// One move of a nomination, as it goes.
struct NominationMove {
  explicit NominationMove(aggregate::TransitionInput input)
      : to(std::move(input.to)), reason(std::move(input.reason)) {}

  std::string to;  // empty for a reversal: BeginMove finds it
  std::optional<std::string> reason;
  std::string by;                     // who moves it
  bool reversal = false;              // an admin undoing a staff mistake
  std::string from;                   // set by BeginMove
  nlohmann::json programme;           // set by BeginMove
  std::vector<std::string> promoted;  // set by FinishMove: ids moved from the waitlist
};

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
  aggregate::RecordTransition(promoted, "status_history", previous, "selected", move.by,
                              promoted["status_reason"].get<std::string>());
  Nominations().Update(tx, promoted);
  change.Emit(NominationFacts(move.programme, promoted, previous,
                              {{"reason", promoted["status_reason"]},
                               {"promoted_from_waitlist", true},
                               {"replaces_nomination_id", id}}));
  move.promoted.push_back(next->nomination_id);
}

// Before the nomination is stored: the state machine (409), a programme that still allows
// changes (409), seats and country quota on selection (409 naming the limit), the waitlist rank
// and the status reason.
void BeginMove(store::Db& tx, nlohmann::json& nomination, NominationMove& move) {
  move.from = nomination.at("status");
  if (move.reversal) {
    move.to = ReversalTarget(nomination);
  } else {
    NominationMachine().Check(move.from, move.to);
  }
  const std::string programme_id = nomination.at("programme_id");
  move.programme = Programmes().Get(tx, programme_id);
  RequireChangeable(move.programme);
  if (HoldsSeat(move.to) && !HoldsSeat(move.from)) {  // a selection, or a reversal into a seat
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
  aggregate::RecordTransition(nomination, "status_history", move.from, move.to, move.by,
                              move.reason);
  if (move.reversal) nomination["status_history"].back()["reversal"] = true;
}

// After it is stored: its event, the follow-ups on completion, and the promotion of the first
// eligible waitlisted candidate when a seat is freed (with its own event).
void FinishMove(aggregate::Change& change, const nlohmann::json& nomination, NominationMove& move) {
  nlohmann::json extra = nlohmann::json::object();
  if (move.reason) extra["reason"] = *move.reason;
  if (move.reversal) extra["reversal"] = true;
  change.Emit(NominationFacts(move.programme, nomination, move.from, extra));
  if (move.to == "completed") CreateFollowUps(change.tx, move.programme, nomination);
  if (FreesSeatForWaitlist(move.from, move.to) && MayPromote(move.programme)) {
    PromoteFromWaitlist(change, nomination, move);
  }
}

}  // namespace

void CheckProgrammeCanComplete(store::Db& tx, const nlohmann::json& programme) {
  const std::string programme_id = programme.at("id");
  nlohmann::json pending = nlohmann::json::array();
  std::string names;
  for (const auto& nomination : Nominations().Where(tx, {{"programme_id", programme_id}})) {
    const std::string id = nomination.at("id");
    const std::string status = nomination.at("status");
    if (!BlocksProgrammeCompletion(status)) continue;
    pending.push_back(nlohmann::json{{"nomination_id", id}, {"status", status}});
    names += (names.empty() ? "" : ", ") + id + " (" + status + ")";
  }
  if (pending.empty()) return;
  throw http::ApiError(409, "participants-pending", "Participants still pending",
                       "the programme cannot complete while seated participants have not "
                       "arrived; record them as no_show or withdrawn first: " +
                           names)
      .With("nominations", pending);
}

std::vector<std::string> CarryNominations(aggregate::Change& change,
                                          const nlohmann::json& programme, const std::string& by) {
  const std::string programme_id = programme.at("id");
  const std::string to = programme.at("status");
  const std::string reason = "programme " + to;
  std::vector<std::string> carried;
  for (auto nomination : Nominations().Where(change.tx, {{"programme_id", programme_id}})) {
    const std::string from = nomination.at("status");
    const auto next = CarriedStatus(to, from);
    if (!next) continue;
    nomination["status"] = *next;
    nomination["status_reason"] = reason;
    nomination.erase("waitlist_rank");
    aggregate::RecordTransition(nomination, "status_history", from, *next, by, reason);
    Nominations().Update(change.tx, nomination);
    change.Emit(NominationFacts(programme, nomination, from,
                                {{"reason", reason}, {"carried_by_programme", true}}));
    if (*next == "completed") CreateFollowUps(change.tx, programme, nomination);
    carried.push_back(nomination.at("id"));
  }
  return carried;
}

namespace {

// The one write of every move: the rules of BeginMove and FinishMove, the caller's view back.
http::Response MoveNomination(const http::Request& request, Context& context,
                              NominationMove& move) {
  move.by = request.principal.subject;
  const auto view = aggregate::AudienceOf(request.principal);
  return aggregate::Modify(
      context.store, request, NominationKind(), request.Param("id"),
      [&](aggregate::Change& change, nlohmann::json& doc) { BeginMove(change.tx, doc, move); },
      [&](aggregate::Change& change, const nlohmann::json& doc) {
        FinishMove(change, doc, move);
        auto rendered = RenderForView(change.tx, context.cipher, doc, view);
        rendered["promoted"] = move.promoted;
        change.Respond(aggregate::DocResponse(rendered));
      });
}

}  // namespace

http::Response TransitionNominationHandler(const http::Request& request, Context& context) {
  NominationMove move(ReadMove(http::ParseJsonBody(request), NominationMachine()));
  return MoveNomination(request, context, move);
}

std::string ReadReversalReason(const nlohmann::json& body) {
  http::ObjectReader in(body);
  auto reason = in.RequiredString("reason", 1, 500);
  in.Finish();
  return reason;
}

http::Response ReverseNomination(const http::Request& request, Context& context) {
  NominationMove move({{}, ReadReversalReason(http::ParseJsonBody(request))});
  move.reversal = true;
  return MoveNomination(request, context, move);
}

namespace {

void RefuseWhileSeated(const nlohmann::json& nomination) {
  const std::string status = nomination.at("status");
  if (HoldsSeat(status) && status != "completed") {
    throw http::ApiError::Conflict("nomination " + nomination.at("id").get<std::string>() +
                                   " holds a seat (" + status + "); withdraw it before deleting it")
        .With("status", status);
  }
}

// The nomination, its personal data, logistics and follow-ups, and the stored replies naming it.
void Erase(store::Db& tx, const std::string& id) {
  DeletePersonal(tx, id);
  Logistics().Delete(tx, id);
  for (const auto& followup : FollowUps().Where(tx, {{"nomination_id", id}})) {
    FollowUps().Delete(tx, followup.at("id").get<std::string>());
  }
  Nominations().Delete(tx, id);
  ForgetRepliesNaming(tx, id);
}

// The person's last nomination gone: their records leave the people topic too (a tombstone).
void ForgetPersonIfNoneLeft(store::Db& tx, const std::string& person_id,
                            std::string_view traceparent) {
  if (PersonHasNominations(tx, person_id)) return;
  ForgetPersonRecords(tx, Events().people_topic(), person_id);
  Events().Erase(tx, person_id, traceparent);
}

}  // namespace

http::Response DeleteNomination(const http::Request& request, Context& context) {
  const std::string id = request.Param("id");
  context.store.Write([&](store::Db& tx) {
    SecureDelete(tx);  // deleted cells are overwritten with zeros, not left in free space
    const auto nomination = Nominations().Get(tx, id);
    RefuseWhileSeated(nomination);
    Erase(tx, id);
    ForgetPersonIfNoneLeft(tx, nomination.value("person_id", id), request.Header("traceparent"));
    const nlohmann::json data = {{"nomination_id", id},
                                 {"programme_id", nomination["programme_id"]},
                                 {"fiscal_year", nomination.value("fiscal_year", nlohmann::json())},
                                 {"previous_status", nomination["status"]}};
    Events().Publish(tx, {"nomination", "deleted", id, "nominations/" + id, data},
                     request.Header("traceparent"));
  });
  CheckpointAndTruncateWal(context.db_path);
  return http::Response::Empty(204);
}

}  // namespace jilaf::invitations
