#include "services/notifications/inbox.hpp"

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

// Runs `mark` on the item if the caller may see it; 404 otherwise.
template <typename Mark>
http::Response MarkVisible(const http::Request& request, store::Store& store, Mark mark) {
  const auto& id = request.Param("id");
  store.Write([&](store::Db& tx) {
    if (!InboxVisible(tx, id, Audiences(request.principal))) {
      throw http::ApiError::NotFound("no inbox item with id " + id + " for you");
    }
    mark(tx, id, request.principal.subject);
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
  return MarkVisible(request, store, MarkInboxRead);
}

http::Response MarkUnread(const http::Request& request, store::Store& store) {
  return MarkVisible(request, store, MarkInboxUnread);
}

}  // namespace jilaf::notifications
