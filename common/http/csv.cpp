#include "common/http/csv.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include "common/auth/jwt.hpp"
#include "common/http/problem.hpp"
#include "common/util/digest.hpp"

namespace jilaf::http {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr std::int64_t kPageSize = 200;

// Text a spreadsheet would run as a formula gets a leading ' (numbers are left as numbers).
std::string Neutralised(std::string text) {
  if (!text.empty() && (text[0] == '=' || text[0] == '+' || text[0] == '-' || text[0] == '@' ||
                        text[0] == '\t' || text[0] == '\r')) {
    text.insert(0, "'");
  }
  return text;
}

void Flatten(const nlohmann::json& value, const std::string& prefix,
             std::vector<std::pair<std::string, std::string>>& cells) {
  if (value.is_object() && !value.empty()) {
    for (const auto& [key, child] : value.items()) {
      Flatten(child, prefix.empty() ? key : prefix + "." + key, cells);
    }
    return;
  }
  std::string text;
  if (value.is_string()) {
    text = Neutralised(value.get<std::string>());
  } else if (value.is_array() && std::all_of(value.begin(), value.end(),
                                             [](const auto& v) { return v.is_primitive(); })) {
    for (const auto& element : value) {
      text += (text.empty() ? "" : "; ") +
              (element.is_string() ? element.get<std::string>() : element.dump());
    }
    text = Neutralised(std::move(text));
  } else if (!value.is_null()) {
    text = value.is_primitive() ? value.dump() : Neutralised(value.dump());
  }
  cells.emplace_back(prefix, std::move(text));
}

std::string WithQuery(const Request& request, const std::string& name, const std::string& value) {
  std::string target = request.path + "?";
  auto query = request.query;
  query[name] = value;
  std::map<std::string, std::string> ordered(query.begin(), query.end());
  bool first = true;
  for (const auto& [key, text] : ordered) {
    if (!first) target += "&";
    first = false;
    target += key + "=";
    for (unsigned char c : text) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
        target += static_cast<char>(c);
      } else {
        static constexpr char kHex[] = "0123456789ABCDEF";
        target += '%';
        target += kHex[c >> 4];
        target += kHex[c & 15];
      }
    }
  }
  return target;
}

}  // namespace

