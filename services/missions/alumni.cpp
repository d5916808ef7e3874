#include "services/missions/alumni.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "common/events/cloud_event.hpp"
#include "common/http/idempotency.hpp"
#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "common/store/json_doc.hpp"
#include "services/missions/records.hpp"
#include "services/missions/schema.hpp"

namespace jilaf::missions {
namespace {

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

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// The alumnus document a completed nomination stands for; throws on missing facts.
nlohmann::json AlumnusFrom(const events::CloudEvent& event) {
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
  doc["family_name"] = RequiredText(data, "/candidate/family_name");
  doc["given_name"] = RequiredText(data, "/candidate/given_name");
  const std::string country = RequiredText(data, "/candidate/nationality");
  if (!IsCountryCode(country)) {
    throw std::invalid_argument(
        "nomination.completed /candidate/nationality is not a country code");
  }
  doc["country"] = country;
  const std::string email = RequiredText(data, "/candidate/email");
  if (email.find('@') == std::string::npos) {
    throw std::invalid_argument("nomination.completed /candidate/email is not an email address");
  }
  doc["email"] = email;
  doc["gender"] = OptionalMember(data, "/candidate/gender");
  doc["track"] = OptionalMember(data, "/track");
  doc["region"] = OptionalMember(data, "/region");
  doc["union"] = OptionalMember(data, "/union");
  doc["position"] = OptionalMember(data, "/position");
  doc["nominating_organisation"] = OptionalMember(data, "/nominating_organisation/name");
  doc["completed_at"] = event.time;
  doc["source_event_id"] = event.id;
  return doc;
}

}  // namespace

void ApplyInvitationEvent(store::Db& tx, const events::CloudEvent& event,
                          const events::MessageOrigin& /*origin*/) {
  if (event.type != "jilaf.invitations.nomination.completed") return;
  nlohmann::json doc = AlumnusFrom(event);
  const std::string now = events::NowRfc3339();
  doc["id"] = events::NewTimeOrderedUuid();
  doc["created_at"] = now;
  // Keyed by nomination: the same completion re-sent under another event id changes nothing.
  auto insert = tx.Prepare(
      "INSERT INTO alumni(id, nomination_id, email_lower, country, fiscal_year, doc, created_at)"
      " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(nomination_id) DO NOTHING");
  insert.Bind(1, doc["id"].get<std::string>())
      .Bind(2, doc["nomination_id"].get<std::string>())
      .Bind(3, Lower(doc["email"].get<std::string>()))
      .Bind(4, doc["country"].get<std::string>())
      .Bind(5, doc["fiscal_year"].get<std::int64_t>())
      .Bind(6, doc.dump())
      .Bind(7, now);
  insert.Run();
}

std::optional<std::string> FindAlumnus(store::Db& db, const std::string& email,
                                       const std::optional<std::string>& nomination_id) {
  if (nomination_id) {
    auto stmt = db.Prepare("SELECT id FROM alumni WHERE nomination_id = ?");
    stmt.Bind(1, *nomination_id);
    if (stmt.Step()) return stmt.Text(0);
  }
  // The most recent programme first: a person invited twice has one history per nomination.
  auto stmt = db.Prepare("SELECT id FROM alumni WHERE email_lower = ? ORDER BY seq DESC LIMIT 1");
  stmt.Bind(1, Lower(email));
  if (stmt.Step()) return stmt.Text(0);
  return std::nullopt;
}

void LinkRegistration(store::Db& tx, const std::string& alumnus_id, const std::string& kind,
                      const std::string& target_id, int fiscal_year,
                      const std::string& registration_id) {
  auto upsert = tx.Prepare(
      "INSERT INTO alumni_engagements(alumnus_id, target_kind, target_id, fiscal_year,"
      " registered_at, registration_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
      " ON CONFLICT(alumnus_id, target_kind, target_id) DO UPDATE SET registered_at = ?5,"
      " registration_id = ?6");
  upsert.Bind(1, alumnus_id)
      .Bind(2, kind)
      .Bind(3, target_id)
      .Bind(4, fiscal_year)
      .Bind(5, events::NowRfc3339())
      .Bind(6, registration_id);
  upsert.Run();
}

void UnlinkRegistration(store::Db& tx, const std::string& alumnus_id, const std::string& kind,
                        const std::string& target_id) {
  auto update = tx.Prepare(
      "UPDATE alumni_engagements SET registered_at = NULL, registration_id = NULL"
      " WHERE alumnus_id = ? AND target_kind = ? AND target_id = ?");
  update.Bind(1, alumnus_id).Bind(2, kind).Bind(3, target_id);
  update.Run();
}

http::Response ListAlumni(const http::Request& request, store::Store& store) {
  const auto page = http::ParsePage(request);
  const auto fiscal_year = http::QueryInt(request, "fiscal_year", 1989, 2100);
  const auto country = request.Query("country");
  if (country && !IsCountryCode(*country)) {
    throw http::ApiError::BadRequest("query parameter country must be an ISO 3166-1 alpha-2 code");
  }
  const auto programme = request.Query("programme_id");
  return store.Read([&](store::Db& db) {
    auto stmt = db.Prepare(
        "SELECT seq, doc FROM alumni WHERE seq > ?1 AND (?2 IS NULL OR fiscal_year = ?2)"
        " AND (?3 IS NULL OR country = ?3)"
        " AND (?4 IS NULL OR json_extract(doc, '$.programme_id') = ?4) ORDER BY seq LIMIT ?5");
    stmt.Bind(1, page.after.value_or(0))
        .Bind(2, fiscal_year)
        .Bind(3, country)
        .Bind(4, programme)
        .Bind(5, page.page_size + 1);
    return http::Response::Json(200, http::CollectPage(stmt, page.page_size));
  });
}

http::Response GetAlumnus(const http::Request& request, store::Store& store) {
  const auto& id = request.Param("id");
  return store.Read([&](store::Db& db) {
    auto doc = store::LoadJsonDoc(db, "SELECT doc FROM alumni WHERE id = ?", id);
    if (!doc) throw http::ApiError::NotFound("no alumnus with id " + id);
    nlohmann::json history = nlohmann::json::array();
    auto stmt = db.Prepare(
        "SELECT target_kind, target_id, fiscal_year, invited_at, registered_at, registration_id"
        " FROM alumni_engagements WHERE alumnus_id = ? ORDER BY seq");
    stmt.Bind(1, id);
    auto optional = [&stmt](int column) {
      return stmt.IsNull(column) ? nlohmann::json() : nlohmann::json(stmt.Text(column));
    };
    while (stmt.Step()) {
      history.push_back({{"kind", stmt.Text(0)},
                         {"target_id", stmt.Text(1)},
                         {"fiscal_year", stmt.Int(2)},
                         {"invited_at", optional(3)},
                         {"registered_at", optional(4)},
                         {"registration_id", optional(5)}});
    }
    (*doc)["history"] = std::move(history);
    return http::Response::Json(200, *doc);
  });
}

http::Response InviteAlumni(const http::Request& request, store::Store& store) {
  const auto body = http::ParseJsonBody(request);
  http::ObjectReader in(body);
  std::string kind;
  std::string target_id;
  if (auto target = in.Object("target", true)) {
    kind = target->RequiredEnum("kind", {"seminar", "education_programme"});
    target_id = target->RequiredString("id", 1, 64);
    target->RejectUnknownFields();
  }
  std::optional<std::string> country;
  std::optional<std::int64_t> fiscal_year;
  if (auto filter = in.Object("filter", false)) {
    if (auto c = filter->OptionalString("country", 2)) {
      if (IsCountryCode(*c)) {
        country = c;
      } else {
        filter->AddError("country", "must be an ISO 3166-1 alpha-2 code");
      }
    }
    fiscal_year = filter->OptionalInt("fiscal_year", 1989, 2100);
    filter->RejectUnknownFields();
  }
  const auto ids = in.StringArray("alumni_ids", false, 1000, 64);
  if (in.ok() && !country && !fiscal_year && ids.empty()) {
    in.AddError("filter", "give a filter (country, fiscal_year) or alumni_ids");
  }
  in.Finish();
  return store.Write([&](store::Db& tx) {
    return http::RunIdempotent(tx, request, [&] {
      const Table& table = kind == "seminar" ? kSeminars : kEducation;
      const auto target = LoadOr404(tx, table, target_id);
      const std::string status = target["status"];
      const bool open = kind == "seminar" ? (status == "planned" || status == "registration_open")
                                          : (status == "planned" || status == "in_progress");
      if (!open) {
        throw http::ApiError::Conflict("this " + std::string(table.what) + " is " + status +
                                       "; alumni can be invited only before it takes place");
      }
      std::string sql =
          "SELECT id, doc FROM alumni WHERE (?1 IS NULL OR country = ?1)"
          " AND (?2 IS NULL OR fiscal_year = ?2)";
      if (!ids.empty()) sql += " AND id IN (SELECT value FROM json_each(?3))";
      sql += " ORDER BY seq LIMIT 1000";
      auto select = tx.Prepare(sql);
      select.Bind(1, country).Bind(2, fiscal_year);
      if (!ids.empty()) select.Bind(3, nlohmann::json(ids).dump());
      std::vector<nlohmann::json> matched;
      while (select.Step()) matched.push_back(nlohmann::json::parse(select.Text(1)));
      nlohmann::json invited = nlohmann::json::array();
      std::size_t already = 0;
      const std::string now = events::NowRfc3339();
      auto insert = tx.Prepare(
          "INSERT INTO alumni_engagements(alumnus_id, target_kind, target_id, fiscal_year,"
          " invited_at) VALUES (?1, ?2, ?3, ?4, ?5)"
          " ON CONFLICT(alumnus_id, target_kind, target_id) DO UPDATE SET invited_at = ?5"
          " WHERE invited_at IS NULL");
      for (const auto& alumnus : matched) {
        insert.Bind(1, alumnus["id"].get<std::string>())
            .Bind(2, kind)
            .Bind(3, target_id)
            .Bind(4, target["fiscal_year"].get<std::int64_t>())
            .Bind(5, now);
        insert.Run();
        if (tx.Changes() == 0) {
          ++already;
          continue;
        }
        const std::string alumnus_id = alumnus["id"];
        invited.push_back(alumnus_id);
        Emit(tx, request, "alumnus", "invited", alumnus_id, "alumni/" + alumnus_id,
             {{"alumnus_id", alumnus_id},
              {"nomination_id", alumnus["nomination_id"]},
              {"family_name", alumnus["family_name"]},
              {"given_name", alumnus["given_name"]},
              {"email", alumnus["email"]},
              {"country", alumnus["country"]},
              {"target_kind", kind},
              {"target_id", target_id},
              {"target_title", target["title"]},
              {"fiscal_year", target["fiscal_year"]}});
      }
      return http::Response::Json(201, {{"target", {{"kind", kind}, {"id", target_id}}},
                                        {"matched", matched.size()},
                                        {"invited", invited},
                                        {"already_invited", already}});
    });
  });
}

}  // namespace jilaf::missions
