#include "services/notifications/inbox.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>

#include "common/events/cloud_event.hpp"
#include "common/http/resource.hpp"
#include "common/util/clock.hpp"

namespace jilaf::notifications {
namespace {

std::string Text(const nlohmann::json& data, const nlohmann::json::json_pointer& pointer) {
  if (!data.contains(pointer) || !data.at(pointer).is_string()) {
    throw std::invalid_argument("event data lacks string " + pointer.to_string());
  }
  return data.at(pointer).get<std::string>();
}

struct Message {
  std::string title;
  std::string body;
};

Message Compose(const events::CloudEvent& event) {
  using Ptr = nlohmann::json::json_pointer;
  const auto& data = event.data;
  if (!data.is_object()) throw std::invalid_argument("event data is not a JSON object");
  if (event.type == "jilaf.invitations.nomination.submitted") {
    const std::string family = Text(data, Ptr("/candidate/family_name"));
    const std::string given = Text(data, Ptr("/candidate/given_name"));
    const std::string country = Text(data, Ptr("/candidate/nationality"));
    const std::string programme = Text(data, Ptr("/programme_title/en"));
    const std::string organisation = Text(data, Ptr("/nominating_organisation/name"));
    return {"New nomination: " + family + " " + given + " (" + country + ")",
            organisation + " nominated " + given + " " + family + " for " + programme + "."};
  }
  if (event.type == "jilaf.invitations.programme.created") {
    const std::string title = Text(data, Ptr("/title/en"));
    const std::string track = Text(data, Ptr("/track"));
    if (!data.contains("fiscal_year") || !data["fiscal_year"].is_number_integer()) {
      throw std::invalid_argument("event data lacks integer /fiscal_year");
    }
    return {"Programme created: " + title, "FY" + std::to_string(data["fiscal_year"].get<int>()) +
                                               " " + track + " programme \"" + title +
                                               "\" was created."};
  }
  return {"Invitations: " + event.type, "Event " + event.id + " on " + event.subject + "."};
}

}  // namespace

store::MigrationSet Migrations() {
  return {"notifications",
          {{1, "staff inbox",
            "CREATE TABLE inbox_notifications ("
            " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " id TEXT NOT NULL UNIQUE,"
            " event_id TEXT NOT NULL,"
            " audience TEXT NOT NULL,"
            " doc TEXT NOT NULL,"
            " created_at TEXT NOT NULL);"
            "CREATE INDEX inbox_audience ON inbox_notifications(audience, seq);"}}};
}

void RecordInvitationEvent(store::Db& tx, const events::CloudEvent& event,
                           const events::MessageOrigin& origin) {
  const Message message = Compose(event);
  const std::string id = events::NewUuid();
  const std::string now = util::NowRfc3339();
  const nlohmann::json doc = {{"id", id},
                              {"audience", "staff"},
                              {"title", message.title},
                              {"body", message.body},
                              {"event",
                               {{"id", event.id},
                                {"type", event.type},
                                {"source", event.source},
                                {"subject", event.subject},
                                {"time", event.time},
                                {"topic", origin.topic}}},
                              {"created_at", now}};
  auto insert = tx.Prepare(
      "INSERT INTO inbox_notifications(id, event_id, audience, doc, created_at)"
      " VALUES (?, ?, 'staff', ?, ?)");
  insert.Bind(1, id).Bind(2, event.id).Bind(3, doc.dump()).Bind(4, now);
  insert.Run();
}

http::Response ListInbox(const http::Request& request, store::Store& store) {
  const auto page = http::ParsePage(request);
  return store.Read([&](store::Db& db) {
    auto stmt = db.Prepare(
        "SELECT seq, doc FROM inbox_notifications WHERE audience = 'staff' AND seq < ?"
        " ORDER BY seq DESC LIMIT ?");
    stmt.Bind(1, page.after.value_or(INT64_MAX)).Bind(2, page.page_size + 1);
    return http::Response::Json(200, http::CollectPage(stmt, page.page_size));
  });
}

http::Router Routes(store::Store& store) {
  http::Router router;
  router.Add(http::Method::kGet, "/v1/inbox", auth::Access::kRead,
             [&store](http::Request& request) { return ListInbox(request, store); });
  return router;
}

}  // namespace jilaf::notifications
