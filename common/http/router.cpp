#include "common/http/router.hpp"

#include <algorithm>
#include <stdexcept>

#include "common/http/csv.hpp"

namespace jilaf::http {
namespace {

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  if (!path.empty() && path.front() == '/') start = 1;
  while (start <= path.size()) {
    const auto slash = path.find('/', start);
    const auto end = slash == std::string_view::npos ? path.size() : slash;
    segments.push_back(path.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

bool IsCapture(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Compares first and builds the captures only for the route that matched: most routes a path is
// tried against do not match.
bool Matches(const std::vector<std::string>& pattern, const std::vector<std::string_view>& path) {
  if (pattern.size() != path.size()) return false;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (IsCapture(pattern[i]) ? path[i].empty() : pattern[i] != path[i]) return false;
  }
  return true;
}

std::unordered_map<std::string, std::string> Captures(const std::vector<std::string>& pattern,
                                                      const std::vector<std::string_view>& path) {
  std::unordered_map<std::string, std::string> params;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (IsCapture(pattern[i])) {
      params.emplace(pattern[i].substr(1, pattern[i].size() - 2), std::string(path[i]));
    }
  }
  return params;
}

}  // namespace

Router& Router::Add(Method method, std::string_view pattern, auth::Access access, Handler handler,
                    Execution execution) {
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("route template must start with '/': " + std::string(pattern));
  }
  Route route{method,    std::string(pattern), access, std::move(handler), {},
              execution, Cost::kNormal};
  for (auto segment : SplitPath(pattern)) {
    if (segment.find_first_of("{}") != std::string_view::npos && !IsCapture(segment)) {
      throw std::invalid_argument("malformed capture in route template: " + std::string(pattern));
    }
    route.segments.emplace_back(segment);
  }
  for (const auto& existing : routes_) {
    if (existing.method == method && existing.segments == route.segments) {
      throw std::invalid_argument("duplicate route: " + std::string(pattern));
    }
  }
  route.parameters = Complete(route.pattern, {});
  routes_.push_back(std::move(route));
  return *this;
}

Router& Router::Declare(const std::vector<Operation>& operations) {
  for (const auto& operation : operations) {
    const auto route = std::find_if(routes_.begin(), routes_.end(), [&](const Route& r) {
      return r.method == operation.method && r.pattern == operation.path;
    });
    if (route == routes_.end()) {
      throw std::logic_error("parameters declared for no route: " +
                             std::string(MethodName(operation.method)) + " " + operation.path);
    }
    route->parameters = Complete(operation.path, operation.parameters);
  }
  for (const auto& route : routes_) {
    const auto format = [](const Parameter& p) { return p.name == "format"; };
    if (route.tabular && std::none_of(route.parameters.begin(), route.parameters.end(), format)) {
      throw std::logic_error("list without its parameters declared: " + route.pattern);
    }
  }
  return *this;
}

Router& Router::Expensive() {
  if (routes_.empty()) throw std::logic_error("Expensive() before any route was added");
  routes_.back().cost = Cost::kExpensive;
  return *this;
}

Router& Router::Tabular() {
  if (routes_.empty()) throw std::logic_error("Tabular() before any route was added");
  auto& route = routes_.back();
  if (!route.tabular) route.handler = http::Tabular(std::move(route.handler));
  route.tabular = true;
  // A CSV answer may gather many pages: never on an io thread.
  route.execution = Execution::kWorkerPool;
  return *this;
}

Router& Router::PersonalData() {
  if (routes_.empty()) throw std::logic_error("PersonalData() before any route was added");
  routes_.back().personal_data = true;
  routes_.back().execution = Execution::kWorkerPool;
  return *this;
}

Router::Match Router::Find(Method method, std::string_view path) const {
  const auto segments = SplitPath(path);
  Match result;
  std::vector<std::string_view> allowed;
  const Route* head_fallback = nullptr;
  std::unordered_map<std::string, std::string> head_params;
  for (const auto& route : routes_) {
    if (!Matches(route.segments, segments)) continue;
    if (route.method == method) {
      result.kind = Match::Kind::kFound;
      result.route = &route;
      result.params = Captures(route.segments, segments);
      return result;
    }
    if (method == Method::kHead && route.method == Method::kGet) {
      head_fallback = &route;
      head_params = Captures(route.segments, segments);
    }
    allowed.push_back(MethodName(route.method));
  }
  if (head_fallback != nullptr) {
    result.kind = Match::Kind::kFound;
    result.route = head_fallback;
    result.params = std::move(head_params);
    return result;
  }
  if (!allowed.empty()) {
    result.kind = Match::Kind::kMethodNotAllowed;
    for (auto name : allowed) {
      if (!result.allow.empty()) result.allow += ", ";
      result.allow += name;
    }
  }
  return result;
}

}  // namespace jilaf::http
