#include "common/http/csv.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <vector>

#include "common/http/problem.hpp"

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

Response CsvResponse(const Request& request, const nlohmann::json& items,
                     const nlohmann::json& next) {
  Response response;
  response.status = 200;
  response.body = ToCsv(items);
  response.SetHeader("Content-Type", "text/csv; charset=utf-8");
  response.SetHeader("Vary", "Accept");
  std::string name = request.path.substr(request.path.find_last_of('/') + 1);
  response.SetHeader("Content-Disposition", "attachment; filename=\"" + name + ".csv\"");
  if (next.is_string()) {
    response.SetHeader("Link", "<" + WithQuery(request, "page_token", next.get<std::string>()) +
                                   ">; rel=\"next\"");
  }
  return response;
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

std::string ToCsv(const nlohmann::json& items) {
  std::vector<std::string> columns;
  std::vector<std::map<std::string, std::string>> rows;
  for (const auto& item : items) {
    std::vector<std::pair<std::string, std::string>> cells;
    Flatten(item, "", cells);
    auto& row = rows.emplace_back();
    for (auto& [column, text] : cells) {
      if (std::find(columns.begin(), columns.end(), column) == columns.end()) {
        columns.push_back(column);
      }
      row[column] = std::move(text);
    }
  }
  std::string out(kBom);
  for (std::size_t i = 0; i < columns.size(); ++i) {
    out += (i ? "," : "") + CsvQuote(Neutralised(columns[i]));
  }
  out += "\r\n";
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < columns.size(); ++i) {
      const auto it = row.find(columns[i]);
      out += (i ? "," : "") + (it == row.end() ? std::string() : CsvQuote(it->second));
    }
    out += "\r\n";
  }
  return out;
}

Handler Tabular(Handler list) {
  return [list = std::move(list)](Request& request) -> Response {
    if (!WantsCsv(request)) return list(request);
    Request page = request;
    const bool one_page = request.Query("page_size") || request.Query("page_token");
    if (!one_page) page.query["page_size"] = std::to_string(kPageSize);
    nlohmann::json items = nlohmann::json::array();
    while (true) {
      auto response = list(page);
      if (response.status != 200) return response;
      auto body = nlohmann::json::parse(response.body);
      for (auto& item : body["items"]) items.push_back(std::move(item));
      const auto next = body.value("next_page_token", nlohmann::json());
      if (one_page || !next.is_string() || items.size() >= kMaxCsvRows) {
        return CsvResponse(request, items, next);
      }
      page.query["page_token"] = next.get<std::string>();
    }
  };
}

}  // namespace jilaf::http
