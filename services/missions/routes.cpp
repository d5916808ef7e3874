#include "services/missions/routes.hpp"

#include "services/missions/contract.hpp"
#include "services/missions/records.hpp"

namespace jilaf::missions {

http::Router Routes(store::Store& store) {
  using auth::Access;
  using http::Method;
  http::Router router;
  auto bind = [&store](http::Response (*handler)(const http::Request&, store::Store&)) {
    return [&store, handler](http::Request& request) { return handler(request, store); };
  };
  using Shared = http::Response (*)(const http::Request&, store::Store&, const Aggregate&);
  auto of = [&store](const Aggregate& aggregate, Shared handler) {
    return [&store, &aggregate, handler](http::Request& request) {
      return handler(request, store, aggregate);
    };
  };
  router.Add(Method::kPost, "/v1/missions", Access::kWrite, of(Mission(), CreateRecord));
  router.Add(Method::kGet, "/v1/missions", Access::kRead, of(Mission(), ListRecords)).Tabular();
  router.Add(Method::kGet, "/v1/missions/{id}", Access::kRead, of(Mission(), GetRecord));
  router.Add(Method::kPatch, "/v1/missions/{id}", Access::kWrite, of(Mission(), UpdateRecord));
  router.Add(Method::kPost, "/v1/missions/{id}/meetings", Access::kWrite, bind(AddMeeting));
  router.Add(Method::kPost, "/v1/missions/{id}/transitions", Access::kWrite,
             of(Mission(), TransitionRecord));
  router.Add(Method::kPut, "/v1/missions/{id}/report", Access::kWrite, bind(PutReport));
  router.Add(Method::kPost, "/v1/missions/{id}/report/transitions", Access::kWrite,
             bind(TransitionReport));

  router.Add(Method::kPost, "/v1/education-programmes", Access::kWrite,
             of(Education(), CreateRecord));
  router.Add(Method::kGet, "/v1/education-programmes", Access::kRead, of(Education(), ListRecords))
      .Tabular();
  router.Add(Method::kGet, "/v1/education-programmes/{id}", Access::kRead,
             of(Education(), GetRecord));
  router.Add(Method::kPatch, "/v1/education-programmes/{id}", Access::kWrite,
             of(Education(), UpdateRecord));
  router.Add(Method::kPost, "/v1/education-programmes/{id}/participants", Access::kWrite,
             bind(EnrolParticipant));
  router.Add(Method::kPut, "/v1/education-programmes/{id}/sessions/{session_id}/attendance",
             Access::kWrite, bind(RecordAttendance));
  router.Add(Method::kPost, "/v1/education-programmes/{id}/transitions", Access::kWrite,
             of(Education(), TransitionRecord));
  router.Add(Method::kGet, "/v1/certificates/{code}", Access::kPublic, bind(VerifyCertificate));

  router.Add(Method::kPost, "/v1/seminars", Access::kWrite, of(Seminar(), CreateRecord));
  router.Add(Method::kGet, "/v1/seminars", Access::kRead, of(Seminar(), ListRecords)).Tabular();
  router.Add(Method::kGet, "/v1/seminars/{id}", Access::kRead, of(Seminar(), GetRecord));
  router.Add(Method::kPatch, "/v1/seminars/{id}", Access::kWrite, of(Seminar(), UpdateRecord));
  router.Add(Method::kPost, "/v1/seminars/{id}/transitions", Access::kWrite,
             of(Seminar(), TransitionRecord));
  router.Add(Method::kPost, "/v1/seminars/{id}/registrations", Access::kWrite,
             bind(RegisterForSeminar));
  router.Add(Method::kPost, "/v1/seminars/{id}/registrations/{registration_id}/cancel",
             Access::kWrite, bind(CancelSeminarRegistration));

  router.Add(Method::kGet, "/v1/alumni", Access::kRead, bind(ListAlumni)).Tabular();
  router.Add(Method::kGet, "/v1/alumni/{id}", Access::kRead, bind(GetAlumnus));
  router.Add(Method::kGet, "/v1/people", Access::kRead, bind(FindPeople)).Tabular();
  router.Add(Method::kGet, "/v1/people/{id}", Access::kRead, bind(GetPerson));
  router.Add(Method::kPost, "/v1/alumni/invitations", Access::kWrite, bind(InviteAlumni));

  router.Add(Method::kGet, "/v1/reports/fiscal-years/{fy}", Access::kRead, bind(FiscalYearReport))
      .Expensive();
  router.Add(Method::kPost, "/v1/admin/snapshots", Access::kAdmin, bind(PublishSnapshots))
      .Expensive();
  return router.Declare(Parameters());
}

}  // namespace jilaf::missions
