// jilaf-projects: the projects service (composition root).
#include "common/service/service.hpp"
#include "services/projects/catalogue.hpp"

int main(int argc, char** argv) {
  auto config = jilaf::service::LoadConfigOrExit(
      "projects", "JILAF projects service: partner organisations abroad.", 8082, 9082, argc, argv);
  jilaf::service::Service service(std::move(config), {jilaf::projects::Migrations()});
  return service.Run(jilaf::projects::Routes(service.store()));
}
