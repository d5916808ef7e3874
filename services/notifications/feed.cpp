#include "services/notifications/feed.hpp"

#include <openssl/rand.h>

#include "common/events/outbox.hpp"
#include "common/http/idempotency.hpp"
#include "common/http/json_input.hpp"
#include "common/http/problem.hpp"
#include "common/http/resource.hpp"
#include "common/store/json_doc.hpp"
#include "common/util/clock.hpp"
#include "common/util/text.hpp"
#include "services/notifications/render.hpp"
#include "services/notifications/schema.hpp"

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
  } else if (event.type == "jilaf.invitations.programme.created" && Str(d, "/status") == "open") {
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

std::string RandomToken() {
  unsigned char bytes[24];
  RAND_bytes(bytes, sizeof bytes);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
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

}  // namespace

void RecordFeedItem(store::Db& tx, const events::CloudEvent& event) {
  auto item = FeedItemFor(event);
  if (!item) return;
  auto insert = tx.Prepare(
      "INSERT OR IGNORE INTO feed_items(id, event_id, published_at, doc) VALUES (?, ?, ?, ?)");
  insert.Bind(1, (*item)["id"].get<std::string>())
      .Bind(2, event.id)
      .Bind(3, (*item)["published_at"].get<std::string>())
      .Bind(4, item->dump());
  insert.Run();
}

http::Response AtomFeed(const http::Request& request, store::Store& store,
                        const FeedOptions& options) {
  const std::string lang = request.Query("lang").value_or("en");
  if (lang != "en" && lang != "ja") throw http::ApiError::BadRequest("lang must be en or ja");
  std::vector<json> items = store.Read([&](store::Db& db) {
    std::vector<json> out;
    auto stmt =
        db.Prepare("SELECT doc FROM feed_items ORDER BY published_at DESC, seq DESC LIMIT 50");
    while (stmt.Step()) out.push_back(json::parse(stmt.Text(0)));
    return out;
  });
  const std::string self = options.public_base_url + "/v1/feed.atom?lang=" + lang;
  std::string updated = "1989-03-01T00:00:00Z";
  for (const auto& item : items)
    updated = std::max(updated, item["published_at"].get<std::string>());
  std::string xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";
  xml += "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"" + lang + "\">\n";
  xml += "  <id>tag:jilaf.or.jp,1989:feed/" + lang + "</id>\n";
  xml += std::string("  <title>") +
         (lang == "ja" ? "国際労働財団（JILAF）のお知らせ" : "JILAF news") + "</title>\n";
  xml += "  <updated>" + util::EscapeMarkup(updated) + "</updated>\n";
  xml += "  <author><name>Japan International Labour Foundation (JILAF)</name></author>\n";
  xml += "  <link rel=\"self\" type=\"application/atom+xml\" href=\"" + util::EscapeMarkup(self) +
         "\"/>\n";
  for (const auto& item : items) {
    xml += "  <entry>\n";
    xml += "    <id>" + util::EscapeMarkup(EntryId(item)) + "</id>\n";
    xml +=
        "    <title>" + util::EscapeMarkup(item["title"][lang].get<std::string>()) + "</title>\n";
    xml += "    <updated>" + util::EscapeMarkup(item["published_at"].get<std::string>()) +
           "</updated>\n";
    xml += "    <published>" + util::EscapeMarkup(item["published_at"].get<std::string>()) +
           "</published>\n";
    xml += "    <link rel=\"alternate\" href=\"" +
           util::EscapeMarkup(options.public_base_url + item["path"].get<std::string>()) + "\"/>\n";
    xml += "    <category term=\"" + util::EscapeMarkup(item["kind"].get<std::string>()) + "\"/>\n";
    xml += "    <summary>" + util::EscapeMarkup(item["summary"][lang].get<std::string>()) +
           "</summary>\n";
    xml += "  </entry>\n";
  }
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
    auto last = tx.Prepare(
        "SELECT COALESCE(MAX(last_item_seq), 0), COALESCE(MAX(number), 0) FROM periodicals");
    if (!last.Step()) return std::nullopt;
    const std::int64_t after = last.Int(0);
    const std::int64_t number = last.Int(1) + 1;
    auto stmt = tx.Prepare("SELECT seq, doc FROM feed_items WHERE seq > ? ORDER BY seq");
    stmt.Bind(1, after);
    json items = json::array();
    std::int64_t last_seq = after;
    while (stmt.Step()) {
      json item = json::parse(stmt.Text(1));
      item["link"] = options.public_base_url + item["path"].get<std::string>();
      items.push_back(std::move(item));
      last_seq = stmt.Int(0);
    }
    if (items.empty()) return std::nullopt;
    const std::string now = util::NowRfc3339();
    const json context = {{"number", number}, {"issued_on", now.substr(0, 10)}, {"items", items}};
    const std::string id = events::NewTimeOrderedUuid();
    json issue = {{"id", id},
                  {"number", number},
                  {"issued_at", now},
                  {"items", items},
                  {"ja", RenderIssue(0, context)},
                  {"en", RenderIssue(1, context)}};
    auto subscribers = tx.Prepare(
        "SELECT email, token, doc FROM subscribers WHERE status = 'subscribed' ORDER BY seq");
    int mailed = 0;
    while (subscribers.Step()) {
      const std::string email = subscribers.Text(0);
      const std::string link =
          options.public_base_url + "/v1/unsubscribe?token=" + subscribers.Text(1);
      const std::string locale = json::parse(subscribers.Text(2)).value("locale", "en");
      const auto& text = issue[locale];
      const std::string body =
          text["body"].get<std::string>() +
          (locale == "ja" ? "配信停止をご希望の方は次のリンクをご利用ください: "
                          : "To stop receiving this newsletter, unsubscribe: ") +
          link + "\n";
      const json headers = {{"List-Unsubscribe", "<" + link + ">"},
                            {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}};
      if (InsertEmailDelivery(tx, "periodical:" + id, "periodical", email, text["title"], body,
                              headers, "newsletter", metrics)) {
        ++mailed;
      }
    }
    issue["recipients"] = mailed;
    auto insert =
        tx.Prepare("INSERT INTO periodicals(id, number, last_item_seq, doc) VALUES (?, ?, ?, ?)");
    insert.Bind(1, id).Bind(2, number).Bind(3, last_seq).Bind(4, issue.dump());
    insert.Run();
    json item_ids = json::array();
    for (const auto& item : items) item_ids.push_back(item["id"]);
    events::AppendToOutbox(
        tx, std::string(kEventsTopic),
        events::MakeEvent(std::string(kEventSource), "jilaf.notifications.periodical.issued", id,
                          "periodicals/" + id, "/schemas/notifications/periodical.issued/v1.json",
                          {{"periodical_id", id},
                           {"number", number},
                           {"items", item_ids},
                           {"recipients", mailed}}));
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
  response.SetHeader("Location", "/v1/periodicals/" + (*issue)["id"].get<std::string>());
  return response;
}

http::Response ListPeriodicals(const http::Request& request, store::Store& store) {
  const auto page = http::ParsePage(request, 20, 100);
  return store.Read([&](store::Db& db) {
    auto stmt =
        db.Prepare("SELECT seq, doc FROM periodicals WHERE seq < ? ORDER BY seq DESC LIMIT ?");
    stmt.Bind(1, page.after.value_or(INT64_MAX)).Bind(2, page.page_size + 1);
    return http::Response::Json(200, http::CollectPage(stmt, page.page_size));
  });
}

http::Response GetPeriodical(const http::Request& request, store::Store& store) {
  const auto& id = request.Param("id");
  auto doc = store.Read([&](store::Db& db) {
    return store::LoadJsonDoc(db, "SELECT doc FROM periodicals WHERE id = ?", id);
  });
  if (!doc) throw http::ApiError::NotFound("no periodical with id " + id);
  return http::Response::Json(200, *doc);
}

http::Response CreateSubscriber(const http::Request& request, store::Store& store) {
  const json body = http::ParseJsonBody(request);
  http::ObjectReader in(body);
  const std::string email = in.RequiredEmail("email");
  const std::string locale = in.OptionalEnum("locale", {"ja", "en"}).value_or("en");
  json consent;
  if (auto c = in.Object("consent", true)) {
    const auto given = c->OptionalBool("given");
    if (!given || !*given) c->AddError("given", "must be true: mail goes only to recorded opt-ins");
    consent = {{"given", true},
               {"method", c->RequiredString("method", 1, 200)},
               {"recorded_by", request.principal.subject}};
    c->RejectUnknownFields();
  }
  in.Finish();
  return store.Write([&](store::Db& tx) {
    return http::RunIdempotent(tx, request, [&] {
      auto existing =
          tx.Prepare("SELECT 1 FROM subscribers WHERE email = ? AND status = 'subscribed'");
      existing.Bind(1, email);
      if (existing.Step()) throw http::ApiError::Conflict(email + " is already subscribed");
      const std::string id = events::NewTimeOrderedUuid();
      const std::string now = util::NowRfc3339();
      consent["recorded_at"] = now;
      const json doc = {{"id", id},           {"email", email},
                        {"locale", locale},   {"status", "subscribed"},
                        {"consent", consent}, {"created_at", now}};
      auto upsert = tx.Prepare(
          "INSERT INTO subscribers(id, email, token, status, doc) VALUES (?, ?, ?, 'subscribed', ?)"
          " ON CONFLICT(email) DO UPDATE SET id = excluded.id, token = excluded.token,"
          " status = 'subscribed', doc = excluded.doc");
      upsert.Bind(1, id).Bind(2, email).Bind(3, RandomToken()).Bind(4, doc.dump());
      upsert.Run();
      events::AppendToOutbox(
          tx, std::string(kEventsTopic),
          events::MakeEvent(std::string(kEventSource), "jilaf.notifications.subscriber.subscribed",
                            id, "subscribers/" + id,
                            "/schemas/notifications/subscriber.subscribed/v1.json",
                            {{"subscriber_id", id}, {"locale", locale}},
                            std::string(request.Header("traceparent"))));
      auto response = http::Response::Json(201, doc);
      response.SetHeader("Location", "/v1/subscribers/" + id);
      return response;
    });
  });
}

http::Response Unsubscribe(const http::Request& request, store::Store& store) {
  const auto token = request.Query("token");
  if (!token || token->empty())
    throw http::ApiError::BadRequest("query parameter token is required");
  const bool done = store.Write([&](store::Db& tx) {
    auto found = tx.Prepare("SELECT id, status, doc FROM subscribers WHERE token = ?");
    found.Bind(1, *token);
    if (!found.Step()) return false;
    const std::string id = found.Text(0);
    if (found.Text(1) == "unsubscribed") return true;  // a second click changes nothing
    json doc = json::parse(found.Text(2));
    doc["status"] = "unsubscribed";
    doc["unsubscribed_at"] = util::NowRfc3339();
    auto update =
        tx.Prepare("UPDATE subscribers SET status = 'unsubscribed', doc = ? WHERE id = ?");
    update.Bind(1, doc.dump()).Bind(2, id);
    update.Run();
    events::AppendToOutbox(
        tx, std::string(kEventsTopic),
        events::MakeEvent(std::string(kEventSource), "jilaf.notifications.subscriber.unsubscribed",
                          id, "subscribers/" + id,
                          "/schemas/notifications/subscriber.unsubscribed/v1.json",
                          {{"subscriber_id", id}}));
    return true;
  });
  if (!done) throw http::ApiError::NotFound("unknown or expired unsubscribe token");
  return http::Response::Json(200, {{"status", "unsubscribed"},
                                    {"message",
                                     "You will receive no further newsletters. "
                                     "今後ニュースレターは配信されません。"}});
}

}  // namespace jilaf::notifications
