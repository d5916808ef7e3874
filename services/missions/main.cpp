// jilaf-missions: the missions service (composition root).
#include "common/service/service.hpp"
#include "services/missions/catalogue.hpp"

int main(int argc, char** argv) {
  auto config = jilaf::service::LoadConfigOrExit(
      "missions", "JILAF missions service: research missions, education programmes and seminars.",
      8083, 9083, argc, argv);
  jilaf::service::Service service(std::move(config), {jilaf::missions::Migrations()});
  return service.Run(jilaf::missions::Routes(service.store()));
}
