#include "services/invitations/tables.hpp"

#include <algorithm>

#include "services/invitations/domain.hpp"

namespace jilaf::invitations {
namespace {

using aggregate::Column;
using aggregate::DocTable;
constexpr auto kInteger = Column::Type::kInteger;

}  // namespace

// Columns beside each document, copied from it on every write (identity_hash, the blind index of
// duplicates, and the follow-ups' overdue_notified are kept by queries.cpp).
const DocTable& Programmes() {
  static const DocTable table(
      {"programmes",
       "programme",
       "/v1/programmes",
       {{"fiscal_year", "fiscal_year", kInteger}, {"track", "track"}, {"status", "status"}},
       {}});
  return table;
}

const DocTable& Nominations() {
  static const DocTable table(
      {"nominations",
       "nomination",
       "/v1/nominations",
       {{"programme_id", "programme_id"},
        {"nationality", "candidate.nationality"},
        {"status", "status"},
        {"fiscal_year", "fiscal_year", kInteger},
        {"waitlist_rank", "waitlist_rank", kInteger}},
       {},
       true,
       // What a viewer's masked view shows is searchable by every
       // reader; the rest only by staff (see RenderNomination).
       {"candidate.family_name", "candidate.given_name", "candidate.native_name",
        "candidate.katakana_name", "nominating_organisation.name"},
       {"candidate.union", "candidate.position", "candidate.email"},
       {},
       // One FTS5 segment per group commit, not one per nomination (Db::AtBatchEnd).
       true});
  return table;
}

const DocTable& ItineraryItems() {
  static const DocTable table({"itinerary_items",
                               "itinerary item",
                               "/v1/itinerary",
                               {{"programme_id", "programme_id"}, {"starts_at", "starts_at"}},
                               {}});
  return table;
}

const DocTable& Logistics() {
  static const DocTable table({"logistics", "logistics", "/v1/logistics", {}, {}});
  return table;
}

const DocTable& FollowUps() {
  static const DocTable table({"followups",
                               "follow-up",
                               "/v1/followups",
                               {{"nomination_id", "nomination_id"},
                                {"months", "months", kInteger},
                                {"due_date", "due_date"},
                                {"status", "status"}},
                               {},
                               false});
  return table;
}

nlohmann::json ItemsOf(store::Db& db, const DocTable& table, const std::string& column,
                       const std::string& id, const std::string& order_by) {
  auto items = table.Where(db, {{column, id}});
  std::stable_sort(items.begin(), items.end(),
                   [&](const auto& a, const auto& b) { return a.at(order_by) < b.at(order_by); });
  return {{"items", std::move(items)}};
}

const aggregate::Publisher& Events() {
  // Version 2 of nomination and follow-up events: no names or contact details (docs/events.md).
  static const aggregate::Publisher publisher("invitations", {{"nomination", 2}, {"followup", 2}});
  return publisher;
}

const aggregate::Kind& ProgrammeKind() {
  static const aggregate::Kind kind{Programmes(), Events(), "programme"};
  return kind;
}

const aggregate::Kind& NominationKind() {
  static const aggregate::Kind kind{Nominations(), Events(), "nomination"};
  return kind;
}

const aggregate::Kind& ItineraryKind() {
  static const aggregate::Kind kind{ItineraryItems(), Events(), "itinerary_item"};
  return kind;
}

aggregate::EventFacts ProgrammeFacts(const nlohmann::json& programme, const std::string& what,
                                     const std::optional<std::string>& previous_status) {
  const std::string id = programme.at("id");
  return {"programme", what, id, "programmes/" + id,
          ProgrammeEventData(programme, previous_status)};
}

aggregate::EventFacts NominationFacts(const nlohmann::json& programme,
                                      const nlohmann::json& nomination,
                                      const std::optional<std::string>& previous_status,
                                      const nlohmann::json& extra, const std::string& what) {
  auto data = NominationEventData(programme, nomination, previous_status);
  if (extra.is_object()) data.update(extra);
  const std::string id = nomination.at("id");
  return {"nomination", what.empty() ? nomination.at("status").get<std::string>() : what, id,
          "nominations/" + id, std::move(data)};
}

aggregate::EventFacts FollowUpFacts(const nlohmann::json& followup,
                                    const nlohmann::json& nomination, const std::string& what) {
  auto data =
      aggregate::Pick(followup, {"nomination_id", "programme_id", "months", "due_date", "status"});
  data["followup_id"] = followup["id"];
  if (nomination.contains("person_id")) data["person_id"] = nomination["person_id"];
  data["fiscal_year"] = nomination.value("fiscal_year", nlohmann::json());
  data["candidate"] = aggregate::Pick(nomination.at("candidate"), {"nationality"});
  if (data.contains("person_id")) data["personal"] = PersonalEventData(nomination);
  const std::string id = followup.at("id");
  return {"followup", what, id, "followups/" + id, std::move(data)};
}

}  // namespace jilaf::invitations
