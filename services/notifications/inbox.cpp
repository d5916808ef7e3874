#include "services/notifications/routes.hpp"

#include <nlohmann/json.hpp>

#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "services/notifications/queries.hpp"

namespace jilaf::notifications {
namespace {

// The audiences a caller sees: their own user audience and each of their roles.
nlohmann::json Audiences(const auth::Principal& principal) {
  nlohmann::json audiences = nlohmann::json::array({"user:" + principal.subject});
  for (const auto role : principal.roles) audiences.push_back(std::string(auth::RoleName(role)));
  return audiences;
}

// Marks the item read or unread for the caller if they may see it; 404 otherwise.
http::Response MarkVisible(const http::Request& request, store::Store& store, bool read) {
  const auto& id = request.Param("id");
  store.Write([&](store::Db& tx) {
    if (!InboxVisible(tx, id, Audiences(request.principal))) {
      throw http::ApiError::NotFound("no inbox item with id " + id + " for you");
    }
    MarkInboxRead(tx, id, request.principal.subject, read);
  });
  return http::Response::Empty(204);
}

}  // namespace

http::Response ListInbox(const http::Request& request, store::Store& store) {
  const auto page = http::ParsePage(request);
  const auto unread = request.Query("unread");
  if (unread && *unread != "true" && *unread != "false") {
    throw http::ApiError::BadRequest("query parameter unread must be true or false");
  }
  const bool only_unread = unread && *unread == "true";
  return http::Response::Json(200, store.Read([&](store::Db& db) {
    return InboxPage(db, request.principal.subject, Audiences(request.principal), only_unread,
                     page);
  }));
}

http::Response MarkRead(const http::Request& request, store::Store& store) {
  return MarkVisible(request, store, true);
}

http::Response MarkUnread(const http::Request& request, store::Store& store) {
  return MarkVisible(request, store, false);
}

}  // namespace jilaf::notifications
