// jilaf-invitations: the invitation programmes service (composition root).
#include "common/service/service.hpp"
#include "services/invitations/routes.hpp"
#include "services/invitations/schema.hpp"

int main(int argc, char** argv) {
  auto config = jilaf::service::LoadConfigOrExit(
      "invitations", "JILAF invitations service: programmes, nominations and their events.", 8081,
      9081, argc, argv);
  jilaf::service::Service service(std::move(config), {jilaf::invitations::Migrations()});
  return service.Run(jilaf::invitations::Routes(service.store()));
}
