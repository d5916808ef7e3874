#pragma once

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/auth/principal.hpp"
#include "common/store/write_hook.hpp"

namespace jilaf::http {

enum class Method { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };

/// Upper-case method name ("GET"); "OTHER" for kOther.
std::string_view MethodName(Method method);
/// Maps "GET", "POST", ... to Method; anything unknown to kOther.
Method ParseMethod(std::string_view text);

struct Route;

/// The project's own request type: handlers see this, never Beast.
struct Request {
  Method method = Method::kGet;
  std::string method_text;
  std::string target;                                        // as received: path and query
  std::string path;                                          // percent-decoded path
  std::unordered_map<std::string, std::string> query;        // decoded; last value wins
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;

  // Filled by the pipeline.
  std::string request_id;
  std::string route;  // the matched route template, e.g. /v1/programmes/{id}
  std::unordered_map<std::string, std::string> params;
  const Route* matched = nullptr;  // set with route and params when the router found one
  /// The query parameters a handler asked for (Query), so that a list can refuse the ones no
  /// code read (common/http/csv.hpp).
  mutable std::vector<std::string> queried;
  auth::Principal principal;
  std::chrono::steady_clock::time_point received_at{};
  std::string remote_address;

  /// The first header with this (lower-case) name, or empty.
  [[nodiscard]] std::string_view Header(std::string_view lower_name) const;
  [[nodiscard]] bool HasHeader(std::string_view lower_name) const;
  /// A path parameter captured by the route; empty if absent.
  [[nodiscard]] const std::string& Param(const std::string& name) const;
  /// A query parameter, if present.
  [[nodiscard]] std::optional<std::string> Query(const std::string& name) const;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// When set, the body continues after `body` in chunks (`Transfer-Encoding: chunked`): the
  /// server calls it on the worker pool for each next piece, writes that piece before asking for
  /// another, and ends the body at nullopt. A throw ends the connection without the last chunk,
  /// so the client sees a cut transfer, never a short but complete one.
  std::function<std::optional<std::string>()> stream;

  /// A JSON body with `application/json`.
  static Response Json(int status, const nlohmann::json& body);
  /// A body that is already serialised JSON (e.g. a document as stored), with `application/json`.
  static Response JsonText(int status, std::string body);
  /// No body.
  static Response Empty(int status);

  Response& SetHeader(std::string name, std::string value);
  [[nodiscard]] std::string_view Header(std::string_view name) const;
};

/// What a store write hook (the audit row) learns of a write that answered `response`; found by
/// argument-dependent lookup from store::WithWriteHook.
inline store::JobOutcome DescribeOutcome(const Response& response) {
  return {response.status, response.body, {}};
}

}  // namespace jilaf::http
