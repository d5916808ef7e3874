#include "tests/e2e/contract_recorder.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>

namespace jilaf::e2e {
namespace {

void Append(const std::string& kind, const nlohmann::json& line) {
  const char* dir = std::getenv("JILAF_CONTRACT_RECORD_DIR");
  if (dir == nullptr || *dir == '\0') return;
  static std::mutex mutex;
  const std::lock_guard<std::mutex> lock(mutex);
  std::ofstream out(std::string(dir) + "/" + kind + "-" + std::to_string(::getpid()) + ".jsonl",
                    std::ios::app);
  // Bodies are not always UTF-8 JSON (feeds, raw probes): replace invalid bytes, never throw.
  out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

std::string CurrentTest() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return info == nullptr ? std::string()
                         : std::string(info->test_suite_name()) + "." + info->name();
}

}  // namespace

void RecordResponse(const std::string& service, const std::string& method,
                    const std::string& target, const testing::HttpResult& result) {
  Append("responses", {{"test", CurrentTest()},
                       {"service", service},
                       {"method", method},
                       {"target", target},
                       {"status", result.status},
                       {"content_type", result.Header("content-type")},
                       {"body", result.body}});
}

void RecordProduced(const std::string& topic, const std::string& key, const std::string& value,
                    const std::vector<std::pair<std::string, std::string>>& headers,
                    bool realistic) {
  nlohmann::json header_object = nlohmann::json::object();
  for (const auto& [name, header_value] : headers) header_object[name] = header_value;
  Append("produced", {{"test", CurrentTest()},
                      {"topic", topic},
                      {"key", key},
                      {"value", value},
                      {"headers", header_object},
                      {"realistic", realistic}});
}

}  // namespace jilaf::e2e
