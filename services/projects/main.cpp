// jilaf-projects: the field projects service (composition root).
#include <chrono>
#include <cstdio>
#include <ctime>

#include "common/aggregate/search.hpp"
#include "common/service/service.hpp"
#include "common/util/embedded.hpp"
#include "common/util/text.hpp"
#include "services/projects/routes.hpp"
#include "services/projects/tables.hpp"

JILAF_EMBEDDED(projects_openapi)

int main(int argc, char** argv) {
  std::int64_t scan_interval_ms = 60000;
  std::string duties = "on";
  auto config = jilaf::service::LoadConfigOrExit(
      "projects",
      "JILAF projects service: partner organisations, field projects, tranches, experts, "
      "reports and indicators.",
      8082, 9082, argc, argv, [&](jilaf::config::Flags& flags) {
        flags.Int("overdue-scan-interval-ms", &scan_interval_ms, 100, 86400000,
                  "How often reporting obligations are scanned for missed due dates.");
        flags.String("separation-of-duties", &duties,
                     "on: the author of a project proposal cannot approve it and the approver "
                     "of a tranche cannot mark it paid (403 separation-of-duties); off: one "
                     "staff member may do both.");
      });
  if (duties != "on" && duties != "off") {
    std::fprintf(stderr, "--separation-of-duties must be on or off\n");
    return 2;
  }
  jilaf::service::Service service(std::move(config), {jilaf::projects::Migrations()});
  service.SetOpenApi(jilaf::embedded::projects_openapi);
  auto& store = service.store();
  const auto& tables = jilaf::projects::Tables();
  jilaf::aggregate::IndexForSearch(store, {&tables.partners, &tables.projects});
  service.scheduler().Every("report-overdue-scan", std::chrono::milliseconds(scan_interval_ms),
                            [&store] { jilaf::projects::ScanOverdueReportsToday(store); });
  return service.Run(jilaf::projects::Routes(store, {.separation_of_duties = duties == "on"}));
}
