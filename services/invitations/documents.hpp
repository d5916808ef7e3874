#pragma once

#include "common/http/message.hpp"
#include "services/invitations/context.hpp"

namespace jilaf::invitations {

/// GET /v1/nominations/{id}/documents/{kind}?lang=en|ja, kind `invitation-letter` or
/// `guarantor-letter`: the letters a Japanese visa application needs, as print-ready HTML
/// (A4, `@page` rules) generated from the record. Staff and admin only; the passport number is
/// masked except for admin, as in every response.
http::Response GetDocument(const http::Request& request, Context& context);

/// Renders a letter; pure, for tests. `kind` and `lang` must be valid.
std::string RenderLetter(const std::string& kind, const std::string& lang,
                         const nlohmann::json& programme, const nlohmann::json& nomination,
                         const std::string& issued_on);

}  // namespace jilaf::invitations
