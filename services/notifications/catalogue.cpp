#include "services/notifications/catalogue.hpp"

#include "services/notifications/tables.hpp"

namespace jilaf::notifications {

const std::vector<nlohmann::json>& Catalogue::EnabledRules(store::Db& tx) {
  auto stamps = EnabledRuleStamps(tx);
  if (stamps != rule_stamps_ || rules_.size() != stamps.size()) {
    rules_ = Tables().rules.Where(tx, {{"enabled", std::int64_t{1}}});
    rule_stamps_ = std::move(stamps);
  }
  return rules_;
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
