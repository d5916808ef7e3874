#include "services/invitations/readers.hpp"
#include "services/invitations/routes.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "common/aggregate/sequences.hpp"
#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "common/util/calendar.hpp"
#include "common/util/iso3166.hpp"
#include "common/util/m49.hpp"
#include "services/invitations/domain.hpp"
#include "services/invitations/queries.hpp"
#include "services/invitations/tables.hpp"

namespace jilaf::invitations {
namespace {

const std::vector<std::string_view> kTracks = {"developing", "industrialized"};

}  // namespace

// A start in fiscal years 1989 to 2100 (April 1989 to March 2101), as the check and as the
// pattern the document gets (a calendar date, and within the range).
const http::DateRange kProgrammeStart = {
    "1989-04-01", "2101-03-31",
    "^(?=((19[0-9]{2}|[2-9][0-9]{3})-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0["
    "1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))|((19|[2-9][0-9])(0[48]|[2468][048]|[13579][2"
    "6])|([2468][048]|[3579][26])00)-02-29)$)((199[0-9]|20[0-9]{2}|2100)-(0[1-9]|1[0-2])|1989-("
    "0[4-9]|1[0-2])|2101-0[1-3])-(0[1-9]|[12][0-9]|3[01])$",
    "must fall in fiscal year 1989 to 2100"};

namespace {

// ISO 3166-1 alpha-2 → seats, each quota from 1 to the programme's seats.
nlohmann::json ReadQuotas(http::ObjectReader& in, std::int64_t seats) {
  nlohmann::json quotas = nlohmann::json::object();
  if (const auto* raw = in.Raw("country_quotas")) {
    if (!raw->is_object()) {
      in.AddError("country_quotas", "expected an object mapping ISO 3166-1 alpha-2 codes to seats");
    } else {
      for (const auto& [country, quota] : raw->items()) {
        if (!util::IsIso3166Alpha2(country)) {
          in.AddError("country_quotas", "'" + country + "' is not an ISO 3166-1 alpha-2 code");
        } else if (!quota.is_number_integer() || quota.get<std::int64_t>() < 1 ||
                   quota.get<std::int64_t>() > seats) {
          in.AddError("country_quotas",
                      "quota for " + country + " must be an integer from 1 to seats");
        } else {
          quotas[country] = quota;
        }
      }
    }
  }
  return quotas;
}

// UN M49 region (util::M49Regions) → seats, each quota from 1 to the programme's seats.
nlohmann::json ReadRegionQuotas(http::ObjectReader& in, std::int64_t seats) {
  nlohmann::json quotas = nlohmann::json::object();
  const auto* raw = in.Raw("region_quotas");
  if (raw == nullptr) return quotas;
  if (!raw->is_object()) {
    in.AddError("region_quotas", "expected an object mapping UN M49 regions to seats");
    return quotas;
  }
  const auto& regions = util::M49Regions();
  for (const auto& [region, quota] : raw->items()) {
    if (std::find(regions.begin(), regions.end(), region) == regions.end()) {
      std::string names;
      for (const auto name : regions) names += (names.empty() ? "" : ", ") + std::string(name);
      in.AddError("region_quotas", "'" + region + "' is not a UN M49 region; regions: " + names);
    } else if (!quota.is_number_integer() || quota.get<std::int64_t>() < 1 ||
               quota.get<std::int64_t>() > seats) {
      in.AddError("region_quotas", "quota for " + region + " must be an integer from 1 to seats");
    } else {
      quotas[region] = quota;
    }
  }
  return quotas;
}

// `{"ja", "en"}`, both required when the title is given.
void ReadTitle(http::ObjectReader& in, nlohmann::json& doc, bool required) {
  if (auto title = in.Object("title", required)) {
    doc["title"] = {{"ja", title->RequiredString("ja", 1, 300)},
                    {"en", title->RequiredString("en", 1, 300)}};
    title->RejectUnknownFields();
  }
}

// The fiscal year (April to March) is the one start_date falls in, as in projects and missions: a
// `fiscal_year` sent beside it must agree.
std::int64_t ReadFiscalYear(http::ObjectReader& in, const std::string& start,
                            std::optional<std::int64_t> sent) {
  const std::int64_t derived = util::FiscalYearOf(start);
  if (sent && *sent != derived && derived >= 1989 && derived <= 2100) {
    in.AddError("fiscal_year", "must be " + std::to_string(derived) +
                                   ", the fiscal year (April to March) of start_date " + start +
                                   ", or be left out");
  }
  return derived;
}

}  // namespace

nlohmann::json ReadProgramme(const nlohmann::json& body) {
  http::ObjectReader in(body);
  nlohmann::json doc;
  const auto fiscal_year = in.OptionalInt("fiscal_year", 1989, 2100);
  ReadTitle(in, doc, true);
  doc["track"] = in.RequiredEnum("track", kTracks);
  if (auto region = in.OptionalString("region", 100)) doc["region"] = *region;
  if (auto theme = in.OptionalString("theme", 300)) doc["theme"] = *theme;
  const auto start = in.RequiredDate("start_date", kProgrammeStart);
  const auto end = in.RequiredDate("end_date");
  if (!start.empty() && !end.empty() && end < start)
    in.AddError("end_date", "must not be before start_date");
  doc["start_date"] = start;
  doc["end_date"] = end;
  if (!start.empty()) doc["fiscal_year"] = ReadFiscalYear(in, start, fiscal_year);
  const auto seats = in.RequiredInt("seats", 1, 1000);
  doc["seats"] = seats;
  doc["country_quotas"] = ReadQuotas(in, seats);
  doc["region_quotas"] = ReadRegionQuotas(in, seats);
  doc["host_organisations"] = in.StringArray("host_organisations", false, 50, 200);
  const auto status = in.OptionalEnum("status", {"draft", "open"});
  doc["status"] = status.value_or("draft");
  in.Finish();
  return doc;
}

http::Response CreateProgramme(const http::Request& request, Context& context) {
  return aggregate::Create(context.store, request, ProgrammeKind(),
                           ReadProgramme(http::ParseJsonBody(request)), {},
                           [](aggregate::Change& change, const nlohmann::json& doc) {
                             change.Emit(ProgrammeFacts(doc, "created", std::nullopt));
                           });
}

http::Response ListProgrammes(const http::Request& request, Context& context) {
  (void)http::ParsePage(request);  // a bad page is reported before a bad filter
  const auto fiscal_year = http::QueryInt(request, "fiscal_year", 1989, 2100);
  const auto track = request.Query("track");
  const auto status = request.Query("status");
  if (track && std::find(kTracks.begin(), kTracks.end(), *track) == kTracks.end()) {
    throw http::ApiError::BadRequest("query parameter track must be developing or industrialized");
  }
  if (status && !ProgrammeMachine().IsState(*status)) {
    throw http::ApiError::BadRequest("query parameter status is not a programme status");
  }
  return aggregate::List(context.store, request, Programmes(),
                         {{"fiscal_year", aggregate::Maybe(fiscal_year)},
                          {"track", aggregate::Maybe(track)},
                          {"status", aggregate::Maybe(status)}});
}

http::Response GetProgramme(const http::Request& request, Context& context) {
  // The stored document is the response: served as stored, never parsed.
  return aggregate::Get(context.store, Programmes(), request.Param("id"));
}

namespace {

// Seats and quotas: a new quota is read against the seats, kept quotas must fit new seats.
void PatchSeats(http::ObjectReader& in, nlohmann::json& doc) {
  if (auto seats = in.OptionalInt("seats", 1, 1000)) doc["seats"] = *seats;
  const std::int64_t seats = doc["seats"];
  if (in.Raw("region_quotas") != nullptr) doc["region_quotas"] = ReadRegionQuotas(in, seats);
  if (in.Raw("country_quotas") != nullptr) doc["country_quotas"] = ReadQuotas(in, seats);
  for (const char* field : {"country_quotas", "region_quotas"}) {
    const auto quotas = doc.value(field, nlohmann::json::object());
    for (const auto& [key, quota] : quotas.items()) {
      if (quota.get<std::int64_t>() > seats) {
        in.AddError("seats", "must not be below the quota of " + key);
      }
    }
  }
}

// The members PATCH may change; fiscal year, track and status are fixed (status moves through
// transitions). Absent members keep their value.
}  // namespace

void ApplyProgrammePatch(const nlohmann::json& body, nlohmann::json& doc) {
  http::ObjectReader in(body);
  for (const char* fixed : {"fiscal_year", "track", "status", "id", "version"}) {
    in.Forbid(fixed, std::string(fixed) == "status" ? "changes through POST .../transitions"
                                                    : "cannot be changed");
  }
  ReadTitle(in, doc, false);
  if (auto region = in.OptionalString("region", 100)) doc["region"] = *region;
  if (auto theme = in.OptionalString("theme", 300)) doc["theme"] = *theme;
  if (auto start = in.OptionalDate("start_date", kProgrammeStart)) {
    if (util::FiscalYearOf(*start) != doc["fiscal_year"].get<std::int64_t>()) {
      in.AddError("start_date", "falls in fiscal year " +
                                    std::to_string(util::FiscalYearOf(*start)) +
                                    "; the programme's fiscal year is " +
                                    std::to_string(doc["fiscal_year"].get<std::int64_t>()) +
                                    " and cannot change");
    }
    doc["start_date"] = *start;
  }
  if (auto end = in.OptionalDate("end_date")) doc["end_date"] = *end;
  if (doc["end_date"].get<std::string>() < doc["start_date"].get<std::string>()) {
    in.AddError("end_date", "must not be before start_date");
  }
  PatchSeats(in, doc);
  if (in.Raw("host_organisations") != nullptr) {
    doc["host_organisations"] = in.StringArray("host_organisations", false, 50, 200);
  }
  in.Finish();
}

namespace {

// Seats already given away cannot be taken back by shrinking the limits.
void CheckSeatsStillCover(store::Db& tx, const nlohmann::json& programme) {
  const auto taken = LoadOccupancy(tx, programme.at("id"));
  const auto limits = SeatLimits::FromProgramme(programme);
  if (taken.total > limits.seats) {
    throw http::ApiError(409, "capacity-exceeded", "Capacity exceeded",
                         std::to_string(taken.total) + " candidates already hold seats")
        .With("limit", "seats")
        .With("taken", taken.total);
  }
  for (const auto& [country, quota] : limits.country_quotas) {
    const auto used = taken.by_country.find(country);
    if (used != taken.by_country.end() && used->second > quota) {
      throw http::ApiError(
          409, "capacity-exceeded", "Capacity exceeded",
          std::to_string(used->second) + " candidates from " + country + " already hold seats")
          .With("limit", "country_quota")
          .With("country", country);
    }
  }
  for (const auto& [region, quota] : limits.region_quotas) {
    if (taken.InRegion(region) > quota) {
      throw http::ApiError(409, "capacity-exceeded", "Capacity exceeded",
                           std::to_string(taken.InRegion(region)) + " candidates from the region " +
                               region + " already hold seats")
          .With("limit", "region_quota")
          .With("region", region);
    }
  }
}

}  // namespace

http::Response UpdateProgramme(const http::Request& request, Context& context) {
  const auto body = http::ParseJsonBody(request);
  return aggregate::Modify(
      context.store, request, ProgrammeKind(), request.Param("id"),
      [&](aggregate::Change& change, nlohmann::json& doc) {
        ApplyProgrammePatch(body, doc);
        CheckSeatsStillCover(change.tx, doc);
      },
      [](aggregate::Change& change, const nlohmann::json& doc) {
        change.Emit(ProgrammeFacts(doc, "updated", std::nullopt));
      });
}

aggregate::TransitionInput ReadMove(const nlohmann::json& body,
                                    const domain::StateMachine& machine) {
  http::ObjectReader in(body);
  auto input = aggregate::ReadTransition(in, machine, 500);
  in.Finish();
  return input;
}

http::Response TransitionProgramme(const http::Request& request, Context& context) {
  const auto input = ReadMove(http::ParseJsonBody(request), ProgrammeMachine());
  std::string from;
  return aggregate::Modify(
      context.store, request, ProgrammeKind(), request.Param("id"),
      [&](aggregate::Change& change, nlohmann::json& doc) {
        from = doc.at("status");
        ProgrammeMachine().Check(from, input.to);
        if (input.to == "completed") CheckProgrammeCanComplete(change.tx, doc);
        doc["status"] = input.to;
        if (input.reason) doc["status_reason"] = *input.reason;
      },
      [&](aggregate::Change& change, const nlohmann::json& doc) {
        change.Emit(ProgrammeFacts(doc, input.to, from));
        // The programme's people move with it, in the same transaction, after its own event.
        (void)CarryNominations(change, doc, request.principal.subject);
      });
}

http::Operation ProgrammeListParameters() {
  return {http::Method::kGet,
          "/v1/programmes",
          {http::PageSize(), http::PageToken(), http::QueryInteger("fiscal_year", 1989, 2100),
           http::QueryEnum("track", {kTracks.begin(), kTracks.end()}),
           http::QueryEnum("status", ProgrammeMachine().States()), http::Format()}};
}

}  // namespace jilaf::invitations
