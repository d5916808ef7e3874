#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <regex>

#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/util/clock.hpp"
#include "services/projects/readers.hpp"
#include "services/projects/routes.hpp"
#include "services/projects/tables.hpp"

namespace jilaf::projects {
namespace {

const nlohmann::json kNumberSchema = {{"type", "number"}, {"minimum", 0}};

// A non-negative JSON number (integers stay integers); records an error otherwise.
std::optional<nlohmann::json> ReadNumber(http::ObjectReader& in, const std::string& key,
                                         bool required) {
  const auto* raw = in.Raw(key, required);
  in.Describe(key, kNumberSchema, required);
  if (in.describing()) return std::nullopt;
  if (raw == nullptr) {
    if (required) in.AddError(key, "is required (a non-negative number)");
    return std::nullopt;
  }
  if (!raw->is_number() || (raw->is_number_float() && !std::isfinite(raw->get<double>())) ||
      raw->get<double>() < 0) {
    in.AddError(key, "expected a non-negative number");
    return std::nullopt;
  }
  return *raw;
}

nlohmann::json ReadIndicator(const nlohmann::json& body) {
  http::ObjectReader in(body);
  nlohmann::json doc;
  doc["name"] = in.RequiredString("name", 1, 300);
  doc["unit"] = in.RequiredString("unit", 1, 100);
  doc["baseline"] = ReadNumber(in, "baseline", true).value_or(0);
  doc["target"] = ReadNumber(in, "target", true).value_or(0);
  doc["disaggregation"] = in.StringArray("disaggregation", false, 20, 50);
  in.Finish();
  return doc;
}

nlohmann::json Data(store::Db&, const nlohmann::json& doc) {
  return Payload(doc, "indicator_id",
                 {"project_id", "name", "unit", "baseline", "target", "version"});
}

// The breakdown of an actual `value`: only the indicator's disaggregation keys, each a
// non-negative number, integers summing to the value.
nlohmann::json ReadBreakdown(http::ObjectReader& in, http::ObjectReader& breakdown,
                             const nlohmann::json& raw, const nlohmann::json& allowed,
                             const std::optional<nlohmann::json>& value) {
  bool all_integers = value && value->is_number_integer();
  std::int64_t sum = 0;
  nlohmann::json parts = nlohmann::json::object();
  for (const auto& [key, part] : raw.items()) {
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      breakdown.AddError(key, "is not one of the indicator's disaggregation keys");
      continue;
    }
    if (auto number = ReadNumber(breakdown, key, true)) {
      parts[key] = *number;
      all_integers = all_integers && number->is_number_integer();
      if (number->is_number_integer()) sum += number->get<std::int64_t>();
    }
  }
  if (in.ok() && all_integers && value && sum != value->get<std::int64_t>()) {
    in.AddError("breakdown", "parts sum to " + std::to_string(sum) + ", not to value " +
                                 std::to_string(value->get<std::int64_t>()));
  }
  return parts;
}

// One period's actual: value, breakdown, note, who recorded it and when.
nlohmann::json ReadActual(const nlohmann::json& body, const nlohmann::json& indicator,
                          const std::string& by) {
  http::ObjectReader in(body);
  const auto value = ReadNumber(in, "value", true);
  nlohmann::json actual = {{"value", value.value_or(0)}};
  if (in.describing()) {  // a map from the indicator's keys, which only the stored record knows
    in.Describe("breakdown", {{"type", "object"}, {"additionalProperties", kNumberSchema}});
  } else if (auto breakdown = in.Object("breakdown", false)) {
    actual["breakdown"] =
        ReadBreakdown(in, *breakdown, body["breakdown"], indicator["disaggregation"], value);
  }
  actual["note"] = in.OptionalString("note", 2000).value_or("");
  in.Finish();
  actual["recorded_at"] = util::NowRfc3339();
  actual["recorded_by"] = by;
  return actual;
}

void AnnounceActual(aggregate::Change& change, const nlohmann::json& doc,
                    const std::string& period) {
  auto data = Data(change.tx, doc);
  data.update(aggregate::Pick(doc["actuals"][period], {"value", "breakdown"}));
  data["period"] = period;
  change.Emit(Facts(Tables().indicator, "actual_recorded", doc, std::move(data)));
}

}  // namespace

http::Response CreateIndicator(const http::Request& request, store::Store& store) {
  const auto& t = Tables();
  return aggregate::CreateChild(
      store, request, t.projects, request.Param("id"), t.indicator,
      ReadIndicator(http::ParseJsonBody(request)),
      [](aggregate::Change&, const nlohmann::json& project, nlohmann::json& doc) {
        doc["project_id"] = project["id"];
        doc["actuals"] = nlohmann::json::object();
      },
      Announce(t.indicator, "created", Data));
}

http::Response RecordActual(const http::Request& request, store::Store& store) {
  const std::string period = request.Param("period");
  static const std::regex kPeriod("^[0-9]{4}(-(Q[1-4]|H[12]|0[1-9]|1[0-2]))?$");
  if (!std::regex_match(period, kPeriod)) {
    throw http::ApiError::BadRequest(
        "path parameter period must be a year (2026), a quarter (2026-Q1), a half (2026-H1) or "
        "a month (2026-04)");
  }
  const auto body = http::ParseJsonBody(request);
  return aggregate::Modify(
      store, request, Tables().indicator, request.Param("id"),
      [&](aggregate::Change&, nlohmann::json& doc) {
        doc["actuals"][period] = ReadActual(body, doc, request.principal.subject);
      },
      [&](aggregate::Change& change, const nlohmann::json& doc) {
        AnnounceActual(change, doc, period);
      });
}

void AddIndicatorBodies(std::vector<http::BodyContract>& out) {
  out.push_back({"/components/schemas/IndicatorInput",
                 [](const nlohmann::json& body) { (void)ReadIndicator(body); }});
  out.push_back({"/components/schemas/ActualInput", [](const nlohmann::json& body) {
                   (void)ReadActual(body, {{"disaggregation", nlohmann::json::array()}}, "");
                 }});
}

}  // namespace jilaf::projects
