#pragma once

#include "common/aggregate/doc_table.hpp"
#include "common/events/consumer.hpp"
#include "common/http/message.hpp"
#include "common/http/router.hpp"
#include "common/store/store.hpp"

namespace jilaf::missions {

/// Every API route of the missions service. Creating, listing, reading and moving a mission, an
/// education programme or a seminar are the aggregates' shared handlers (records.hpp); the
/// handlers of everything else follow.
http::Router Routes(store::Store& store);

// Research missions (research_missions.cpp).

/// POST /v1/missions/{id}/meetings: adds a meeting to the itinerary (If-Match).
http::Response AddMeeting(const http::Request& request, store::Store& store);
/// PUT /v1/missions/{id}/report: writes the bilingual findings report while it is a draft.
http::Response PutReport(const http::Request& request, store::Store& store);
/// POST /v1/missions/{id}/report/transitions: draft → in_review → published (If-Match).
http::Response TransitionReport(const http::Request& request, store::Store& store);

// Education programmes (education.cpp).

/// POST /v1/education-programmes/{id}/participants: enrols a participant (linked to the alumni
/// directory when the person is an alumnus).
http::Response EnrolParticipant(const http::Request& request, store::Store& store);
/// PUT /v1/education-programmes/{id}/sessions/{session_id}/attendance: who was present (If-Match).
http::Response RecordAttendance(const http::Request& request, store::Store& store);
/// GET /v1/certificates/{code}: public verification; only name, programme and date.
http::Response VerifyCertificate(const http::Request& request, store::Store& store);

// Seminars (seminars.cpp).

/// POST /v1/seminars/{id}/registrations: registered while seats remain, else waitlisted; an
/// alumnus's registration is linked to their invitation history.
http::Response RegisterForSeminar(const http::Request& request, store::Store& store);
/// POST /v1/seminars/{id}/registrations/{registration_id}/cancel: frees the seat, which the
/// earliest waitlisted registration takes at once.
http::Response CancelSeminarRegistration(const http::Request& request, store::Store& store);

// The alumni directory (alumni.cpp).

/// The alumni projection: applies one jilaf.invitations.events event. A
/// `jilaf.invitations.nomination.completed` event adds the participant to the directory (once
/// per nomination, so a replay changes nothing); other types are ignored. Throws
/// std::invalid_argument when a completed event lacks what the directory needs, so the consumer
/// retries and then dead-letters it.
void ApplyInvitationEvent(store::Db& tx, const events::CloudEvent& event,
                          const events::MessageOrigin& origin);
// The person read model (people.cpp).

/// The people table: one document per person id, `{family_name, given_name, nationality,
/// history: [...]}`.
const aggregate::DocTable& PeopleTable();
/// The person projection: applies one event of jilaf.invitations.events or
/// jilaf.missions.events that carries a `person_id`: the names from the latest nomination event,
/// and one history item (when, which service, what, the record's link, its facts) in time order.
/// Events without a person id are ignored.
void ApplyPersonEvent(store::Db& tx, const events::CloudEvent& event,
                      const events::MessageOrigin& origin);
/// The copy of invitations' people topic (erasure.cpp): a person's record updates the names in
/// the person read model and the alumni directory; their tombstone anonymises their alumni
/// rows, seminar registrations and programme participations and deletes their person document.
void ApplyPeopleRecord(store::Db& tx, const events::CloudEvent& event,
                       const events::MessageOrigin& origin);
/// What missions deletes of an erased person (`record`: their last record, or null).
void ErasePerson(store::Db& tx, const std::string& person_id, const nlohmann::json& record);
/// GET /v1/people/{id}: the person and their history.
http::Response GetPerson(const http::Request& request, store::Store& store);
/// GET /v1/people: `q` over names, `nationality`; paged; JSON or CSV.
http::Response FindPeople(const http::Request& request, store::Store& store);

/// GET /v1/alumni: filters country, fiscal_year, programme_id; cursor pagination.
http::Response ListAlumni(const http::Request& request, store::Store& store);
/// GET /v1/alumni/{id}: the alumnus with their history (invitations and registrations).
http::Response GetAlumnus(const http::Request& request, store::Store& store);
/// POST /v1/alumni/invitations: invites every alumnus matching a filter (or listed by id) to a
/// seminar or an education programme, in one call; emits jilaf.missions.alumnus.invited each.
http::Response InviteAlumni(const http::Request& request, store::Store& store);

// Reports and snapshots (reports.cpp, records.cpp).

/// GET /v1/reports/fiscal-years/{fy}: missions by country, seminars and courses held,
/// participants, completions and certificates, and alumni participation in that fiscal year.
http::Response FiscalYearReport(const http::Request& request, store::Store& store);
/// POST /v1/admin/snapshots: a snapshot event for every mission, seminar, education programme and
/// alumnus through the outbox (registrations, participants and alumni engagements inside their
/// aggregate's snapshot); 202 with the counts.
http::Response PublishSnapshots(const http::Request& request, store::Store& store);

}  // namespace jilaf::missions
