#include "common/domain/state_machine.hpp"

#include <nlohmann/json.hpp>

#include "common/domain/error.hpp"

namespace jilaf::domain {

StateMachine::StateMachine(std::string what, std::initializer_list<Edge> edges)
    : what_(std::move(what)) {
  for (const auto& edge : edges) {
    states_.insert(edge.from);
    for (const auto& to : edge.to) {
      edges_[edge.from].insert(to);
      states_.insert(to);
    }
  }
}

bool StateMachine::Allows(const std::string& from, const std::string& to) const {
  const auto it = edges_.find(from);
  return it != edges_.end() && it->second.count(to) != 0;
}

std::vector<std::string> StateMachine::Next(const std::string& from) const {
  const auto it = edges_.find(from);
  if (it == edges_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

bool StateMachine::IsState(const std::string& state) const { return states_.count(state) != 0; }

std::vector<std::string> StateMachine::States() const { return {states_.begin(), states_.end()}; }

std::vector<std::string> StateMachine::Targets() const {
  std::set<std::string> targets;
  for (const auto& [from, to] : edges_) targets.insert(to.begin(), to.end());
  return {targets.begin(), targets.end()};
}

void StateMachine::Check(const std::string& from, const std::string& to) const {
  if (!IsState(to)) {
    std::string list;
    for (const auto& state : states_) list += (list.empty() ? "" : ", ") + state;
    throw Error::Invalid({{"/to", "'" + to + "' is not a " + what_ + " state; states: " + list}});
  }
  if (Allows(from, to)) return;
  const auto next = Next(from);
  std::string allowed;
  for (const auto& state : next) allowed += (allowed.empty() ? "" : ", ") + state;
  throw Error(Error::Kind::kConflict, "invalid-transition", "Invalid state transition",
              "a " + what_ + " in state " + from + " cannot move to " + to +
                  (next.empty() ? "; it is final" : "; allowed: " + allowed))
      .With("from", from)
      .With("to", to)
      .With("allowed_transitions", next);
}

}  // namespace jilaf::domain
