#include "services/notifications/feed.hpp"

#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "common/util/calendar.hpp"
#include "common/util/clock.hpp"
#include "common/util/ids.hpp"
#include "common/util/text.hpp"
#include "services/notifications/queries.hpp"
#include "services/notifications/render.hpp"
#include "services/notifications/routes.hpp"
#include "services/notifications/tables.hpp"

namespace jilaf::notifications {
namespace {

using nlohmann::json;

std::string Str(const json& data, const char* pointer) {
  const json::json_pointer ptr(pointer);
  return data.contains(ptr) && data.at(ptr).is_string() ? data.at(ptr).get<std::string>() : "";
}

json Bilingual(const json& data, const char* key) {
  return {{"ja", Str(data, (std::string("/") + key + "/ja").c_str())},
          {"en", Str(data, (std::string("/") + key + "/en").c_str())}};
}

// Maps a public event to a feed item; nullopt for internal events.
std::optional<json> FeedItemFor(const events::CloudEvent& event) {
  const json& d = event.data;
  json item;
  if (event.type == "jilaf.missions.report.published") {
    // One findings report per mission: the mission id names the report.
    const std::string mission = Str(d, "/mission_id");
    item = {{"kind", "report"},
            {"aggregate_id", mission},
            {"title", Bilingual(d, "title")},
            {"summary", Bilingual(d, "summary")},
            {"published_at", Str(d, "/published_at")},
            {"path", "/missions/" + mission + "/report"}};
  } else if (event.type == "jilaf.missions.seminar.registration_open") {
    const std::string start = Str(d, "/start_date");
    const std::string end = Str(d, "/end_date");
    const std::string city = Str(d, "/venue/city");
    item = {{"kind", "seminar"},
            {"aggregate_id", Str(d, "/seminar_id")},
            {"title", Bilingual(d, "title")},
            {"summary",
             {{"ja", "国際セミナー（" + start + "〜" + end + "、" + city + "）参加登録受付中"},
              {"en", "International seminar, " + start + " to " + end + ", " + city +
                         ": registration open"}}},
            {"published_at", event.time},
            {"path", "/seminars/" + Str(d, "/seminar_id")}};
  } else if ((event.type == "jilaf.invitations.programme.created" ||
              event.type == "jilaf.invitations.programme.open") &&
             Str(d, "/status") == "open") {
    const std::string fy = d.contains("fiscal_year") ? d["fiscal_year"].dump() : "";
    item = {{"kind", "programme"},
            {"aggregate_id", Str(d, "/programme_id")},
            {"title", Bilingual(d, "title")},
            {"summary",
             {{"ja", fy + "年度 招へいプログラム（" + Str(d, "/start_date") + "〜" +
                         Str(d, "/end_date") + "）"},
              {"en", "FY" + fy + " invitation programme, " + Str(d, "/start_date") + " to " +
                         Str(d, "/end_date")}}},
            {"published_at", event.time},
            {"path", "/programmes/" + Str(d, "/programme_id")}};
  } else {
    return std::nullopt;
  }
  if (item["aggregate_id"] == "" || item["title"]["en"] == "" || item["title"]["ja"] == "") {
    throw std::invalid_argument(event.type + " lacks its id or its title in ja and en");
  }
  if (item["published_at"] == "") item["published_at"] = event.time;
  item["id"] = item["kind"].get<std::string>() + ":" + item["aggregate_id"].get<std::string>();
  item["event_id"] = event.id;
  item["event_type"] = event.type;
  return item;
}

std::string EntryId(const json& item) {
  return "tag:jilaf.or.jp,1989:" + item["kind"].get<std::string>() + "/" +
         item["aggregate_id"].get<std::string>();
}

// The newsletter texts; rendered with the same mustache engine as every notification.
constexpr const char* kIssueTitle[] = {"JILAF ニュースレター 第{{number}}号",
                                       "JILAF Newsletter No. {{number}}"};
constexpr const char* kIssueBody[] = {
    "JILAF ニュースレター 第{{number}}号（{{issued_on}}）\n\n"
    "{{#items}}■ {{title.ja}}\n{{summary.ja}}\n{{link}}\n\n{{/items}}",
    "JILAF Newsletter No. {{number}} ({{issued_on}})\n\n"
    "{{#items}}* {{title.en}}\n{{summary.en}}\n{{link}}\n\n{{/items}}"};

json RenderIssue(int locale, const json& context) {
  const auto title = Render(kIssueTitle[locale], context);
  const auto body = Render(kIssueBody[locale], context);
  return {{"title", title.text}, {"body", body.text}};
}

std::string FeedHead(const std::string& lang, const std::string& self, const std::string& updated) {
  std::string xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";
  xml += "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"" + lang + "\">\n";
  xml += "  <id>tag:jilaf.or.jp,1989:feed/" + lang + "</id>\n";
  xml += std::string("  <title>") +
         (lang == "ja" ? "国際労働財団（JILAF）のお知らせ" : "JILAF news") + "</title>\n";
  xml += "  <updated>" + util::EscapeMarkup(updated) + "</updated>\n";
  xml += "  <author><name>Japan International Labour Foundation (JILAF)</name></author>\n";
  xml += "  <link rel=\"self\" type=\"application/atom+xml\" href=\"" + util::EscapeMarkup(self) +
         "\"/>\n";
  return xml;
}

std::string FeedEntry(const json& item, const std::string& lang, const FeedOptions& options) {
  auto element = [](const char* name, const std::string& text) {
    return std::string("    <") + name + ">" + util::EscapeMarkup(text) + "</" + name + ">\n";
  };
  const std::string published = item["published_at"];
  return "  <entry>\n" + element("id", EntryId(item)) +
         element("title", item["title"][lang].get<std::string>()) + element("updated", published) +
         element("published", published) + "    <link rel=\"alternate\" href=\"" +
         util::EscapeMarkup(FeedItemLink(item, options)) + "\"/>\n" + "    <category term=\"" +
         util::EscapeMarkup(item["kind"].get<std::string>()) + "\"/>\n" +
         element("summary", item["summary"][lang].get<std::string>()) + "  </entry>\n";
}

// Queues the issue to every subscriber, each mail with its own unsubscribe link; returns how
// many were queued.
int MailIssue(store::Db& tx, const json& issue, const FeedOptions& options,
              DeliveryMetrics& metrics) {
  int mailed = 0;
  for (const auto& mailee : SubscribedMailees(tx)) {
    const std::string link = options.public_base_url + "/v1/unsubscribe?token=" + mailee.token;
    const auto& text = issue[mailee.locale];
    const std::string body =
        text["body"].get<std::string>() +
        (mailee.locale == "ja" ? "配信停止をご希望の方は次のリンクをご利用ください: "
                               : "To stop receiving this newsletter, unsubscribe: ") +
        link + "\n";
    const json content = {{"subject", text["title"]},
                          {"body", body},
                          {"headers",
                           {{"List-Unsubscribe", "<" + link + ">"},
                            {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}}}};
    if (InsertEmailDelivery(tx, "periodical:" + issue["id"].get<std::string>(), "periodical",
                            mailee.email, content, "newsletter", metrics)) {
      ++mailed;
    }
  }
  return mailed;
}

json NewIssue(const NextIssue& next, const FeedOptions& options) {
  json items = next.items;
  for (auto& item : items) item["link"] = FeedItemLink(item, options);
  const std::string now = util::NowRfc3339();
  const json context = {
      {"number", next.number}, {"issued_on", util::BusinessToday()}, {"items", items}};
  return {{"id", util::NewTimeOrderedUuid()},
          {"number", next.number},
          {"issued_at", now},
          {"items", items},
          {"ja", RenderIssue(0, context)},
          {"en", RenderIssue(1, context)}};
}

}  // namespace

std::string FeedItemLink(const json& item, const FeedOptions& options) {
  if (!options.portal_base_url.empty()) {
    return options.portal_base_url + item["path"].get<std::string>();
  }
  return options.public_base_url + "/v1/feed/" + item["id"].get<std::string>();
}

void RecordFeedItem(store::Db& tx, const events::CloudEvent& event) {
  auto item = FeedItemFor(event);
  if (!item || Tables().feed_items.Find(tx, (*item)["id"].get<std::string>())) return;
  Tables().feed_items.Insert(tx, *item);
}

http::Response AtomFeed(const http::Request& request, store::Store& store,
                        const FeedOptions& options) {
  const std::string lang = request.Query("lang").value_or("en");
  if (lang != "en" && lang != "ja") throw http::ApiError::BadRequest("lang must be en or ja");
  const auto items = store.Read([&](store::Db& db) { return NewestFeedItems(db, 50); });
  std::string updated = "1989-03-01T00:00:00Z";
  for (const auto& item : items) {
    updated = std::max(updated, item["published_at"].get<std::string>());
  }
  std::string xml = FeedHead(lang, options.public_base_url + "/v1/feed.atom?lang=" + lang, updated);
  for (const auto& item : items) xml += FeedEntry(item, lang, options);
  xml += "</feed>\n";
  http::Response response;
  response.status = 200;
  response.body = std::move(xml);
  response.SetHeader("Content-Type", "application/atom+xml; charset=utf-8");
  return response;
}

std::optional<json> IssuePeriodical(store::Store& store, const FeedOptions& options,
                                    DeliveryMetrics& metrics) {
  return store.Write([&](store::Db& tx) -> std::optional<json> {
    const NextIssue next = FeedSinceLastPeriodical(tx);
    if (next.items.empty()) return std::nullopt;
    json issue = NewIssue(next, options);
    issue["recipients"] = MailIssue(tx, issue, options, metrics);
    InsertPeriodical(tx, issue, next.last_item_seq);
    json item_ids = json::array();
    for (const auto& item : next.items) item_ids.push_back(item["id"]);
    const std::string id = issue["id"];
    Tables().events.Publish(tx,
                            {"periodical",
                             "issued",
                             id,
                             "periodicals/" + id,
                             {{"periodical_id", id},
                              {"number", next.number},
                              {"items", item_ids},
                              {"recipients", issue["recipients"]}}},
                            {});
    return issue;
  });
}

http::Response CreatePeriodical(const http::Request& request, store::Store& store,
                                const FeedOptions& options, DeliveryMetrics& metrics) {
  (void)request;
  auto issue = IssuePeriodical(store, options, metrics);
  if (!issue) {
    throw http::ApiError::Conflict("no public item appeared since the last periodical issue");
  }
  auto response = http::Response::Json(201, *issue);
  response.SetHeader("Location", Tables().periodicals.Location(*issue));
  return response;
}

http::Response GetFeedItem(const http::Request& request, store::Store& store) {
  return aggregate::Get(store, Tables().feed_items, request.Param("id"));
}

http::Response ListPeriodicals(const http::Request& request, store::Store& store) {
  const auto page = http::ParsePage(request, 20, 200);
  return http::Response::Json(200,
                              store.Read([&](store::Db& db) { return PeriodicalPage(db, page); }));
}

http::Response GetPeriodical(const http::Request& request, store::Store& store) {
  return aggregate::Get(store, Tables().periodicals, request.Param("id"));
}

}  // namespace jilaf::notifications
