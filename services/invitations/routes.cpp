#include "services/invitations/routes.hpp"

#include "services/invitations/nominations.hpp"
#include "services/invitations/programmes.hpp"

namespace jilaf::invitations {

http::Router Routes(store::Store& store) {
  using auth::Access;
  using http::Method;
  http::Router router;
  auto bind = [&store](http::Response (*handler)(const http::Request&, store::Store&)) {
    return [&store, handler](http::Request& request) { return handler(request, store); };
  };
  router.Add(Method::kPost, "/v1/programmes", Access::kWrite, bind(CreateProgramme));
  router.Add(Method::kGet, "/v1/programmes", Access::kRead, bind(ListProgrammes));
  router.Add(Method::kGet, "/v1/programmes/{id}", Access::kRead, bind(GetProgramme));
  router.Add(Method::kPost, "/v1/programmes/{id}/nominations", Access::kWrite,
             bind(CreateNomination));
  router.Add(Method::kGet, "/v1/nominations/{id}", Access::kRead, bind(GetNomination));
  return router;
}

}  // namespace jilaf::invitations
