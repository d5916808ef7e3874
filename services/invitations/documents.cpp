#include "services/invitations/readers.hpp"
#include "services/invitations/routes.hpp"

#include <nlohmann/json.hpp>

#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/util/calendar.hpp"
#include "common/util/clock.hpp"
#include "common/util/text.hpp"
#include "services/invitations/domain.hpp"
#include "services/invitations/queries.hpp"
#include "services/invitations/tables.hpp"

namespace jilaf::invitations {
namespace {

std::string Field(const nlohmann::json& doc, const nlohmann::json::json_pointer& pointer) {
  if (!doc.contains(pointer) || !doc.at(pointer).is_string()) return "—";
  return util::EscapeMarkup(doc.at(pointer).get<std::string>());
}

struct Text {
  const char* title_invitation;
  const char* title_guarantor;
  const char* to_whom;
  const char* invitation_body;
  const char* guarantor_body;
  const char* name;
  const char* nationality;
  const char* birth;
  const char* passport;
  const char* organisation;
  const char* programme;
  const char* period;
  const char* costs;
  const char* signature;
};

constexpr Text kEnglish = {
    "Letter of Invitation",
    "Letter of Guarantee",
    "To the Consular Section, Embassy of Japan",
    "The Japan International Labour Foundation (JILAF) has the pleasure to invite the person "
    "below to Japan to take part in its invitation programme for young trade union leaders.",
    "The Japan International Labour Foundation (JILAF) guarantees the stay in Japan of the "
    "person below for the programme named here, and will ensure that the person observes "
    "Japanese law and leaves Japan at its end.",
    "Name",
    "Nationality",
    "Date of birth",
    "Passport number",
    "Union and position",
    "Programme",
    "Period of stay",
    "JILAF bears the costs of international travel, accommodation and meals during the "
    "programme.",
    "Japan International Labour Foundation (JILAF), Tokyo"};

constexpr Text kJapanese = {
    "招へい状",
    "身元保証書",
    "在外日本国大使館 領事部 御中",
    "公益財団法人国際労働財団（JILAF）は、下記の者を青年労働組合指導者"
    "招へいプログラムに参加させるため、日本に招へいいたします。",
    "公益財団法人国際労働財団（JILAF）は、下記の者の本邦滞在中の身元を"
    "保証し、日本国の法令を遵守させ、プログラム終了後に確実に出国させる"
    "ことを約束いたします。",
    "氏名",
    "国籍",
    "生年月日",
    "旅券番号",
    "所属組合・役職",
    "プログラム",
    "滞在期間",
    "プログラム期間中の国際航空運賃、宿泊費及び食費は当財団が負担いたします。",
    "公益財団法人国際労働財団（JILAF） 東京"};

std::string RenderLetter(const std::string& kind, const std::string& lang,
                         const nlohmann::json& programme, const nlohmann::json& nomination,
                         const std::string& issued_on) {
  using Ptr = nlohmann::json::json_pointer;
  const Text& t = lang == "ja" ? kJapanese : kEnglish;
  const bool invitation = kind == "invitation-letter";
  const std::string title = invitation ? t.title_invitation : t.title_guarantor;
  std::string name = Field(nomination, Ptr("/candidate/family_name")) + " " +
                     Field(nomination, Ptr("/candidate/given_name"));
  if (lang == "ja" && nomination["candidate"].contains("katakana_name")) {
    name += "（" + Field(nomination, Ptr("/candidate/katakana_name")) + "）";
  }
  auto row = [](const char* label, const std::string& value) {
    return std::string("<tr><th>") + label + "</th><td>" + value + "</td></tr>\n";
  };
  std::string html;
  html += "<!DOCTYPE html>\n<html lang=\"" + lang + "\">\n<head>\n<meta charset=\"utf-8\">\n";
  html += "<title>" + title + "</title>\n";
  html +=
      "<style>@page { size: A4; margin: 25mm 20mm; } body { font-family: serif; font-size: 11pt; "
      "} h1 { text-align: center; font-size: 16pt; } table { border-collapse: collapse; width: "
      "100%; } th, td { border: 1px solid #444; padding: 4pt 6pt; text-align: left; } th { width: "
      "30%; } .date, .signature { text-align: right; }</style>\n</head>\n<body>\n";
  html += "<p class=\"date\">" + util::EscapeMarkup(issued_on) + "</p>\n";
  html += "<p>" + std::string(t.to_whom) + "</p>\n<h1>" + title + "</h1>\n";
  html += "<p>" + std::string(invitation ? t.invitation_body : t.guarantor_body) + "</p>\n";
  html += "<table>\n";
  html += row(t.name, name);
  html += row(t.nationality, Field(nomination, Ptr("/candidate/nationality")));
  html += row(t.birth, Field(nomination, Ptr("/candidate/date_of_birth")));
  html += row(t.passport, Field(nomination, Ptr("/candidate/passport_number")));
  html += row(t.organisation, Field(nomination, Ptr("/candidate/union")) + ", " +
                                  Field(nomination, Ptr("/candidate/position")));
  html += row(t.programme, Field(programme, Ptr(lang == "ja" ? "/title/ja" : "/title/en")) +
                               " (FY" + std::to_string(programme.value("fiscal_year", 0)) + ")");
  html += row(t.period,
              Field(programme, Ptr("/start_date")) + " – " + Field(programme, Ptr("/end_date")));
  html += "</table>\n<p>" + std::string(t.costs) + "</p>\n";
  html += "<p class=\"signature\">" + std::string(t.signature) + "</p>\n</body>\n</html>\n";
  return html;
}

std::string RequireLanguage(const http::Request& request) {
  const std::string lang = request.Query("lang").value_or("en");
  if (lang != "en" && lang != "ja") {
    throw http::ApiError::BadRequest("query parameter lang must be en or ja");
  }
  return lang;
}

void RequireBeforeTravel(const nlohmann::json& nomination) {
  const std::string status = nomination.at("status");
  if (!HoldsSeat(status) || status == "completed" || status == "arrived") {
    throw http::ApiError::Conflict("nomination " + nomination.at("id").get<std::string>() + " is " +
                                   status +
                                   "; letters are issued to selected participants before travel")
        .With("status", status);
  }
}

// The letter as the browser prints it.
http::Response HtmlLetter(const std::string& kind, const std::string& lang,
                          const nlohmann::json& programme, const nlohmann::json& rendered) {
  http::Response response;
  response.status = 200;
  response.body = RenderLetter(kind, lang, programme, rendered, util::BusinessToday());
  response.SetHeader("Content-Type", "text/html; charset=utf-8");
  response.SetHeader("Content-Language", lang);
  return response;
}

void RequirePassportOnRecord(const nlohmann::json& rendered, const std::string& id) {
  if (!rendered["candidate"].contains("passport_number")) {
    throw http::ApiError::Conflict("nomination " + id +
                                   " has no passport number on record; add it by correction first")
        .With("field", "candidate.passport_number");
  }
}

// Who printed the full number, when and why stays with the record; the audit log (this is a
// write route) holds the request itself, in the same transaction.
void RecordDisclosure(nlohmann::json& nomination, const std::string& by, const std::string& lang,
                      const std::string& reason) {
  nomination["passport_disclosures"] =
      nomination.value("passport_disclosures", nlohmann::json::array());
  nomination["passport_disclosures"].push_back({{"at", util::NowRfc3339()},
                                                {"by", by},
                                                {"document", "guarantor-letter"},
                                                {"lang", lang},
                                                {"reason", reason}});
}

}  // namespace

http::Response GetDocument(const http::Request& request, Context& context) {
  const std::string& kind = request.Param("kind");
  if (kind != "invitation-letter" && kind != "guarantor-letter") {
    throw http::ApiError::NotFound("no document " + kind +
                                   "; documents: invitation-letter, guarantor-letter");
  }
  const std::string lang = RequireLanguage(request);
  const std::string id = request.Param("id");
  const auto view = aggregate::AudienceOf(request.principal);
  return context.store.Read([&](store::Db& db) {
    const auto nomination = Nominations().Get(db, id);
    RequireBeforeTravel(nomination);
    const auto programme = Programmes().Get(db, nomination.at("programme_id").get<std::string>());
    return HtmlLetter(kind, lang, programme, RenderForView(db, context.cipher, nomination, view));
  });
}

DisclosureRequest ReadDisclosureRequest(const nlohmann::json& body) {
  http::ObjectReader in(body);
  DisclosureRequest out;
  out.reason = in.RequiredString("reason", 10, 500);
  out.lang = in.OptionalEnum("lang", {"en", "ja"}).value_or("en");
  in.Finish();
  return out;
}

http::Response IssueGuarantorLetter(const http::Request& request, Context& context) {
  const auto letter = ReadDisclosureRequest(http::ParseJsonBody(request));
  const std::string id = request.Param("id");
  return context.store.Write([&](store::Db& tx) {
    auto nomination = Nominations().Get(tx, id);
    RequireBeforeTravel(nomination);
    const auto programme = Programmes().Get(tx, nomination.at("programme_id").get<std::string>());
    // The full number is the point of this letter: rendered as an admin would see it.
    const auto rendered =
        RenderForView(tx, context.cipher, nomination, aggregate::Audience::kAdmin);
    RequirePassportOnRecord(rendered, id);
    RecordDisclosure(nomination, request.principal.subject, letter.lang, letter.reason);
    Nominations().Update(tx, nomination);
    auto response = HtmlLetter("guarantor-letter", letter.lang, programme, rendered);
    response.SetHeader("Cache-Control", "no-store");
    return response;
  });
}

}  // namespace jilaf::invitations
