#include "services/missions/catalogue.hpp"

#include "common/http/resource.hpp"

namespace jilaf::missions {

store::MigrationSet Migrations() {
  return {"missions",
          {{1, "missions",
            "CREATE TABLE missions ("
            " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " id TEXT NOT NULL UNIQUE,"
            " version INTEGER NOT NULL,"
            " doc TEXT NOT NULL,"
            " created_at TEXT NOT NULL,"
            " updated_at TEXT NOT NULL);"}}};
}

http::Router Routes(store::Store& store) {
  http::Router router;
  // GET /v1/missions: the research missions, education programmes and seminars on record, oldest
  // first, cursor-paginated.
  router.Add(http::Method::kGet, "/v1/missions", auth::Access::kRead,
             [&store](http::Request& request) {
               const auto page = http::ParsePage(request);
               return store.Read([&](store::Db& db) {
                 auto stmt =
                     db.Prepare("SELECT seq, doc FROM missions WHERE seq > ? ORDER BY seq LIMIT ?");
                 stmt.Bind(1, page.after.value_or(0)).Bind(2, page.page_size + 1);
                 return http::Response::Json(200, http::CollectPage(stmt, page.page_size));
               });
             });
  return router;
}

}  // namespace jilaf::missions
