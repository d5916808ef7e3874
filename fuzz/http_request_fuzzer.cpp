// Raw bytes → what the API server does with them: Beast's parser with the server's limits, the
// conversion to the project's Request, then the pipeline (request id, routing, bearer token
// verification, access check, CORS preflights and headers, problem+json errors, access log) over a
// representative router.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>

#include "common/auth/jwt.hpp"
#include "common/http/cors.hpp"
#include "common/http/pipeline.hpp"
#include "common/http/request_parse.hpp"
#include "common/metrics/metrics.hpp"

namespace {

using namespace jilaf;

std::unique_ptr<metrics::Metrics> metrics_registry;
std::unique_ptr<http::Pipeline> pipeline;
constexpr std::string_view kAllowedOrigin = "https://portal.example.org";

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

http::Router RepresentativeRoutes() {
  using auth::Access;
  using http::Method;
  http::Router router;
  auto echo = [](http::Request& request) {
    // Touches everything a handler reads: params, query, headers, principal.
    nlohmann::json body = {{"route", request.route}, {"sub", request.principal.subject}};
    for (const auto& [key, value] : request.params) body["params"][key] = value;
    for (const auto& [key, value] : request.query) body["query"][key] = value;
    (void)request.Header("if-match");
    return http::Response::Json(200, body);
  };
  router.Add(Method::kGet, "/healthz", Access::kPublic, echo);
  router.Add(Method::kGet, "/v1/programmes", Access::kRead, echo);
  router.Add(Method::kPost, "/v1/programmes", Access::kWrite, echo);
  router.Add(Method::kGet, "/v1/programmes/{id}", Access::kRead, echo);
  router.Add(Method::kPatch, "/v1/programmes/{id}", Access::kWrite, echo);
  router.Add(Method::kPost, "/v1/programmes/{id}/nominations", Access::kWrite, echo);
  router.Add(Method::kDelete, "/v1/nominations/{id}", Access::kAdmin, echo);
  router.Add(Method::kPost, "/v1/unsubscribe", Access::kPublic, echo);
  router.Add(Method::kGet, "/v1/service/{a}/{b}", Access::kService, echo);
  return router;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // The access log would flood the terminal; libFuzzer reports on stderr.
  if (std::freopen("/dev/null", "w", stdout) == nullptr) return 1;
  metrics_registry = std::make_unique<metrics::Metrics>();
  // A fixed test key (fuzz/keys/): the seed corpus holds tokens it signed, so verification
  // itself is reached, not only its early rejections.
  auto verifier = std::make_shared<const auth::JwtVerifier>(auth::JwtVerifier::FromPem(
      ReadFile(std::string(JILAF_SOURCE_DIR) + "/fuzz/keys/jwt-public.pem"), "jilaf-dev",
      "jilaf-backoffice"));
  pipeline = std::make_unique<http::Pipeline>(RepresentativeRoutes(), std::move(verifier),
                                              metrics_registry.get(), "fuzz");
  pipeline->SetCors(std::make_shared<const http::CorsPolicy>(
      http::CorsOptions{{std::string(kAllowedOrigin)}, 600}));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // Keep-alive: one connection's bytes may hold several requests.
  for (int i = 0; i < 4 && !bytes.empty(); ++i) {
    auto parsed = http::ParseRequestBytes(bytes, 4096, 16 * 1024);
    Require(parsed.consumed <= bytes.size(), "consumed more than the input");
    if (parsed.error) {
      const auto response = http::ProblemResponse(*parsed.error, "", "fuzz");
      Require(response.status >= 400 && response.status < 500, "parse errors are 4xx");
      Require(!nlohmann::json::parse(response.body, nullptr, false).is_discarded(),
              "problem body is JSON");
      break;
    }
    if (!parsed.request) break;
    auto response = pipeline->Handle(*parsed.request);
    Require(response.status >= 200 && response.status < 600, "status in range");
    Require(response.status != 500, "no request makes the pipeline fail");
    Require(!response.Header("X-Request-Id").empty(), "request id echoed");
    Require((response.status == 204 && response.body.empty()) ||
                !nlohmann::json::parse(response.body, nullptr, false).is_discarded(),
            "response body is JSON");
    // CORS: only the allowed origin is ever named, and only when the request sent exactly it.
    const auto allow_origin = response.Header("Access-Control-Allow-Origin");
    Require(allow_origin.empty() || (allow_origin == kAllowedOrigin &&
                                     parsed.request->Header("origin") == kAllowedOrigin),
            "Access-Control-Allow-Origin names only the allowed origin, when it was sent");
    Require(response.Header("Access-Control-Allow-Credentials").empty(), "never credentials");
    if (parsed.consumed == 0) break;
    bytes.remove_prefix(parsed.consumed);
  }
  return 0;
}
