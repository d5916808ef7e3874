#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "common/store/store.hpp"
#include "services/notifications/queries.hpp"
#include "services/notifications/render.hpp"

namespace jilaf::notifications {

/// A message template compiled: its subject and body parsed once per stored version.
struct MessageTemplate {
  std::string event_type;
  std::string channel;
  std::string locale;
  Template subject;
  Template body;
};

/// The enabled rules and the compiled message templates the event handler works from, kept
/// between events. Every use checks the cached copy against the store by its stamps (one indexed
/// read, no JSON parsed) and reloads what changed, so a rule or template edited through the API,
/// or by another process sharing the database, applies from the next event on.
///
/// Callers hold `mutex()` while they use what it returns; the consumer calls it from the store's
/// one writer thread, so the lock is never contended.
class Catalogue {
 public:
  [[nodiscard]] std::mutex& mutex() { return mutex_; }

  /// The enabled rules, oldest first.
  const std::vector<nlohmann::json>& EnabledRules(store::Db& tx);
  /// The enabled rules whose event_type pattern selects `type`, oldest first: matched once per
  /// type and kept until the rules change.
  const std::vector<const nlohmann::json*>& RulesFor(store::Db& tx, const std::string& type);
  /// The template of (event_type, channel, locale), or null when there is none.
  const MessageTemplate* FindMessage(store::Db& tx, const std::string& event_type,
                                     const std::string& channel, const std::string& locale);

 private:
  struct Cached {
    Stamp stamp;
    MessageTemplate message;
  };

  std::mutex mutex_;
  std::vector<Stamp> rule_stamps_;
  std::vector<nlohmann::json> rules_;
  // Event type -> the rules of `rules_` it matches; cleared whenever `rules_` is reloaded.
  std::map<std::string, std::vector<const nlohmann::json*>, std::less<>> rules_by_type_;
  std::map<std::tuple<std::string, std::string, std::string>, Cached> templates_;
};

}  // namespace jilaf::notifications
