#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/aggregate/sequences.hpp"
#include "common/store/store.hpp"
#include "services/projects/rules.hpp"

// The records of the projects service, declared once: every aggregate is a row holding its JSON
// document, with the filter columns SQLite generates from it (so filters never disagree with the
// document); one publisher for every event of the service.
namespace jilaf::projects {

/// Tables of the projects service.
store::MigrationSet Migrations();

struct ProjectTables {
  ProjectTables();

  aggregate::Publisher events;
  aggregate::DocTable partners;
  aggregate::DocTable projects;
  aggregate::DocTable reviews;
  aggregate::DocTable amendments;
  aggregate::DocTable tranches;
  aggregate::DocTable reports;
  aggregate::DocTable dispatches;
  aggregate::DocTable indicators;

  aggregate::Kind partner;
  aggregate::Kind project;
  aggregate::Kind review;
  aggregate::Kind amendment;
  aggregate::Kind tranche;
  aggregate::Kind report;
  aggregate::Kind dispatch;
  aggregate::Kind indicator;
};

/// The one instance.
const ProjectTables& Tables();

/// The facts of an event about `doc` of `kind`, keyed by its project (its own id for partners
/// and projects), so that a project's events stay in order.
aggregate::EventFacts Facts(const aggregate::Kind& kind, std::string what,
                            const nlohmann::json& doc, nlohmann::json data);

/// An event payload: the members `keys` of `doc` (those present) and its id as `id_name`.
nlohmann::json Payload(const nlohmann::json& doc, const char* id_name,
                       std::initializer_list<const char*> keys);

/// The payload of a kind's events, from its document (reading its project where needed).
using DataOf = std::function<nlohmann::json(store::Db&, const nlohmann::json& doc)>;
/// Emits `jilaf.projects.<kind>.<what>` about the stored document.
aggregate::Announce Announce(const aggregate::Kind& kind, std::string what, DataOf data);
/// The moves of `kind` under `machine`, each announced as its new status with `from` in the
/// payload (and `comment`, the reason, when `comment` is given).
aggregate::Lifecycle Moves(const aggregate::Kind& kind, const domain::StateMachine& machine,
                           DataOf data, std::optional<std::string> comment = std::nullopt);

/// The project a child document (tranche, report...) belongs to.
nlohmann::json ProjectOf(store::Db& db, const nlohmann::json& child);

/// The project's tranches as far as money is concerned.
std::vector<rules::TrancheMoney> TrancheMoneyOf(store::Db& db, const std::string& project_id);
/// Report documents as reporting obligations.
std::vector<rules::ReportDue> ReportsDue(const std::vector<nlohmann::json>& reports);

}  // namespace jilaf::projects
