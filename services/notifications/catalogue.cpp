#include "services/notifications/catalogue.hpp"

#include "services/notifications/routing.hpp"
#include "services/notifications/tables.hpp"

namespace jilaf::notifications {

namespace {

constexpr std::size_t kMaxIndexedTypes = 1024;

}  // namespace

const std::vector<nlohmann::json>& Catalogue::EnabledRules(store::Db& tx) {
  auto stamps = EnabledRuleStamps(tx);
  if (stamps != rule_stamps_ || rules_.size() != stamps.size()) {
    rules_ = Tables().rules.Where(tx, {{"enabled", std::int64_t{1}}});
    rule_stamps_ = std::move(stamps);
    rules_by_type_.clear();
  }
  return rules_;
}

const std::vector<const nlohmann::json*>& Catalogue::RulesFor(store::Db& tx,
                                                              const std::string& type) {
  const auto& rules = EnabledRules(tx);
  if (const auto found = rules_by_type_.find(type); found != rules_by_type_.end()) {
    return found->second;
  }
  // Types come from the topics, so a producer could send many: the index stays bounded.
  if (rules_by_type_.size() >= kMaxIndexedTypes) rules_by_type_.clear();
  std::vector<const nlohmann::json*> matching;
  for (const auto& rule : rules) {
    if (TypeMatches(rule["event_type"].get_ref<const std::string&>(), type)) {
      matching.push_back(&rule);
    }
  }
  return rules_by_type_.emplace(type, std::move(matching)).first->second;
}

const MessageTemplate* Catalogue::FindMessage(store::Db& tx, const std::string& event_type,
                                              const std::string& channel,
                                              const std::string& locale) {
  auto key = std::make_tuple(event_type, channel, locale);
  auto cached = templates_.find(key);
  const Stamp known = cached == templates_.end() ? Stamp{} : cached->second.stamp;
  auto row = FindTemplateUnless(tx, event_type, channel, locale, known);
  if (!row) {
    if (cached != templates_.end()) templates_.erase(cached);
    return nullptr;
  }
  if (row->doc) {
    const auto& doc = *row->doc;
    Cached fresh{row->stamp,
                 {event_type, channel, locale, Template(doc.value("subject", "")),
                  Template(doc.value("body", ""))}};
    cached = templates_.insert_or_assign(std::move(key), std::move(fresh)).first;
  }
  return &cached->second.message;
}

}  // namespace jilaf::notifications
