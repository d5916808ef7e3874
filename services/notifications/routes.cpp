#include "services/notifications/routes.hpp"

#include "services/notifications/contract.hpp"

namespace jilaf::notifications {

http::Router Routes(store::Store& store, DeliveryMetrics& metrics, const FeedOptions& feed,
                    const EgressPolicy& egress, const crypto::FieldCipher& cipher) {
  using auth::Access;
  using http::Method;
  http::Router router;
  auto bind = [&store](http::Response (*handler)(const http::Request&, store::Store&)) {
    return [&store, handler](http::Request& request) { return handler(request, store); };
  };
  router.Add(Method::kGet, "/v1/inbox", Access::kRead, bind(ListInbox)).Tabular();
  router.Add(Method::kPost, "/v1/inbox/{id}/read", Access::kRead, bind(MarkRead));
  router.Add(Method::kDelete, "/v1/inbox/{id}/read", Access::kRead, bind(MarkUnread));

  router.Add(Method::kPost, "/v1/rules", Access::kAdmin, bind(CreateRule));
  router.Add(Method::kGet, "/v1/rules", Access::kAdmin, bind(ListRules)).Tabular();
  router.Add(Method::kGet, "/v1/rules/{id}", Access::kAdmin, bind(GetRule));
  router.Add(Method::kPut, "/v1/rules/{id}", Access::kAdmin, bind(UpdateRule));

  router.Add(Method::kGet, "/v1/templates", Access::kAdmin, bind(ListTemplates)).Tabular();
  router.Add(Method::kPost, "/v1/templates/preview", Access::kAdmin, bind(PreviewTemplate));
  router.Add(Method::kPut, "/v1/templates/{event_type}/{channel}/{locale}", Access::kAdmin,
             bind(PutTemplate));

  router.Add(Method::kPost, "/v1/webhooks", Access::kAdmin,
             [&store, &egress, &cipher](http::Request& request) {
               return CreateWebhook(request, store, egress, cipher);
             });
  router.Add(Method::kGet, "/v1/webhooks", Access::kAdmin, bind(ListWebhooks)).Tabular();
  router.Add(Method::kGet, "/v1/webhooks/{id}", Access::kAdmin, bind(GetWebhook));

  router.Add(Method::kGet, "/v1/deliveries", Access::kRead, bind(ListDeliveries)).Tabular();
  router.Add(Method::kGet, "/v1/deliveries/{id}", Access::kRead, bind(GetDelivery));
  router.Add(Method::kPost, "/v1/deliveries/{id}/redrive", Access::kWrite,
             [&store, &metrics](http::Request& request) {
               return RedriveDelivery(request, store, metrics);
             });

  router.Add(Method::kGet, "/v1/preferences/{recipient}", Access::kWrite, bind(GetPreferences));
  router.Add(Method::kPut, "/v1/preferences/{recipient}", Access::kWrite, bind(PutPreferences));

  router.Add(Method::kGet, "/v1/feed.atom", Access::kPublic,
             [&store, &feed](http::Request& request) { return AtomFeed(request, store, feed); });
  router.Add(Method::kGet, "/v1/feed/{id}", Access::kPublic, bind(GetFeedItem));
  router
      .Add(Method::kPost, "/v1/periodicals", Access::kAdmin,
           [&store, &feed, &metrics](http::Request& request) {
             return CreatePeriodical(request, store, feed, metrics);
           })
      .Expensive();  // renders and sends a newsletter to every subscriber
  router.Add(Method::kGet, "/v1/periodicals", Access::kPublic, bind(ListPeriodicals)).Tabular();
  router.Add(Method::kGet, "/v1/periodicals/{id}", Access::kPublic, bind(GetPeriodical));
  router.Add(Method::kPost, "/v1/subscribers", Access::kWrite, bind(CreateSubscriber));
  router.Add(Method::kGet, "/v1/unsubscribe", Access::kPublic, bind(ConfirmUnsubscribe));
  router.Add(Method::kPost, "/v1/unsubscribe", Access::kPublic, bind(Unsubscribe));
  return router.Declare(Parameters());
}

}  // namespace jilaf::notifications