std::string CsvQuote(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

bool WantsCsv(const Request& request) {
  if (const auto format = request.Query("format")) {
    if (*format == "csv") return true;
    if (*format == "json") return false;
    throw ApiError::BadRequest("query parameter format must be csv or json")
        .With("field", "format");
  }
  return request.Header("accept").find("text/csv") != std::string_view::npos;
}

namespace {

// The columns of `items` not in `columns` yet, appended in the order first seen.
void AddColumns(const nlohmann::json& items, std::vector<std::string>& columns) {
  for (const auto& item : items) {
    std::vector<std::pair<std::string, std::string>> cells;
    Flatten(item, "", cells);
    for (const auto& cell : cells) {
      if (std::find(columns.begin(), columns.end(), cell.first) == columns.end()) {
        columns.push_back(cell.first);
      }
    }
  }
}

std::string HeaderLine(const std::vector<std::string>& columns) {
  std::string out;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    out += (i ? "," : "") + CsvQuote(Neutralised(columns[i]));
  }
  return out + "\r\n";
}

// The rows of `items` under `columns`; throws when an item has a member the header lacks.
std::string RowLines(const nlohmann::json& items, const std::vector<std::string>& columns) {
  std::string out;
  for (const auto& item : items) {
    std::vector<std::pair<std::string, std::string>> cells;
    Flatten(item, "", cells);
    std::map<std::string, std::string> row;
    for (auto& [column, text] : cells) {
      if (std::find(columns.begin(), columns.end(), column) == columns.end()) {
        throw std::runtime_error("CSV row has a column the header lacks: " + column);
      }
      row[column] = std::move(text);
    }
    for (std::size_t i = 0; i < columns.size(); ++i) {
      const auto it = row.find(columns[i]);
      out += (i ? "," : "") + (it == row.end() ? std::string() : CsvQuote(it->second));
    }
    out += "\r\n";
  }
  return out;
}

// The list and its query minus paging and notation: what a page token is bound to.
std::string QueryFingerprint(const Request& request) {
  std::map<std::string, std::string> ordered;
  for (const auto& [name, value] : request.query) {
    if (name != "page_token" && name != "page_size" && name != "format") ordered[name] = value;
  }
  std::string text = request.path + "\n";
  for (const auto& [name, value] : ordered) text += name + "=" + value + "\n";
  return util::Sha256Hex(text).substr(0, 16);
}

constexpr std::string_view kBoundPrefix = "t:";

std::string BindToken(const std::string& fingerprint, const std::string& token) {
  return auth::Base64UrlEncode(std::string(kBoundPrefix) + fingerprint + ":" + token);
}

// The handler's own token inside a token this wrapper issued for the same query; 400 naming
// page_token otherwise.
void UnbindToken(Request& request) {
  const auto it = request.query.find("page_token");
  if (it == request.query.end() || it->second.empty()) return;
  std::string decoded;
  if (!auth::Base64UrlDecode(it->second, decoded) || !decoded.starts_with(kBoundPrefix) ||
      decoded.size() < kBoundPrefix.size() + 17 || decoded[kBoundPrefix.size() + 16] != ':') {
    throw ApiError::BadRequest("page_token is not a token this API issued")
        .With("field", "page_token");
  }
  if (decoded.substr(kBoundPrefix.size(), 16) != QueryFingerprint(request)) {
    throw ApiError::BadRequest(
        "page_token belongs to another query (other filters or words); start again without it")
        .With("field", "page_token");
  }
  it->second = decoded.substr(kBoundPrefix.size() + 17);
}

// 400 naming the first query parameter that the list handler never read.
void RequireRead(const Request& original, const Request& served) {
  for (const auto& [name, value] : original.query) {
    (void)value;
    if (name.empty() || name == "page_size" || name == "page_token" || name == "format") continue;
    if (std::find(served.queried.begin(), served.queried.end(), name) != served.queried.end()) {
      continue;
    }
    std::string known;
    for (const auto& read : served.queried) {
      if (read == "format" || read == "page_size" || read == "page_token") continue;
      known += (known.empty() ? "" : ", ") + read;
    }
    throw ApiError::BadRequest("unknown query parameter " + name + "; this list accepts " +
                               (known.empty() ? "" : known + ", ") +
                               "page_size, page_token, format")
        .With("field", name);
  }
}

// Rewrites the handler's `next_page_token` in a JSON page body into one bound to the query.
void BindNextToken(Response& response, const std::string& fingerprint) {
  // Object members are serialised in name order, so the page's own member comes after `items`.
  static constexpr std::string_view kMember = "\"next_page_token\":\"";
  const auto at = response.body.rfind(kMember);
  if (at == std::string::npos) return;
  const auto begin = at + kMember.size();
  const auto end = response.body.find('"', begin);
  if (end == std::string::npos) return;
  response.body.replace(begin, end - begin,
                        BindToken(fingerprint, response.body.substr(begin, end - begin)));
}

Response CsvHead(const Request& request) {
  Response response;
  response.status = 200;
  response.SetHeader("Content-Type", "text/csv; charset=utf-8");
  response.SetHeader("Vary", "Accept");
  std::string name = request.path.substr(request.path.find_last_of('/') + 1);
  response.SetHeader("Content-Disposition", "attachment; filename=\"" + name + ".csv\"");
  return response;
}

// A whole list as a streamed CSV: a first pass over the pages finds the columns (only their
// names are kept), a second writes the rows one page per chunk. Memory holds one page at a time
// whatever the list's length.
struct CsvStream {
  Handler list;
  Request page;
  std::vector<std::string> columns;
  std::optional<std::string> token;  // the next page of the current pass
  bool counting = true;              // first pass: columns only
  bool done = false;

  nlohmann::json Next() {
    if (token) {
      page.query["page_token"] = *token;
    } else {
      page.query.erase("page_token");
    }
    const auto response = list(page);
    if (response.status != 200) {
      throw std::runtime_error("a page of the CSV answered " + std::to_string(response.status));
    }
    auto body = nlohmann::json::parse(response.body);
    const auto next = body.value("next_page_token", nlohmann::json());
    token = next.is_string() ? std::optional<std::string>(next.get<std::string>()) : std::nullopt;
    return std::move(body["items"]);
  }

  std::optional<std::string> operator()() {
    if (done) return std::nullopt;
    if (counting) {
      AddColumns(Next(), columns);
      if (!token) counting = false;
      if (counting) return std::string();  // more columns to look for
      return std::string(kBom) + HeaderLine(columns);
    }
    auto rows = RowLines(Next(), columns);
    done = !token;
    return rows;
  }
};

}  // namespace

std::string ToCsv(const nlohmann::json& items) {
  std::vector<std::string> columns;
  AddColumns(items, columns);
  return std::string(kBom) + HeaderLine(columns) + RowLines(items, columns);
}

Handler Tabular(Handler list) {
  return [list = std::move(list)](Request& request) -> Response {
    const std::string fingerprint = QueryFingerprint(request);
    Request page = request;
    UnbindToken(page);
    if (!WantsCsv(request)) {
      auto response = list(page);
      if (response.status != 200) return response;
      RequireRead(request, page);
      BindNextToken(response, fingerprint);
      return response;
    }
    const bool one_page = request.Query("page_size") || request.Query("page_token");
    if (!one_page) page.query["page_size"] = std::to_string(kPageSize);
    auto first = list(page);
    if (first.status != 200) return first;
    RequireRead(request, page);
    auto body = nlohmann::json::parse(first.body);
    const auto next = body.value("next_page_token", nlohmann::json());
    auto response = CsvHead(request);
    if (one_page || !next.is_string()) {
      response.body = ToCsv(body["items"]);
      if (next.is_string()) {
        response.SetHeader("Link", "<" +
                                       WithQuery(request, "page_token",
                                                 BindToken(fingerprint, next.get<std::string>())) +
                                       ">; rel=\"next\"");
      }
      return response;
    }
    auto stream = std::make_shared<CsvStream>();
    stream->list = list;
    stream->page = std::move(page);
    AddColumns(body["items"], stream->columns);
    stream->token = next.get<std::string>();
    response.stream = [stream] { return (*stream)(); };
    return response;
  };
}

}  // namespace jilaf::http
