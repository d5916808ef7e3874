#pragma once

#include "common/crypto/field_cipher.hpp"
#include "common/http/message.hpp"
#include "common/http/router.hpp"
#include "common/store/store.hpp"
#include "services/notifications/deliveries.hpp"
#include "services/notifications/egress.hpp"
#include "services/notifications/feed.hpp"

// The request handlers of the notifications service (their routes are in routes.cpp).
namespace jilaf::notifications {

/// Every API route of the notifications service.
http::Router Routes(store::Store& store, DeliveryMetrics& metrics, const FeedOptions& feed,
                    const EgressPolicy& egress, const crypto::FieldCipher& cipher);

/// The caller's inbox (addressed to the user or to one of their roles), newest first; `?unread=
/// true` keeps the unread ones. Each item carries `read` for the caller. MarkRead and MarkUnread
/// answer 404 for an item the caller may not see.
http::Response ListInbox(const http::Request& request, store::Store& store);
http::Response MarkRead(const http::Request& request, store::Store& store);
http::Response MarkUnread(const http::Request& request, store::Store& store);

/// Routing rules (rules.cpp); PUT replaces every client-set member, with If-Match.
http::Response CreateRule(const http::Request& request, store::Store& store);
http::Response ListRules(const http::Request& request, store::Store& store);
http::Response GetRule(const http::Request& request, store::Store& store);
http::Response UpdateRule(const http::Request& request, store::Store& store);

/// Templates (templates.cpp): a PUT creates, or updates with If-Match; the template is rendered
/// against the sample event at save time and refused with 422 naming every field the sample
/// lacks. A preview renders the body's texts, else a stored template's.
http::Response PutTemplate(const http::Request& request, store::Store& store);
http::Response ListTemplates(const http::Request& request, store::Store& store);
http::Response PreviewTemplate(const http::Request& request, store::Store& store);

/// Webhook endpoints (rules.cpp); the secret is shown at registration (and to a replay of it with
/// the same Idempotency-Key, read from its sealed row: the recorded response leaves it out). A URL
/// that `egress` refuses (ResolveWebhookUrl: not https, an internal address, a name resolving to
/// one) is 422 naming `url`.
http::Response CreateWebhook(const http::Request& request, store::Store& store,
                             const EgressPolicy& egress, const crypto::FieldCipher& cipher);
http::Response ListWebhooks(const http::Request& request, store::Store& store);
http::Response GetWebhook(const http::Request& request, store::Store& store);

/// A recipient's opt-outs per category and preferred locale (templates.cpp); PUT creates, or
/// updates with If-Match. Only the recipient themself (their user id) or an admin: 403 otherwise.
http::Response GetPreferences(const http::Request& request, store::Store& store);
http::Response PutPreferences(const http::Request& request, store::Store& store);

/// Deliveries (deliveries.cpp); a re-drive moves a dead delivery back to pending with a fresh
/// attempt budget.
http::Response ListDeliveries(const http::Request& request, store::Store& store);
http::Response GetDelivery(const http::Request& request, store::Store& store);
http::Response RedriveDelivery(const http::Request& request, store::Store& store,
                               DeliveryMetrics& metrics);

/// Atom 1.0 of the newest public items (`?lang=en|ja`); entry ids are tag URIs derived from the
/// aggregate, so they never change across replays or rebuilds.
http::Response AtomFeed(const http::Request& request, store::Store& store,
                        const FeedOptions& options);
/// One public feed item (`kind:aggregate id`): what an entry links to without a portal.
http::Response GetFeedItem(const http::Request& request, store::Store& store);
/// Issues a periodical now (409 when nothing is new); the archive, newest first; one issue.
http::Response CreatePeriodical(const http::Request& request, store::Store& store,
                                const FeedOptions& options, DeliveryMetrics& metrics);
http::Response ListPeriodicals(const http::Request& request, store::Store& store);
http::Response GetPeriodical(const http::Request& request, store::Store& store);

/// Records a newsletter subscriber with their opt-in consent (subscribers.cpp). Every periodical
/// mail carries the unsubscribe link: GET answers a confirmation page and changes nothing (404 for
/// an unknown token); POST unsubscribes (RFC 8058 one-click, or the page's form).
http::Response CreateSubscriber(const http::Request& request, store::Store& store);
http::Response ConfirmUnsubscribe(const http::Request& request, store::Store& store);
http::Response Unsubscribe(const http::Request& request, store::Store& store);

}  // namespace jilaf::notifications
