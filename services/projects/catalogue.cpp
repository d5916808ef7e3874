#include "services/projects/catalogue.hpp"

#include "common/http/resource.hpp"

namespace jilaf::projects {

store::MigrationSet Migrations() {
  return {"projects",
          {{1, "partners",
            "CREATE TABLE partners ("
            " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " id TEXT NOT NULL UNIQUE,"
            " version INTEGER NOT NULL,"
            " doc TEXT NOT NULL,"
            " created_at TEXT NOT NULL,"
            " updated_at TEXT NOT NULL);"}}};
}

http::Router Routes(store::Store& store) {
  http::Router router;
  // GET /v1/partners: the partner organisations abroad on record, oldest first, cursor-paginated.
  router.Add(http::Method::kGet, "/v1/partners", auth::Access::kRead,
             [&store](http::Request& request) {
               const auto page = http::ParsePage(request);
               return store.Read([&](store::Db& db) {
                 auto stmt =
                     db.Prepare("SELECT seq, doc FROM partners WHERE seq > ? ORDER BY seq LIMIT ?");
                 stmt.Bind(1, page.after.value_or(0)).Bind(2, page.page_size + 1);
                 return http::Response::Json(200, http::CollectPage(stmt, page.page_size));
               });
             });
  return router;
}

}  // namespace jilaf::projects
