#include <algorithm>
#include <stdexcept>

#include "common/aggregate/view.hpp"
#include "common/events/people.hpp"
#include "common/http/idempotency.hpp"
#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "common/util/clock.hpp"
#include "common/util/ids.hpp"
#include "common/util/iso3166.hpp"
#include "common/util/text.hpp"
#include "services/missions/contract.hpp"
#include "services/missions/queries.hpp"
#include "services/missions/routes.hpp"
#include "services/missions/tables.hpp"

namespace jilaf::missions {
namespace {

// An alumnus's mailbox is for staff; viewers see the directory.
const std::vector<std::string> kAlumnusViewerMasked = {"email"};

using Ptr = nlohmann::json::json_pointer;

std::string RequiredText(const nlohmann::json& data, const char* pointer) {
  const Ptr ptr(pointer);
  if (!data.contains(ptr) || !data.at(ptr).is_string() ||
      data.at(ptr).get_ref<const std::string&>().empty()) {
    throw std::invalid_argument(std::string("nomination.completed data lacks string ") + pointer);
  }
  return data.at(ptr).get<std::string>();
}

nlohmann::json OptionalMember(const nlohmann::json& data, const char* pointer) {
  const Ptr ptr(pointer);
  return data.contains(ptr) ? data.at(ptr) : nlohmann::json(nullptr);
}

// The candidate's part of the alumnus: country and gender from the event, names and e-mail
// from the person's record on the people topic (placeholders when the person was erased).
void ReadCandidate(const nlohmann::json& data, const std::optional<nlohmann::json>& person,
                   nlohmann::json& doc) {
  const std::string country = RequiredText(data, "/candidate/nationality");
  if (!util::IsIso3166Alpha2(country)) {
    throw std::invalid_argument(
        "nomination.completed /candidate/nationality is not a country code");
  }
  doc["country"] = country;
  doc["gender"] = OptionalMember(data, "/candidate/gender");
  if (!person && events::CarriesNamesInline(data)) {
    // A version 1 event (written before personal data left the topic) names the person itself.
    nlohmann::json inline_record = {{"candidate", data["candidate"]}};
    for (const char* member : {"union", "position"}) {
      if (data.contains(member)) inline_record[member] = data[member];
    }
    return ReadCandidate(data, inline_record, doc);
  }
  if (!person) {
    if (!data.contains("person_id")) {
      throw std::invalid_argument("nomination.completed data lacks /person_id and names");
    }
    for (const char* member : {"family_name", "given_name", "union", "position"}) {
      doc[member] = "(erased)";
    }
    doc["email"] = "";
    doc["erased_at"] = util::NowRfc3339();
    return;
  }
  doc["family_name"] = RequiredText(*person, "/candidate/family_name");
  doc["given_name"] = RequiredText(*person, "/candidate/given_name");
  const std::string email = RequiredText(*person, "/candidate/email");
  if (!util::IsEmailAddress(email)) {
    throw std::invalid_argument("the person's record has no valid /candidate/email");
  }
  doc["email"] = email;
  doc["union"] = OptionalMember(*person, "/union");
  doc["position"] = OptionalMember(*person, "/position");
}

// The alumnus document a completed nomination stands for; throws on missing facts.
nlohmann::json AlumnusFrom(const events::CloudEvent& event,
                           const std::optional<nlohmann::json>& person) {
  const auto& data = event.data;
  if (!data.is_object()) throw std::invalid_argument("event data is not a JSON object");
  nlohmann::json doc;
  doc["nomination_id"] = RequiredText(data, "/nomination_id");
  doc["programme_id"] = RequiredText(data, "/programme_id");
  if (!data.contains("fiscal_year") || !data["fiscal_year"].is_number_integer()) {
    throw std::invalid_argument("nomination.completed data lacks integer /fiscal_year");
  }
  doc["fiscal_year"] = data["fiscal_year"];
  doc["programme_title"] = {{"ja", RequiredText(data, "/programme_title/ja")},
                            {"en", RequiredText(data, "/programme_title/en")}};
  ReadCandidate(data, person, doc);
  for (const char* member : {"track", "region"}) {
    doc[member] = OptionalMember(data, (std::string("/") + member).c_str());
  }
  doc["nominating_organisation"] = OptionalMember(data, "/nominating_organisation/name");
  if (data.contains("person_id") && data["person_id"].is_string()) {
    doc["person_id"] = data["person_id"];
  }
  doc["completed_at"] = event.time;
  doc["source_event_id"] = event.id;
  return doc;
}

// An invitation request: its target and which alumni (a filter, or ids).
struct Invitation {
  std::string kind;
  std::string target_id;
  std::optional<std::string> country;
  std::optional<std::int64_t> fiscal_year;
  std::vector<std::string> ids;
};

void ReadFilter(http::ObjectReader& in, Invitation& out) {
  auto filter = in.Object("filter", false);
  if (!filter) return;
  const auto country = filter->OptionalString("country", 2);
  filter->Describe("country", {{"$ref", "#/components/schemas/CountryCode"}});  // checked below
  if (const auto& c = country) {
    if (util::IsIso3166Alpha2(*c)) {
      out.country = c;
    } else {
      filter->AddError("country", "must be an ISO 3166-1 alpha-2 code");
    }
  }
  out.fiscal_year = filter->OptionalInt("fiscal_year", 1989, 2100);
  filter->RejectUnknownFields();
}

Invitation ReadInvitation(const nlohmann::json& body) {
  http::ObjectReader in(body);
  Invitation out;
  if (auto target = in.Object("target", true)) {
    out.kind = target->RequiredEnum("kind", {"seminar", "education_programme"});
    out.target_id = target->RequiredString("id", 1, 64);
    target->RejectUnknownFields();
  }
  ReadFilter(in, out);
  out.ids = in.StringArray("alumni_ids", false, 1000, 64);
  if (in.ok() && !out.country && !out.fiscal_year && out.ids.empty()) {
    in.AddError("filter", "give a filter (country, fiscal_year) or alumni_ids");
  }
  in.Finish();
  return out;
}

// The seminar or programme alumni are invited to, while it has not taken place yet.
nlohmann::json OpenTarget(store::Db& db, const Invitation& invitation) {
  const bool seminar = invitation.kind == "seminar";
  const auto& table = (seminar ? Seminar() : Education()).kind.table;
  auto target = table.Get(db, invitation.target_id);
  const std::string status = target["status"];
  const bool open =
      status == "planned" || status == (seminar ? "registration_open" : "in_progress");
  if (!open) {
    throw http::ApiError::Conflict("this " + table.spec().what + " is " + status +
                                   "; alumni can be invited only before it takes place");
  }
  return target;
}

aggregate::EventFacts Invited(const nlohmann::json& alumnus, const Invitation& invitation,
                              const nlohmann::json& target) {
  const std::string id = alumnus["id"];
  aggregate::EventFacts facts{"alumnus",
                              "invited",
                              id,
                              "alumni/" + id,
                              {{"alumnus_id", id},
                               {"nomination_id", alumnus["nomination_id"]},
                               {"country", alumnus["country"]},
                               {"target_kind", invitation.kind},
                               {"target_id", invitation.target_id},
                               {"target_title", target["title"]},
                               {"fiscal_year", target["fiscal_year"]}}};
  if (alumnus.contains("person_id")) facts.data["person_id"] = alumnus["person_id"];
  return facts;
}

// The alumni the invitation is for (at most 1000), oldest first.
std::vector<nlohmann::json> Matching(store::Db& db, const Invitation& invitation) {
  const auto& ids = invitation.ids;
  std::vector<nlohmann::json> out;
  for (auto& alumnus :
       AlumniTable().Where(db, {{"country", aggregate::Maybe(invitation.country)},
                                {"fiscal_year", aggregate::Maybe(invitation.fiscal_year)}})) {
    if (out.size() == 1000) break;
    if (ids.empty() || std::find(ids.begin(), ids.end(), alumnus["id"]) != ids.end()) {
      out.push_back(std::move(alumnus));
    }
  }
  return out;
}

http::Response Invite(aggregate::Change& change, const Invitation& invitation) {
  const auto target = OpenTarget(change.tx, invitation);
  const auto matched = Matching(change.tx, invitation);
  nlohmann::json invited = nlohmann::json::array();
  std::size_t already = 0;
  const std::string now = util::NowRfc3339();
  for (const auto& alumnus : matched) {
    if (!RecordInvitation(change.tx, alumnus["id"], invitation.kind, invitation.target_id,
                          target["fiscal_year"], now)) {
      ++already;
      continue;
    }
    invited.push_back(alumnus["id"]);
    change.Emit(Invited(alumnus, invitation, target));
  }
  return http::Response::Json(
      201, {{"target", {{"kind", invitation.kind}, {"id", invitation.target_id}}},
            {"matched", matched.size()},
            {"invited", invited},
            {"already_invited", already}});
}

}  // namespace

void AddAlumniBodies(std::vector<http::BodyContract>& out) {
  out.push_back({"/components/schemas/InvitationInput",
                 [](const nlohmann::json& body) { (void)ReadInvitation(body); }});
}

void ApplyInvitationEvent(store::Db& tx, const events::CloudEvent& event,
                          const events::MessageOrigin& /*origin*/) {
  if (event.type != "jilaf.invitations.nomination.completed") return;
  // Waits (retried) while the person's record has not reached this side's copy yet.
  nlohmann::json doc = AlumnusFrom(event, events::PersonOfEvent(tx, event));
  doc["id"] = util::NewTimeOrderedUuid();
  doc["created_at"] = util::NowRfc3339();
  InsertAlumnusOnce(tx, doc);
}

http::Response ListAlumni(const http::Request& request, store::Store& store) {
  const auto page = http::ParsePage(request);
  const aggregate::Filters filters = {
      {"fiscal_year", aggregate::Maybe(http::QueryInt(request, "fiscal_year", 1989, 2100))},
      {"country", aggregate::Maybe(http::QueryCountry(request, "country"))},
      {"programme_id", aggregate::Maybe(request.Query("programme_id"))}};
  auto body = store.Read([&](store::Db& db) { return AlumniTable().List(db, page, filters); });
  for (auto& item : body["items"]) {
    item = aggregate::ForReader(std::move(item), request.principal, kAlumnusViewerMasked);
  }
  return http::Response::Json(200, body);
}

http::Response GetAlumnus(const http::Request& request, store::Store& store) {
  const auto& id = request.Param("id");
  return store.Read([&](store::Db& db) {
    auto doc = AlumniTable().Get(db, id);
    doc["history"] = Engagements(db, id);
    return http::Response::Json(
        200, aggregate::ForReader(std::move(doc), request.principal, kAlumnusViewerMasked));
  });
}

http::Response InviteAlumni(const http::Request& request, store::Store& store) {
  const auto invitation = ReadInvitation(http::ParseJsonBody(request));
  return store.Write([&](store::Db& tx) {
    return http::RunIdempotent(tx, request, [&] {
      aggregate::Change change(tx, request, Events());
      return Invite(change, invitation);
    });
  });
}

}  // namespace jilaf::missions
