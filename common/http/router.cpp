#include "common/http/router.hpp"

#include <stdexcept>

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

}  // namespace

Router& Router::Add(Method method, std::string_view pattern, auth::Access access, Handler handler) {
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("route template must start with '/': " + std::string(pattern));
  }
  Route route{method, std::string(pattern), access, std::move(handler), {}, Cost::kNormal};
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
  routes_.push_back(std::move(route));
  return *this;
}

Router& Router::Expensive() {
  if (routes_.empty()) throw std::logic_error("Expensive() before any route was added");
  routes_.back().cost = Cost::kExpensive;
  return *this;
}

Router::Match Router::Find(Method method, std::string_view path) const {
  const auto segments = SplitPath(path);
  Match result;
  std::vector<std::string_view> allowed;
  const Route* head_fallback = nullptr;
  std::unordered_map<std::string, std::string> head_params;
  for (const auto& route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    std::unordered_map<std::string, std::string> params;
    bool matches = true;
    for (std::size_t i = 0; i < segments.size() && matches; ++i) {
      const auto& expected = route.segments[i];
      if (IsCapture(expected)) {
        if (segments[i].empty()) {
          matches = false;
        } else {
          params.emplace(expected.substr(1, expected.size() - 2), std::string(segments[i]));
        }
      } else if (expected != segments[i]) {
        matches = false;
      }
    }
    if (!matches) continue;
    if (route.method == method) {
      result.kind = Match::Kind::kFound;
      result.route = &route;
      result.params = std::move(params);
      return result;
    }
    if (method == Method::kHead && route.method == Method::kGet) {
      head_fallback = &route;
      head_params = params;
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
