#include "services/invitations/routes.hpp"

#include "services/invitations/readers.hpp"

namespace jilaf::invitations {

http::Router Routes(Context& context) {
  using auth::Access;
  using http::Method;
  http::Router router;
  auto bind = [&context](http::Response (*handler)(const http::Request&, Context&)) {
    return [&context, handler](http::Request& request) { return handler(request, context); };
  };
  router.Add(Method::kPost, "/v1/programmes", Access::kWrite, bind(CreateProgramme));
  // Short reads run on the io thread (no worker hand-off); everything else on the worker pool.
  constexpr auto kQuickRead = http::Router::Execution::kIoThread;
  router.Add(Method::kGet, "/v1/programmes", Access::kRead, bind(ListProgrammes), kQuickRead)
      .Tabular();
  router.Add(Method::kGet, "/v1/programmes/{id}", Access::kRead, bind(GetProgramme), kQuickRead);
  router.Add(Method::kPatch, "/v1/programmes/{id}", Access::kWrite, bind(UpdateProgramme));
  router.Add(Method::kPost, "/v1/programmes/{id}/transitions", Access::kWrite,
             bind(TransitionProgramme));
  router.Add(Method::kPost, "/v1/programmes/{id}/nominations", Access::kWrite,
             bind(CreateNomination));
  router
      .Add(Method::kGet, "/v1/programmes/{id}/nominations", Access::kRead, bind(ListNominations),
           kQuickRead)
      .Tabular();
  router.Add(Method::kGet, "/v1/nominations", Access::kRead, bind(SearchNominations)).Tabular();
  router.Add(Method::kPost, "/v1/programmes/{id}/itinerary", Access::kWrite,
             bind(CreateItineraryItem));
  router
      .Add(Method::kGet, "/v1/programmes/{id}/itinerary", Access::kRead, bind(ListItinerary),
           kQuickRead)
      .Tabular();
  router.Add(Method::kGet, "/v1/itinerary/{id}", Access::kRead, bind(GetItineraryItem), kQuickRead);
  router.Add(Method::kPatch, "/v1/itinerary/{id}", Access::kWrite, bind(CorrectItineraryItem));
  router.Add(Method::kGet, "/v1/nominations/{id}", Access::kRead, bind(GetNomination))
      .PersonalData();
  router.Add(Method::kDelete, "/v1/nominations/{id}", Access::kAdmin, bind(DeleteNomination));
  router.Add(Method::kPost, "/v1/people/{id}/erasure", Access::kAdmin, bind(ErasePerson));
  router.Add(Method::kPatch, "/v1/nominations/{id}", Access::kWrite, bind(CorrectNomination));
  router.Add(Method::kPost, "/v1/nominations/{id}/reversals", Access::kAdmin,
             bind(ReverseNomination));
  router.Add(Method::kPost, "/v1/nominations/{id}/transitions", Access::kWrite,
             bind(TransitionNominationHandler));
  // Travel details and visa letters are personal data: staff and admin only.
  router.Add(Method::kPut, "/v1/nominations/{id}/logistics", Access::kWrite, bind(PutLogistics));
  router.Add(Method::kGet, "/v1/nominations/{id}/logistics", Access::kWrite, bind(GetLogistics))
      .PersonalData();
  router
      .Add(Method::kGet, "/v1/nominations/{id}/documents/{kind}", Access::kWrite, bind(GetDocument))
      .PersonalData();
  // The one way staff get the full passport number: an explicit, audited write with a reason.
  router.Add(Method::kPost, "/v1/nominations/{id}/guarantor-letters", Access::kWrite,
             bind(IssueGuarantorLetter));
  router
      .Add(Method::kGet, "/v1/nominations/{id}/followups", Access::kRead, bind(ListFollowUps),
           kQuickRead)
      .Tabular();
  router.Add(Method::kPost, "/v1/followups/{id}/report", Access::kWrite,
             bind(SubmitFollowUpReport));
  router.Add(Method::kPost, "/v1/admin/followup-scans", Access::kAdmin, bind(RunFollowUpScan))
      .Expensive();
  router.Add(Method::kGet, "/v1/reports/fiscal-years/{fy}", Access::kRead, bind(FiscalYearReport))
      .Expensive();
  router.Add(Method::kPost, "/v1/admin/snapshots", Access::kAdmin, bind(PublishSnapshots))
      .Expensive();
  return router.Declare(Parameters());
}

}  // namespace jilaf::invitations
