#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/aggregate/sequences.hpp"
#include "common/http/message.hpp"
#include "common/http/router.hpp"
#include "common/store/sqlite.hpp"
#include "services/invitations/context.hpp"

namespace jilaf::invitations {

/// Every API route of the invitations service.
http::Router Routes(Context& context);

/// A transition body, `{"to", "reason"}` (`note` and `comment`: deprecated aliases of reason),
/// the reason at most 500 bytes, `to` described as the states `machine` moves to (programmes.cpp).
aggregate::TransitionInput ReadMove(const nlohmann::json& body,
                                    const domain::StateMachine& machine);

// programmes.cpp

/// POST /v1/programmes: creates a programme (status draft, or open if asked) and emits
/// jilaf.invitations.programme.created.
http::Response CreateProgramme(const http::Request& request, Context& context);
/// GET /v1/programmes: filters fiscal_year, track, status; cursor pagination.
http::Response ListProgrammes(const http::Request& request, Context& context);
/// GET /v1/programmes/{id}, with its ETag.
http::Response GetProgramme(const http::Request& request, Context& context);
/// PATCH /v1/programmes/{id} with If-Match: title, region, theme, dates, seats, quotas, hosts;
/// never below the seats already taken (409); emits jilaf.invitations.programme.updated.
http::Response UpdateProgramme(const http::Request& request, Context& context);
/// POST /v1/programmes/{id}/transitions {"to", "reason"} with If-Match; emits
/// jilaf.invitations.programme.<to>.
http::Response TransitionProgramme(const http::Request& request, Context& context);

// nominations.cpp

/// POST /v1/programmes/{id}/nominations: accepted only while the programme is open; rejects the
/// same person in the same fiscal year (409), flags one from an earlier year; encrypts the
/// passport number and birth date; emits jilaf.invitations.nomination.submitted.
http::Response CreateNomination(const http::Request& request, Context& context);
/// POST /v1/people/{id}/erasure (admin): the person's nominations anonymised, their personal
/// data, logistics, follow-ups and stored replies deleted, a tombstone on the people topic.
http::Response ErasePerson(const http::Request& request, Context& context);
/// 409 `participants-pending` naming each seated participant of `programme` who has not arrived
/// (BlocksProgrammeCompletion): checked before a programme completes.
void CheckProgrammeCanComplete(store::Db& tx, const nlohmann::json& programme);
/// Moves the programme's nominations along with it (CarriedStatus) in the caller's transaction,
/// each with its event (`carried_by_programme`) and, when completed, its follow-ups. Returns the
/// ids moved.
std::vector<std::string> CarryNominations(aggregate::Change& change,
                                          const nlohmann::json& programme, const std::string& by);
/// GET /v1/nominations/{id}, with its ETag, as the caller's role may see it.
http::Response GetNomination(const http::Request& request, Context& context);
/// GET /v1/programmes/{id}/nominations: `q` (aggregate/search.hpp) and filters status,
/// nationality, fiscal_year; paged; JSON or CSV.
http::Response ListNominations(const http::Request& request, Context& context);
/// GET /v1/nominations: the same across every programme and year, plus a programme_id filter.
http::Response SearchNominations(const http::Request& request, Context& context);
/// POST /v1/nominations/{id}/transitions {"to", "reason"} with If-Match: the rules of BeginMove
/// and FinishMove; answers the nomination and the ids promoted from the waitlist.
http::Response TransitionNominationHandler(const http::Request& request, Context& context);
/// POST /v1/nominations/{id}/reversals {"reason"} (admin, If-Match): undoes a staff mistake
/// (ReversalTarget), seats and quotas permitting; emits jilaf.invitations.nomination.<state> with
/// `reversal: true`, and the history entry says so.
http::Response ReverseNomination(const http::Request& request, Context& context);
/// PATCH /v1/nominations/{id} (If-Match, JSON merge patch of candidate and
/// nominating_organisation) until the nomination is completed: validated as on create,
/// duplicates checked again, personal fields re-encrypted; emits
/// jilaf.invitations.nomination.updated naming the changed fields, never personal values
/// (corrections.cpp).
http::Response CorrectNomination(const http::Request& request, Context& context);
/// DELETE /v1/nominations/{id} (admin, no If-Match): erases the nomination and its personal data
/// from the database file (secure_delete, then a WAL checkpoint); 409 while it holds a seat.
http::Response DeleteNomination(const http::Request& request, Context& context);

// logistics.cpp

/// POST /v1/programmes/{id}/itinerary: one visit (starts_at, ends_at, organisation, city, topic,
/// interpreter_needed); emits jilaf.invitations.itinerary_item.created.
http::Response CreateItineraryItem(const http::Request& request, Context& context);
/// PATCH /v1/itinerary/{id} (If-Match, JSON merge patch of the visit): read again as on create
/// (ends_at not before starts_at), not in a cancelled or completed programme; emits
/// jilaf.invitations.itinerary_item.updated with `changed`.
http::Response CorrectItineraryItem(const http::Request& request, Context& context);
/// GET /v1/itinerary/{id}, with its ETag.
http::Response GetItineraryItem(const http::Request& request, Context& context);
/// GET /v1/programmes/{id}/itinerary: the programme's visits in time order.
http::Response ListItinerary(const http::Request& request, Context& context);
/// PUT /v1/nominations/{id}/logistics: arrival and departure flights, hotel and dates of one
/// participant holding a seat; If-Match once it exists; emits
/// jilaf.invitations.nomination.logistics_updated.
http::Response PutLogistics(const http::Request& request, Context& context);
/// GET /v1/nominations/{id}/logistics (staff and admin: travel details are personal).
http::Response GetLogistics(const http::Request& request, Context& context);

// documents.cpp

/// GET /v1/nominations/{id}/documents/{kind}?lang=en|ja, kind `invitation-letter` or
/// `guarantor-letter`: the letters a Japanese visa application needs, as print-ready HTML
/// (A4, `@page` rules) generated from the record. Staff and admin only; the passport number is
/// masked except for admin, as in every response.
http::Response GetDocument(const http::Request& request, Context& context);

/// POST /v1/nominations/{id}/guarantor-letters {"reason" (10 to 500 bytes), "lang"?}: staff
/// or admin; the guarantor letter with the full passport number (409 when none is on record),
/// each issue appended to the nomination's `passport_disclosures` (at, by, reason) and, being a
/// write, recorded in the audit log in the same transaction. `Cache-Control: no-store`.
http::Response IssueGuarantorLetter(const http::Request& request, Context& context);

// followups.cpp

/// GET /v1/nominations/{id}/followups: the 3-, 6- and 12-month follow-ups of a completed
/// participant.
http::Response ListFollowUps(const http::Request& request, Context& context);
/// POST /v1/followups/{id}/report {"summary", "activities"}: submits the report (409 if already
/// submitted); emits jilaf.invitations.followup.submitted.
http::Response SubmitFollowUpReport(const http::Request& request, Context& context);
/// POST /v1/admin/followup-scans {"as_of": "YYYY-MM-DD"} (admin): runs the overdue scan as of
/// a date, for operators and deterministic tests.
http::Response RunFollowUpScan(const http::Request& request, Context& context);
/// Marks every follow-up due before `today` (YYYY-MM-DD) and not yet reported as overdue and
/// emits one jilaf.invitations.followup.overdue per follow-up, once ever. Returns how many.
std::int64_t ScanOverdueFollowUps(store::Db& tx, const std::string& today);

// reports.cpp

/// GET /v1/reports/fiscal-years/{fy}: nominated, selected, completed, by country, region, track,
/// gender and programme, with completion rates.
http::Response FiscalYearReport(const http::Request& request, Context& context);
/// POST /v1/admin/snapshots: a programme.snapshot and a nomination.snapshot event for every
/// current programme and nomination, through the outbox; 202 with the counts.
http::Response PublishSnapshots(const http::Request& request, Context& context);

}  // namespace jilaf::invitations
