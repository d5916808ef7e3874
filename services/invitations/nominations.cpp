#include "services/invitations/nominations.hpp"

#include <nlohmann/json.hpp>

#include <thread>

#include "common/events/cloud_event.hpp"
#include "common/events/outbox.hpp"
#include "common/http/idempotency.hpp"
#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "common/log/log.hpp"
#include "common/store/json_doc.hpp"
#include "common/util/iso3166.hpp"
#include "services/invitations/domain.hpp"
#include "services/invitations/records.hpp"
#include "services/invitations/schema.hpp"

namespace jilaf::invitations {
namespace {

struct NominationInput {
  nlohmann::json doc;
  PersonalData personal;
};

void CheckCountry(http::ObjectReader& reader, const std::string& key, const std::string& code) {
  if (!code.empty() && !util::IsIso3166Alpha2(code)) {
    reader.AddError(key, "is not an assigned ISO 3166-1 alpha-2 country code");
  }
}

bool IsPassportNumber(const std::string& text) {
  if (text.size() < 5 || text.size() > 20) return false;
  for (char c : text) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || (c >= 'A' && c <= 'Z'))) return false;
  }
  return true;
}

NominationInput ReadNomination(const nlohmann::json& body) {
  http::ObjectReader in(body);
  NominationInput input;
  auto& doc = input.doc;
  if (auto candidate = in.Object("candidate", true)) {
    nlohmann::json c;
    c["family_name"] = candidate->RequiredString("family_name", 1, 100);
    c["given_name"] = candidate->RequiredString("given_name", 1, 100);
    if (auto native = candidate->OptionalString("native_name", 200)) c["native_name"] = *native;
    if (auto kana = candidate->OptionalString("katakana_name", 200)) c["katakana_name"] = *kana;
    if (auto gender =
            candidate->OptionalEnum("gender", {"female", "male", "other", "undisclosed"})) {
      c["gender"] = *gender;
    }
    c["nationality"] = candidate->RequiredCountry("nationality");
    CheckCountry(*candidate, "nationality", c["nationality"]);
    c["email"] = candidate->RequiredEmail("email");
    c["languages"] = candidate->StringArray("languages", false, 20, 50);
    c["union"] = candidate->RequiredString("union", 1, 200);
    c["position"] = candidate->RequiredString("position", 1, 200);
    input.personal.date_of_birth = candidate->OptionalDate("date_of_birth");
    // Error messages never repeat the value: it is personal data.
    if (auto passport = candidate->OptionalString("passport_number", 20)) {
      if (IsPassportNumber(*passport)) {
        input.personal.passport_number = *passport;
      } else {
        candidate->AddError("passport_number", "expected 5 to 20 upper-case letters and digits");
      }
    }
    candidate->RejectUnknownFields();
    doc["candidate"] = std::move(c);
  }
  if (auto org = in.Object("nominating_organisation", true)) {
    doc["nominating_organisation"] = {{"name", org->RequiredString("name", 1, 200)},
                                      {"country", org->RequiredCountry("country")}};
    CheckCountry(*org, "country", doc["nominating_organisation"]["country"]);
    if (auto email = org->OptionalEmail("contact_email")) {
      doc["nominating_organisation"]["contact_email"] = *email;
    }
    org->RejectUnknownFields();
  }
  in.Finish();
  return input;
}

// The JSON parser quotes the last token it read in its message, which may be a passport number:
// keep the position, drop the quote.
nlohmann::json ParseBodyWithoutEcho(const http::Request& request) {
  try {
    return http::ParseJsonBody(request);
  } catch (const http::ApiError& error) {
    const auto cut = error.detail().find("; last read");
    if (cut == std::string::npos) throw;
    throw http::ApiError::BadRequest(error.detail().substr(0, cut));
  }
}

void StorePersonal(store::Db& tx, const FieldCipher& cipher, const std::string& id,
                   const PersonalData& personal) {
  std::optional<std::string> passport;
  std::optional<std::string> birth;
  if (personal.passport_number) {
    passport = cipher.Encrypt(*personal.passport_number, id + "/passport_number");
  }
  if (personal.date_of_birth) {
    birth = cipher.Encrypt(*personal.date_of_birth, id + "/date_of_birth");
  }
  auto insert = tx.Prepare(
      "INSERT INTO nomination_personal(nomination_id, passport_number, date_of_birth)"
      " VALUES (?, ?, ?)");
  insert.Bind(1, id).Bind(2, passport).Bind(3, birth);
  insert.Run();
}

