#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/auth/principal.hpp"
#include "common/http/message.hpp"
#include "common/http/parameters.hpp"

namespace jilaf::http {

/// A handler maps a parsed, authenticated request to a response, or throws ApiError. It runs on
/// the service's worker pool, so it may block on the store; it never sees a socket.
using Handler = std::function<Response(Request&)>;

enum class RouteExecution { kWorkerPool, kIoThread };
enum class RouteCost { kNormal, kExpensive };

/// One registered route (Router::Route).
struct Route {
  Method method;
  std::string pattern;
  auth::Access access;
  Handler handler;
  std::vector<std::string> segments;  // "{id}" kept as is
  RouteExecution execution = RouteExecution::kWorkerPool;
  RouteCost cost = RouteCost::kNormal;
  bool tabular = false;        // answers CSV too (Router::Tabular)
  bool personal_data = false;  // a read that discloses personal data (Router::PersonalData)
  /// The query and path parameters it accepts (Router::Declare); by default its `{name}`
  /// captures as text and no query parameter.
  std::vector<Parameter> parameters = {};
};

/// Routes by method and path template. Templates are literal segments and `{name}` captures,
/// e.g. `/v1/programmes/{id}/nominations`. Every route names the access it requires.
class Router {
 public:
  /// Where a route's handler runs. The worker pool is always safe. kIoThread skips two thread
  /// hand-offs per request and is for handlers that never block: short reads through
  /// store::Store::Read (which never waits for the writer), no store writes, no network calls.
  using Execution = RouteExecution;
  /// What a route costs its caller's rate limit (common/http/rate_limit.hpp).
  using Cost = RouteCost;

  using Route = http::Route;

  struct Match {
    enum class Kind { kFound, kNotFound, kMethodNotAllowed };
    Kind kind = Kind::kNotFound;
    const Route* route = nullptr;
    std::unordered_map<std::string, std::string> params;
    std::string allow;  // for kMethodNotAllowed: "GET, POST"
  };

  /// Registers a route. Throws std::invalid_argument on a malformed template or a duplicate.
  Router& Add(Method method, std::string_view pattern, auth::Access access, Handler handler,
              Execution execution = Execution::kWorkerPool);
  /// Marks the route added last as expensive (reports, exports, scans): it draws on the stricter
  /// `expensive` rate limit. Use as `router.Add(...).Expensive();`.
  Router& Expensive();
  /// Marks the route added last as a list that also answers CSV (common/http/csv.hpp): `Accept:
  /// text/csv` or `?format=csv`. Use as `router.Add(...).Tabular();`.
  Router& Tabular();
  /// Marks the route added last as a read of personal data (a nomination's full view, letters,
  /// travel details): audit::Instrument records each such read in the audit log, as it does
  /// every write. Such a route runs on the worker pool (its audit row is a store write).
  Router& PersonalData();

  /// Gives each operation's route its parameters (common/http/parameters.hpp), checked by the
  /// pipeline before the handler runs. Throws std::logic_error for an operation that is no
  /// route, or when a Tabular list is left without its `format`.
  Router& Declare(const std::vector<Operation>& operations);

  /// Finds the route for a path; HEAD falls back to GET.
  [[nodiscard]] Match Find(Method method, std::string_view path) const;

  [[nodiscard]] const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace jilaf::http
