// The authorisation matrix (issue 9, part 6): every route of every service, called by every role
// and without a token, through the real pipeline (JWT verification, routing, access check) and
// the real handlers on a real store. Generated from each service's route table, so a route added
// tomorrow is called tomorrow; the test fails if a call does not reach the route it was built for.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <set>

#include "common/auth/jwt.hpp"
#include "common/events/consumer.hpp"
#include "common/events/outbox.hpp"
#include "common/http/idempotency.hpp"
#include "common/http/pipeline.hpp"
#include "services/invitations/context.hpp"
#include "services/invitations/routes.hpp"
#include "services/invitations/schema.hpp"
#include "services/missions/routes.hpp"
#include "services/missions/schema.hpp"
#include "services/notifications/deliveries.hpp"
#include "services/notifications/feed.hpp"
#include "services/notifications/routes.hpp"
#include "services/notifications/schema.hpp"
#include "services/projects/routes.hpp"
#include "services/projects/tables.hpp"
#include "tests/support/keys.hpp"
#include "tests/support/process.hpp"

namespace jilaf {
namespace {

constexpr const char* kIssuer = "jilaf-matrix";
constexpr const char* kAudience = "jilaf-backoffice";

// The callers: no token, then one token per role.
const std::vector<std::string> kCallers = {"", "viewer", "staff", "admin", "service"};

// Who may call each access level, written out here rather than taken from Principal::Allows, so
// that a change to either side shows up as a failure.
bool Allowed(auth::Access access, const std::string& caller) {
  switch (access) {
    case auth::Access::kPublic:
      return true;
    case auth::Access::kRead:
      return !caller.empty();
    case auth::Access::kWrite:
      return caller == "staff" || caller == "admin";
    case auth::Access::kAdmin:
      return caller == "admin";
    case auth::Access::kService:
      return caller == "service" || caller == "admin";
  }
  return false;
}

const char* AccessName(auth::Access access) {
  switch (access) {
    case auth::Access::kPublic:
      return "public";
    case auth::Access::kRead:
      return "read";
    case auth::Access::kWrite:
      return "write";
    case auth::Access::kAdmin:
      return "admin";
    case auth::Access::kService:
      return "service";
  }
  return "?";
}

// Routes that change state but are deliberately open to readers or the public; any other
// non-GET route must demand write, admin or service access. Adding to this list is a decision
// to review.
const std::set<std::string> kStateChangesOpenToReaders = {
    "notifications POST /v1/inbox/{id}/read",    // a reader marks their own inbox items
    "notifications DELETE /v1/inbox/{id}/read",  //
    "notifications GET /v1/unsubscribe",         // the link in every newsletter
    "notifications POST /v1/unsubscribe",        // RFC 8058 one-click unsubscribe
};

// GETs of a path that does not end in a capture which are not lists (no items, no CSV).
const std::set<std::string> kNotLists = {
    "notifications /v1/feed.atom",                 // an Atom document
    "notifications /v1/unsubscribe",               // the newsletter link's page
    "invitations /v1/nominations/{id}/logistics",  // one document per nomination
};

// Routes whose handler narrows the route's access to the caller's own resource: besides the
// route's roles, only an admin may act on someone else's (the matrix's sample is nobody's own).
const std::set<std::string> kOwnResourceOrAdmin = {
    "notifications GET /v1/preferences/{recipient}",  // issue 19: preferences of others, admins
    "notifications PUT /v1/preferences/{recipient}",
};

// A plausible value for a path capture: shaped right where a handler parses it, so the call gets
// past parsing to the store (and its 404) where it can.
std::string SampleFor(const std::string& capture) {
  if (capture == "{fy}") return "2026";
  if (capture == "{channel}") return "email";
  if (capture == "{locale}") return "en";
  if (capture == "{event_type}") return "jilaf.invitations.programme.opened";
  if (capture == "{kind}") return "invitation-letter";
  if (capture == "{recipient}") return "matrix@example.org";
  return "matrix-" + capture.substr(1, capture.size() - 2);
}

std::string PathFor(const http::Router::Route& route) {
  std::string path;
  for (const auto& segment : route.segments) {
    path += '/';
    path += segment.size() > 2 && segment.front() == '{' ? SampleFor(segment) : segment;
  }
  return path;
}

class AuthorisationMatrix : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    keys_ = new testing::KeyPair(testing::GenerateRsaKeyPair());
    verifier_ = new std::shared_ptr<const auth::JwtVerifier>(std::make_shared<auth::JwtVerifier>(
        auth::JwtVerifier::FromPem(keys_->public_pem, kIssuer, kAudience)));
  }
  static void TearDownTestSuite() {
    delete verifier_;
    delete keys_;
  }