// The same person in the same fiscal year is refused; earlier years are returned to be flagged.
nlohmann::json CheckDuplicates(store::Db& tx, const std::string& identity_hash,
                               std::int64_t fiscal_year) {
  nlohmann::json earlier = nlohmann::json::array();
  auto stmt = tx.Prepare(
      "SELECT id, programme_id, fiscal_year, status FROM nominations WHERE identity_hash = ?"
      " ORDER BY fiscal_year, seq");
  stmt.Bind(1, identity_hash);
  while (stmt.Step()) {
    const auto year = stmt.OptInt(2).value_or(0);
    if (year == fiscal_year) {
      throw http::ApiError(409, "duplicate-nomination", "Duplicate nomination",
                           "this person is already nominated in fiscal year " +
                               std::to_string(fiscal_year) + " (nomination " + stmt.Text(0) + ")")
          .With("existing_nomination_id", stmt.Text(0))
          .With("existing_programme_id", stmt.Text(1))
          .WithHeader("Link", "</v1/nominations/" + stmt.Text(0) + ">; rel=\"duplicate\"");
    }
    if (year < fiscal_year) {
      earlier.push_back({{"nomination_id", stmt.Text(0)},
                         {"programme_id", stmt.Text(1)},
                         {"fiscal_year", year},
                         {"status", stmt.Text(3)}});
    }
  }
  return earlier;
}

// Sequence numbers for keyset pagination of nominations.
nlohmann::json RenderPage(store::Db& db, store::Stmt& stmt, std::int64_t page_size,
                          const FieldCipher& cipher, View view) {
  return http::CollectPage(stmt, page_size, [&](store::Stmt& row) {
    const auto doc = nlohmann::json::parse(row.Text(1));
    const PersonalData personal =
        view == View::kViewer ? PersonalData{} : LoadPersonal(db, cipher, doc["id"]);
    return RenderNomination(doc, personal, view);
  });
}

void CheckpointAndTruncateWal(const std::string& path) {
  // Old page images (ciphertexts included) live on in the WAL until a checkpoint copies the
  // zeroed pages over them and truncates it.
  store::Db db(path, {});
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto stmt = db.Prepare("PRAGMA wal_checkpoint(TRUNCATE)");
    if (stmt.Step() && stmt.Int(0) == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  log::Warn("WAL checkpoint after an erasure stayed busy; it completes at the next checkpoint");
}

}  // namespace

http::Response CreateNomination(const http::Request& request, Context& context) {
  auto input = ReadNomination(ParseBodyWithoutEcho(request));
  auto& doc = input.doc;
  const std::string programme_id = request.Param("id");
  return context.store.Write([&](store::Db& tx) {
    return http::RunIdempotent(tx, request, [&] {
      const auto programme = LoadProgramme(tx, programme_id);
      if (programme["status"] != "open") {
        throw http::ApiError::Conflict("programme " + programme_id + " is " +
                                       programme["status"].get<std::string>() +
                                       "; nominations are accepted only while it is open")
            .With("programme_status", programme["status"]);
      }
      const std::int64_t fiscal_year = programme["fiscal_year"];
      const auto& candidate = doc["candidate"];
      std::optional<std::string> identity_hash;
      if (input.personal.date_of_birth) {
        identity_hash = context.cipher.BlindIndex(IdentityText(
            candidate["family_name"].get<std::string>(), candidate["given_name"].get<std::string>(),
            *input.personal.date_of_birth, candidate["nationality"].get<std::string>()));
        auto earlier = CheckDuplicates(tx, *identity_hash, fiscal_year);
        if (!earlier.empty()) doc["previous_participation"] = std::move(earlier);
      }
      const std::string now = events::NowRfc3339();
      const std::string id = events::NewTimeOrderedUuid();
      doc["id"] = id;
      doc["programme_id"] = programme_id;
      doc["fiscal_year"] = fiscal_year;
      doc["status"] = "submitted";
      doc["version"] = 1;
      doc["created_at"] = now;
      doc["updated_at"] = now;
      auto insert = tx.Prepare(
          "INSERT INTO nominations(id, programme_id, nationality, status, version, doc,"
          " created_at, updated_at, fiscal_year, identity_hash)"
          " VALUES (?, ?, ?, 'submitted', 1, ?, ?, ?, ?, ?)");
      insert.Bind(1, id)
          .Bind(2, programme_id)
          .Bind(3, candidate["nationality"].get<std::string>())
          .Bind(4, doc.dump())
          .Bind(5, now)
          .Bind(6, now)
          .Bind(7, fiscal_year)
          .Bind(8, identity_hash);
      insert.Run();
      StorePersonal(tx, context.cipher, id, input.personal);
      EmitNominationEvent(tx, programme, doc, std::nullopt,
                          std::string(request.Header("traceparent")));
      // This body is also kept for Idempotency-Key replays, so it carries no personal data in
      // clear whatever the caller's role: the passport masked, the birth date left out.
      auto response = JsonWithEtag(
          201, RenderNomination(doc, {input.personal.passport_number, std::nullopt}, View::kStaff));
      response.SetHeader("Location", "/v1/nominations/" + id);
      return response;
    });
  });
}

