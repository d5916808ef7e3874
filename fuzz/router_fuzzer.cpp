// The router over the real route tables: every path and method of the four services' OpenAPI
// documents. Input: one byte choosing the method, the rest a path; with the high bit set the
// path is also tried as a route template.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "common/http/router.hpp"

namespace {

using namespace jilaf;

http::Router router;

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

// The path a match stands for: its template with every capture replaced by its value.
std::string Rebuild(const http::Router::Route& route,
                    const std::unordered_map<std::string, std::string>& params) {
  std::string out;
  for (const auto& segment : route.segments) {
    out += '/';
    if (segment.size() > 2 && segment.front() == '{' && segment.back() == '}') {
      out += params.at(segment.substr(1, segment.size() - 2));
    } else {
      out += segment;
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  for (const char* service : {"invitations", "projects", "missions", "notifications"}) {
    std::ifstream in(std::string(JILAF_SOURCE_DIR) + "/services/" + service + "/openapi.json");
    const auto doc = nlohmann::json::parse(in, nullptr, false);
    if (!doc.is_object() || !doc.contains("paths")) continue;
    for (const auto& [path, item] : doc["paths"].items()) {
      for (const auto& [method, operation] : item.items()) {
        std::string upper = method;
        for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        const auto parsed = http::ParseMethod(upper);
        if (parsed == http::Method::kOther) continue;
        try {
          router.Add(parsed, path, auth::Access::kRead,
                     [](http::Request&) { return http::Response::Empty(204); });
        } catch (const std::invalid_argument&) {
          // the same template in two services' documents: once is enough
        }
      }
    }
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static constexpr http::Method kMethods[] = {
      http::Method::kGet,   http::Method::kHead,   http::Method::kPost,    http::Method::kPut,
      http::Method::kPatch, http::Method::kDelete, http::Method::kOptions, http::Method::kOther};
  const auto method = kMethods[data[0] % 8];
  const std::string path(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto match = router.Find(method, path);
  if (match.kind == http::Router::Match::Kind::kFound) {
    Require(match.route != nullptr, "a found match names its route");
    const std::string expected = path.empty() || path.front() != '/' ? "/" + path : path;
    Require(Rebuild(*match.route, match.params) == expected,
            "the template with its captures filled in is the path");
    for (const auto& [name, value] : match.params) {
      Require(!value.empty(), "captured parameters are not empty");
      Require(value.find('/') == std::string::npos, "a capture stays within its segment");
    }
  } else if (match.kind == http::Router::Match::Kind::kMethodNotAllowed) {
    Require(!match.allow.empty(), "405 names the allowed methods");
  }
  if (data[0] & 0x80) {
    http::Router own;
    try {
      own.Add(method, path, auth::Access::kPublic,
              [](http::Request&) { return http::Response::Empty(204); });
      (void)own.Find(method, path);
    } catch (const std::invalid_argument&) {
      // a malformed template is refused at start-up: expected
    }
  }
  return 0;
}
