#pragma once

#include <string_view>
#include <vector>

#include "common/http/message.hpp"
#include "common/store/store.hpp"

// The administration API: rules (rules.cpp), templates (templates.cpp), webhook endpoints
// (webhooks.cpp) and recipients' preferences (preferences.cpp).
namespace jilaf::notifications {

inline const std::vector<std::string_view> kChannels = {"email", "webhook", "inbox"};
inline const std::vector<std::string_view> kLocales = {"ja", "en"};

/// POST /v1/rules, GET /v1/rules, GET /v1/rules/{id}, PUT /v1/rules/{id} (If-Match).
http::Response CreateRule(const http::Request& request, store::Store& store);
http::Response ListRules(const http::Request& request, store::Store& store);
http::Response GetRule(const http::Request& request, store::Store& store);
http::Response UpdateRule(const http::Request& request, store::Store& store);

/// PUT /v1/templates/{event_type}/{channel}/{locale} (create, or update with If-Match); the
/// template is rendered against the sample event at save time and refused with 422 naming every
/// field the sample lacks. GET /v1/templates lists them; POST /v1/templates/preview renders one.
http::Response PutTemplate(const http::Request& request, store::Store& store);
http::Response ListTemplates(const http::Request& request, store::Store& store);
http::Response PreviewTemplate(const http::Request& request, store::Store& store);

/// POST /v1/webhooks registers an endpoint (its secret is shown once); GET /v1/webhooks.
http::Response CreateWebhook(const http::Request& request, store::Store& store);
http::Response ListWebhooks(const http::Request& request, store::Store& store);

/// GET/PUT /v1/preferences/{recipient}: opt-outs per category (and a preferred locale).
http::Response GetPreferences(const http::Request& request, store::Store& store);
http::Response PutPreferences(const http::Request& request, store::Store& store);

}  // namespace jilaf::notifications