http::Response GetNomination(const http::Request& request, Context& context) {
  const auto& id = request.Param("id");
  const View view = ViewFor(request.principal);
  return context.store.Read([&](store::Db& db) {
    const auto doc = LoadNomination(db, id);
    const PersonalData personal =
        view == View::kViewer ? PersonalData{} : LoadPersonal(db, context.cipher, id);
    auto response = JsonWithEtag(200, RenderNomination(doc, personal, view));
    return response;
  });
}

http::Response ListNominations(const http::Request& request, Context& context) {
  const auto page = http::ParsePage(request);
  const auto status = request.Query("status");
  const auto nationality = request.Query("nationality");
  if (status && !NominationMachine().IsState(*status)) {
    throw http::ApiError::BadRequest("query parameter status is not a nomination status");
  }
  if (nationality && !util::IsIso3166Alpha2(*nationality)) {
    throw http::ApiError::BadRequest("query parameter nationality is not an ISO 3166-1 code");
  }
  const std::string programme_id = request.Param("id");
  const View view = ViewFor(request.principal);
  return context.store.Read([&](store::Db& db) {
    LoadProgramme(db, programme_id);
    auto stmt = db.Prepare(
        "SELECT seq, doc FROM nominations WHERE programme_id = ?1 AND seq > ?2"
        " AND (?3 IS NULL OR status = ?3) AND (?4 IS NULL OR nationality = ?4)"
        " ORDER BY seq LIMIT ?5");
    stmt.Bind(1, programme_id)
        .Bind(2, page.after.value_or(0))
        .Bind(3, status)
        .Bind(4, nationality)
        .Bind(5, page.page_size + 1);
    return http::Response::Json(200, RenderPage(db, stmt, page.page_size, context.cipher, view));
  });
}

http::Response TransitionNominationHandler(const http::Request& request, Context& context) {
  const auto body = http::ParseJsonBody(request);  // the reader keeps a pointer into it
  http::ObjectReader in(body);
  const std::string to = in.RequiredString("to", 1, 50);
  const auto reason = in.OptionalString("reason", 500);
  in.Finish();
  const std::string id = request.Param("id");
  const View view = ViewFor(request.principal);
  const auto result = context.store.Write([&](store::Db& tx) {
    return TransitionNomination(tx, id, to, reason, &request,
                                std::string(request.Header("traceparent")));
  });
  const PersonalData personal =
      view == View::kViewer
          ? PersonalData{}
          : context.store.Read([&](store::Db& db) { return LoadPersonal(db, context.cipher, id); });
  auto rendered = RenderNomination(result.nomination, personal, view);
  rendered["promoted"] = result.promoted;
  return JsonWithEtag(200, rendered);
}

http::Response DeleteNomination(const http::Request& request, Context& context) {
  const std::string id = request.Param("id");
  context.store.Write([&](store::Db& tx) {
    // Deleted cells are overwritten with zeros instead of lingering in free space.
    tx.Exec("PRAGMA secure_delete = ON");
    const auto nomination = LoadNomination(tx, id);
    const std::string status = nomination["status"];
    if (HoldsSeat(status) && status != "completed") {
      throw http::ApiError::Conflict("nomination " + id + " holds a seat (" + status +
                                     "); withdraw it before deleting it")
          .With("status", status);
    }
    for (const char* sql :
         {"DELETE FROM nomination_personal WHERE nomination_id = ?",
          "DELETE FROM logistics WHERE nomination_id = ?",
          "DELETE FROM followups WHERE nomination_id = ?", "DELETE FROM nominations WHERE id = ?",
          // The stored 201 of its creation repeats the names: Idempotency-Key replays end here.
          "DELETE FROM idempotency_keys WHERE instr(body, ?) > 0"}) {
      auto stmt = tx.Prepare(sql);
      stmt.Bind(1, id);
      stmt.Run();
    }
    const nlohmann::json data = {{"nomination_id", id},
                                 {"programme_id", nomination["programme_id"]},
                                 {"fiscal_year", nomination.value("fiscal_year", nlohmann::json())},
                                 {"previous_status", status}};
    events::AppendToOutbox(
        tx, kEventsTopic,
        events::MakeEvent(kEventSource, "jilaf.invitations.nomination.deleted", id,
                          "nominations/" + id, "/schemas/invitations/nomination.deleted/v1.json",
                          data, std::string(request.Header("traceparent"))));
  });
  CheckpointAndTruncateWal(context.db_path);
  return http::Response::Empty(204);
}

}  // namespace jilaf::invitations
