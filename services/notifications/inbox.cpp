#include "services/notifications/inbox.hpp"

#include <nlohmann/json.hpp>

#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "common/util/clock.hpp"

namespace jilaf::notifications {
namespace {

// The audiences a caller sees: their own user audience and each of their roles.
nlohmann::json Audiences(const auth::Principal& principal) {
  nlohmann::json audiences = nlohmann::json::array({"user:" + principal.subject});
  for (const auto role : principal.roles) audiences.push_back(std::string(auth::RoleName(role)));
  return audiences;
}

// Loads the item if the caller may see it.
bool Visible(store::Db& db, const std::string& id, const auth::Principal& principal) {
  auto stmt = db.Prepare(
      "SELECT 1 FROM inbox_notifications WHERE id = ?"
      " AND audience IN (SELECT value FROM json_each(?))");
  stmt.Bind(1, id).Bind(2, Audiences(principal).dump());
  return stmt.Step();
}

}  // namespace

http::Response ListInbox(const http::Request& request, store::Store& store) {
  const auto page = http::ParsePage(request);
  const auto unread = request.Query("unread");
  if (unread && *unread != "true" && *unread != "false") {
    throw http::ApiError::BadRequest("query parameter unread must be true or false");
  }
  const bool only_unread = unread && *unread == "true";
  return store.Read([&](store::Db& db) {
    auto stmt = db.Prepare(
        "SELECT n.seq, n.doc, r.read_at FROM inbox_notifications n"
        " LEFT JOIN inbox_reads r ON r.item_id = n.id AND r.user = ?1"
        " WHERE n.seq < ?2 AND n.audience IN (SELECT value FROM json_each(?3))"
        " AND (?4 = 0 OR r.read_at IS NULL) ORDER BY n.seq DESC LIMIT ?5");
    stmt.Bind(1, request.principal.subject)
        .Bind(2, page.after.value_or(INT64_MAX))
        .Bind(3, Audiences(request.principal).dump())
        .Bind(4, only_unread ? 1 : 0)
        .Bind(5, page.page_size + 1);
    return http::Response::Json(200, http::CollectPage(stmt, page.page_size, [](store::Stmt& row) {
                                  auto item = nlohmann::json::parse(row.Text(1));
                                  const auto read_at = row.OptText(2);
                                  item["read"] = read_at.has_value();
                                  if (read_at) item["read_at"] = *read_at;
                                  return item;
                                }));
  });
}

http::Response MarkRead(const http::Request& request, store::Store& store) {
  const auto& id = request.Param("id");
  store.Write([&](store::Db& tx) {
    if (!Visible(tx, id, request.principal)) {
      throw http::ApiError::NotFound("no inbox item with id " + id + " for you");
    }
    auto insert =
        tx.Prepare("INSERT OR IGNORE INTO inbox_reads(item_id, user, read_at) VALUES (?, ?, ?)");
    insert.Bind(1, id).Bind(2, request.principal.subject).Bind(3, util::NowRfc3339());
    insert.Run();
  });
  return http::Response::Empty(204);
}

http::Response MarkUnread(const http::Request& request, store::Store& store) {
  const auto& id = request.Param("id");
  store.Write([&](store::Db& tx) {
    if (!Visible(tx, id, request.principal)) {
      throw http::ApiError::NotFound("no inbox item with id " + id + " for you");
    }
    auto remove = tx.Prepare("DELETE FROM inbox_reads WHERE item_id = ? AND user = ?");
    remove.Bind(1, id).Bind(2, request.principal.subject);
    remove.Run();
  });
  return http::Response::Empty(204);
}

}  // namespace jilaf::notifications