  void SetUp() override { dir_ = testing::MakeTempDir("jilaf-authz"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<store::Store> OpenStore(const std::string& name, store::MigrationSet own) {
    return std::make_unique<store::Store>(
        store::StoreOptions{dir_ + "/" + name + ".db"},
        std::vector<store::MigrationSet>{events::OutboxMigrations(), events::InboxMigrations(),
                                         http::IdempotencyMigrations(), std::move(own)});
  }

  std::string Token(const std::string& role) {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    return auth::SignJwt(keys_->private_pem, {{"iss", kIssuer},
                                              {"aud", kAudience},
                                              {"sub", "matrix-" + role},
                                              {"exp", now + 600},
                                              {"roles", {role}}});
  }

  // Calls every route of `router` as every caller; returns how many calls were made.
  int Exercise(const std::string& service, http::Router router) {
    const auto routes = router.routes();  // copied: the pipeline takes the router
    metrics::Metrics metrics;
    http::Pipeline pipeline(std::move(router), *verifier_, &metrics, "matrix");
    std::map<std::string, std::string> tokens;
    for (const auto& caller : kCallers) {
      if (!caller.empty()) tokens[caller] = Token(caller);
    }
    std::set<std::string> exercised;
    std::map<int, int> statuses;
    int calls = 0;
    for (const auto& route : routes) {
      const std::string method(http::MethodName(route.method));
      const std::string name = service + " " + method + " " + route.pattern;
      const bool changes_state =
          route.method != http::Method::kGet && route.method != http::Method::kHead;
      if (changes_state || route.access == auth::Access::kPublic) {
        if (!kStateChangesOpenToReaders.contains(name)) {
          EXPECT_TRUE(route.access == auth::Access::kWrite ||
                      route.access == auth::Access::kAdmin ||
                      route.access == auth::Access::kService ||
                      (route.access == auth::Access::kPublic && !changes_state))
              << name << " changes state but is open to '" << AccessName(route.access) << "'";
        }
      }
      for (const auto& caller : kCallers) {
        http::Request request;
        request.method = route.method;
        request.method_text = method;
        request.path = PathFor(route);
        request.target = request.path;
        request.remote_address = "192.0.2.1";
        request.received_at = std::chrono::steady_clock::now();
        if (!caller.empty())
          request.headers.emplace_back("authorization", "Bearer " + tokens[caller]);
        if (changes_state) {
          request.headers.emplace_back("content-type", "application/json");
          request.headers.emplace_back("idempotency-key", "matrix-" + std::to_string(calls));
          request.body = "{}";
        }
        const auto response = pipeline.Handle(request);
        ++calls;
        ++statuses[response.status];
        const std::string where = name + " as " + (caller.empty() ? "(no token)" : caller) + " [" +
                                  AccessName(route.access) + "] → " +
                                  std::to_string(response.status) + " " + response.body;
        // The call reached the route it was built for (not a 404, 405 or another template).
        EXPECT_EQ(request.route, route.pattern) << where;
        EXPECT_LT(response.status, 500) << where;
        if (caller.empty() && route.access != auth::Access::kPublic) {
          EXPECT_EQ(response.status, 401) << where;
        } else if (!Allowed(route.access, caller)) {
          EXPECT_EQ(response.status, 403) << where;
        } else if (kOwnResourceOrAdmin.contains(name) && caller != "admin") {
          EXPECT_EQ(response.status, 403) << where;
        } else {
          EXPECT_NE(response.status, 401) << where;
          EXPECT_NE(response.status, 403) << where;
        }
        if (response.status >= 400) {
          EXPECT_EQ(response.Header("Content-Type"), "application/problem+json") << where;
        }
        exercised.insert(method + " " + route.pattern);
      }
    }
    // Every collection answers CSV and refuses unknown query parameters, in one place
    // (http::Tabular): called with one, a list answers 400 naming it, or 404 when its parent
    // (a sample id here) does not exist.
    for (const auto& route : routes) {
      if (route.method != http::Method::kGet || route.pattern.ends_with("}") ||
          kNotLists.contains(service + " " + route.pattern)) {
        continue;
      }
      EXPECT_TRUE(route.tabular) << service << " " << route.pattern << " is not Tabular()";
      http::Request request;
      request.method = http::Method::kGet;
      request.method_text = "GET";
      request.path = PathFor(route);
      request.target = request.path + "?no_such_filter=1";
      request.query["no_such_filter"] = "1";
      request.headers.emplace_back("authorization", "Bearer " + tokens["admin"]);
      const auto response = pipeline.Handle(request);
      const bool child = route.pattern.find('{') != std::string::npos;
      if (child && response.status == 404) continue;
      EXPECT_EQ(response.status, 400) << service << " " << route.pattern << ": " << response.body;
      EXPECT_EQ(nlohmann::json::parse(response.body, nullptr, false).value("field", ""),
                "no_such_filter")
          << service << " " << route.pattern << ": " << response.body;
    }
    // Every route in the table was called (a route the loop skipped would show up here).
    for (const auto& route : routes) {
      EXPECT_TRUE(
          exercised.contains(std::string(http::MethodName(route.method)) + " " + route.pattern))
          << service << " " << route.pattern << " was not exercised";
    }
    EXPECT_EQ(exercised.size(), routes.size()) << service;
    EXPECT_GT(routes.size(), 5u) << service << ": suspiciously few routes";
    std::cout << service << ": " << routes.size() << " routes, statuses:";
    for (const auto& [status, count] : statuses) std::cout << " " << status << "×" << count;
    std::cout << "\n";
    return calls;
  }

  static testing::KeyPair* keys_;
  static std::shared_ptr<const auth::JwtVerifier>* verifier_;
  std::string dir_;
};
testing::KeyPair* AuthorisationMatrix::keys_ = nullptr;
std::shared_ptr<const auth::JwtVerifier>* AuthorisationMatrix::verifier_ = nullptr;

TEST_F(AuthorisationMatrix, Invitations) {
  auto store = OpenStore("invitations", invitations::Migrations());
  std::array<unsigned char, crypto::FieldCipher::kKeyBytes> key{};
  key.fill(0x42);
  const crypto::FieldCipher cipher(key);
  invitations::Context context{*store, cipher, dir_ + "/invitations.db"};
  const int calls = Exercise("invitations", invitations::Routes(context));
  std::cout << "invitations: " << calls << " calls\n";
}

TEST_F(AuthorisationMatrix, Projects) {
  auto store = OpenStore("projects", projects::Migrations());
  const int calls = Exercise("projects", projects::Routes(*store));
  std::cout << "projects: " << calls << " calls\n";
}

TEST_F(AuthorisationMatrix, Missions) {
  auto store = OpenStore("missions", missions::Migrations());
  const int calls = Exercise("missions", missions::Routes(*store));
  std::cout << "missions: " << calls << " calls\n";
}

TEST_F(AuthorisationMatrix, Notifications) {
  auto store = OpenStore("notifications", notifications::Migrations());
  metrics::Metrics metrics;
  notifications::DeliveryMetrics delivery_metrics(metrics);
  notifications::FeedOptions feed;
  const notifications::EgressPolicy egress;
  std::array<unsigned char, crypto::FieldCipher::kKeyBytes> key{};
  key.fill(0x43);
  const crypto::FieldCipher cipher(key);
  const int calls = Exercise("notifications",
                             notifications::Routes(*store, delivery_metrics, feed, egress, cipher));
  std::cout << "notifications: " << calls << " calls\n";
}

}  // namespace
}  // namespace jilaf
