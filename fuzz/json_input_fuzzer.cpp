// Request validation: ParseJsonBody (content type, size and depth limits, syntax) and an
// ObjectReader with a representative schema, the invitations nomination's (nested objects,
// strings with bounds, enums, dates, countries, emails, arrays of strings and objects). Every
// rejection must be a 400/413/422 problem whose body is JSON, a 422 naming its fields.
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"

namespace {

using namespace jilaf;

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

nlohmann::json ReadNomination(const nlohmann::json& body) {
  http::ObjectReader in(body);
  nlohmann::json doc;
  if (auto candidate = in.Object("candidate", true)) {
    nlohmann::json c;
    c["family_name"] = candidate->RequiredString("family_name", 1, 100);
    c["given_name"] = candidate->RequiredString("given_name", 1, 100);
    if (auto native = candidate->OptionalString("native_name", 200)) c["native_name"] = *native;
    if (auto gender =
            candidate->OptionalEnum("gender", {"female", "male", "other", "undisclosed"})) {
      c["gender"] = *gender;
    }
    c["nationality"] = candidate->RequiredCountry("nationality");
    c["email"] = candidate->RequiredEmail("email");
    c["languages"] = candidate->StringArray("languages", false, 20, 50);
    if (auto birth = candidate->OptionalDate("date_of_birth")) c["has_birth"] = true;
    if (auto passport = candidate->OptionalString("passport_number", 20)) {
      if (passport->size() < 5) candidate->AddError("passport_number", "too short");
    }
    candidate->RejectUnknownFields();
    doc["candidate"] = std::move(c);
  }
  if (auto org = in.Object("nominating_organisation", true)) {
    doc["organisation"] = {{"name", org->RequiredString("name", 1, 200)},
                           {"country", org->RequiredCountry("country")}};
    if (auto email = org->OptionalEmail("contact_email")) doc["contact"] = *email;
    org->RejectUnknownFields();
  }
  doc["seats"] = in.OptionalInt("seats", 0, 1000).value_or(0);
  if (auto flag = in.OptionalBool("urgent")) doc["urgent"] = *flag;
  if (in.Raw("note") != nullptr) doc["note"] = true;
  for (auto& quota : in.ObjectArray("quotas", false, 50)) {
    quota.RequiredCountry("country");
    quota.RequiredInt("seats", 1, 100);
    quota.RejectUnknownFields();
  }
  in.Finish();
  return doc;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  return std::freopen("/dev/null", "w", stdout) == nullptr ? 1 : 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  http::Request request;
  request.method = http::Method::kPost;
  request.path = "/v1/programmes/p/nominations";
  request.headers.emplace_back("content-type", "application/json");
  request.body.assign(reinterpret_cast<const char*>(data), size);
  try {
    const auto doc = ReadNomination(http::ParseJsonBody(request));
    Require(doc.contains("candidate") && doc.contains("organisation"), "accepted means complete");
  } catch (const http::ApiError& error) {
    Require(error.status() == 400 || error.status() == 413 || error.status() == 422,
            "validation answers 400, 413 or 422");
    const auto response = http::ProblemResponse(error, request.path, "fuzz");
    const auto body = nlohmann::json::parse(response.body, nullptr, false);
    Require(!body.is_discarded(), "problem body is JSON");
    if (error.status() == 422) {
      Require(body.contains("errors") && !body["errors"].empty(), "422 names its fields");
    }
  }
  return 0;
}
