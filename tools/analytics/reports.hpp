#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "common/store/sqlite.hpp"

namespace jilaf::analytics {

/// The services whose yearly report the analytics store rebuilds.
const std::vector<std::string>& ReportServices();

/// The yearly report of `service` ("invitations", "projects" or "missions") for `fiscal_year`,
/// computed from the analytics store with the service's own definitions: the same document as
/// that service's GET /v1/reports/fiscal-years/{fy}. Throws std::invalid_argument for an unknown
/// service.
nlohmann::json BuildReport(store::Db& db, const std::string& service, std::int64_t fiscal_year);

/// Every figure of `report` as CSV rows `service,figure,value`, one per scalar, the figure named
/// by its JSON pointer (e.g. /by_country/JP/nominated) and the value as JSON text.
std::string CsvRows(const std::string& service, const nlohmann::json& report);
/// The CSV header line matching CsvRows.
std::string CsvHeader();

/// The fiscal years the store holds any entity of.
std::vector<std::int64_t> FiscalYears(store::Db& db);

}  // namespace jilaf::analytics
