#include "services/missions/routes.hpp"

namespace jilaf::missions {

http::Router Routes(store::Store& store) {
  using auth::Access;
  using http::Method;
  http::Router router;
  auto bind = [&store](http::Response (*handler)(const http::Request&, store::Store&)) {
    return [&store, handler](http::Request& request) { return handler(request, store); };
  };
  router.Add(Method::kPost, "/v1/missions", Access::kWrite, bind(CreateMission));
  router.Add(Method::kGet, "/v1/missions", Access::kRead, bind(ListMissions));
  router.Add(Method::kGet, "/v1/missions/{id}", Access::kRead, bind(GetMission));
  router.Add(Method::kPost, "/v1/missions/{id}/meetings", Access::kWrite, bind(AddMeeting));
  router.Add(Method::kPost, "/v1/missions/{id}/transitions", Access::kWrite,
             bind(TransitionMission));
  router.Add(Method::kPut, "/v1/missions/{id}/report", Access::kWrite, bind(PutReport));
  router.Add(Method::kPost, "/v1/missions/{id}/report/transitions", Access::kWrite,
             bind(TransitionReport));

  router.Add(Method::kPost, "/v1/education-programmes", Access::kWrite,
             bind(CreateEducationProgramme));
  router.Add(Method::kGet, "/v1/education-programmes", Access::kRead,
             bind(ListEducationProgrammes));
  router.Add(Method::kGet, "/v1/education-programmes/{id}", Access::kRead,
             bind(GetEducationProgramme));
  router.Add(Method::kPost, "/v1/education-programmes/{id}/participants", Access::kWrite,
             bind(EnrolParticipant));
  router.Add(Method::kPut, "/v1/education-programmes/{id}/sessions/{session_id}/attendance",
             Access::kWrite, bind(RecordAttendance));
  router.Add(Method::kPost, "/v1/education-programmes/{id}/transitions", Access::kWrite,
             bind(TransitionEducationProgramme));
  router.Add(Method::kGet, "/v1/certificates/{code}", Access::kPublic, bind(VerifyCertificate));

  router.Add(Method::kPost, "/v1/seminars", Access::kWrite, bind(CreateSeminar));
  router.Add(Method::kGet, "/v1/seminars", Access::kRead, bind(ListSeminars));
  router.Add(Method::kGet, "/v1/seminars/{id}", Access::kRead, bind(GetSeminar));
  router.Add(Method::kPost, "/v1/seminars/{id}/transitions", Access::kWrite,
             bind(TransitionSeminar));
  router.Add(Method::kPost, "/v1/seminars/{id}/registrations", Access::kWrite,
             bind(RegisterForSeminar));
  router.Add(Method::kPost, "/v1/seminars/{id}/registrations/{registration_id}/cancel",
             Access::kWrite, bind(CancelSeminarRegistration));

  router.Add(Method::kGet, "/v1/alumni", Access::kRead, bind(ListAlumni));
  router.Add(Method::kGet, "/v1/alumni/{id}", Access::kRead, bind(GetAlumnus));
  router.Add(Method::kPost, "/v1/alumni/invitations", Access::kWrite, bind(InviteAlumni));

  router.Add(Method::kGet, "/v1/reports/fiscal-years/{fy}", Access::kRead, bind(FiscalYearReport))
      .Expensive();
  router.Add(Method::kPost, "/v1/admin/snapshots", Access::kAdmin, bind(PublishSnapshots))
      .Expensive();
  return router;
}

}  // namespace jilaf::missions
