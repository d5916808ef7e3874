#pragma once

#include <string>

#include "common/http/router.hpp"

namespace jilaf::http {

/// The Content-Security-Policy of the /docs page: everything from the service itself, no inline
/// script, no framing (docs/api.md, "API reference pages").
inline constexpr std::string_view kApiDocsContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'";

/// Adds the service's API reference, public: GET /docs (a page that renders the service's own
/// /openapi.json with Swagger UI) and the files it loads from /docs/ (Swagger UI's script and
/// style sheet, compiled in from npm swagger-ui-dist, and a start-up script). `title` names the
/// service on the page.
void AddApiDocs(Router& router, const std::string& title);

}  // namespace jilaf::http
