#include "common/http/api_docs.hpp"

#include "common/util/embedded.hpp"

JILAF_EMBEDDED(swagger_ui_bundle_js)
JILAF_EMBEDDED(swagger_ui_css)
JILAF_EMBEDDED(api_docs_html)
JILAF_EMBEDDED(api_docs_init_js)

namespace jilaf::http {
namespace {

// Replaces the page's {{TITLE}} with the service's name, HTML-escaped.
std::string RenderPage(const std::string& title) {
  std::string escaped;
  for (const char c : title) {
    switch (c) {
      case '&':
        escaped += "&amp;";
        break;
      case '<':
        escaped += "&lt;";
        break;
      case '>':
        escaped += "&gt;";
        break;
      case '"':
        escaped += "&quot;";
        break;
      default:
        escaped += c;
    }
  }
  std::string page(embedded::api_docs_html);
  constexpr std::string_view kSlot = "{{TITLE}}";
  if (const auto at = page.find(kSlot); at != std::string::npos) {
    page.replace(at, kSlot.size(), escaped);
  }
  return page;
}

Handler Serve(std::string_view body, std::string content_type, std::string cache_control) {
  return [body, content_type = std::move(content_type),
          cache_control = std::move(cache_control)](Request&) {
    Response response;
    response.body = std::string(body);
    response.SetHeader("Content-Type", content_type);
    response.SetHeader("Cache-Control", cache_control);
    response.SetHeader("X-Content-Type-Options", "nosniff");
    return response;
  };
}

}  // namespace

void AddApiDocs(Router& router, const std::string& title) {
  // The page is small and names no version: revalidate it. The assets change only with a build.
  router.Add(
      Method::kGet, "/docs", auth::Access::kPublic,
      [page = RenderPage(title)](Request&) {
        Response response;
        response.body = page;
        response.SetHeader("Content-Type", "text/html; charset=utf-8");
        response.SetHeader("Cache-Control", "no-cache");
        response.SetHeader("Content-Security-Policy", std::string(kApiDocsContentSecurityPolicy));
        response.SetHeader("X-Content-Type-Options", "nosniff");
        response.SetHeader("Referrer-Policy", "no-referrer");
        return response;
      },
      Router::Execution::kIoThread);
  router.Add(Method::kGet, "/docs/swagger-ui-bundle.js", auth::Access::kPublic,
             Serve(embedded::swagger_ui_bundle_js, "text/javascript; charset=utf-8",
                   "public, max-age=3600"),
             Router::Execution::kIoThread);
  router.Add(Method::kGet, "/docs/swagger-ui.css", auth::Access::kPublic,
             Serve(embedded::swagger_ui_css, "text/css; charset=utf-8", "public, max-age=3600"),
             Router::Execution::kIoThread);
  router.Add(Method::kGet, "/docs/init.js", auth::Access::kPublic,
             Serve(embedded::api_docs_init_js, "text/javascript; charset=utf-8", "no-cache"),
             Router::Execution::kIoThread);
}

}  // namespace jilaf::http
