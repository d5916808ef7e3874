#pragma once

#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace jilaf::domain {

/// The allowed transitions of one kind of record (a programme, a nomination, a project...).
/// Check() turns a forbidden transition into a domain::Error (409 problem over HTTP) that names the
/// allowed ones, so every service answers invalid transitions the same way.
class StateMachine {
 public:
  struct Edge {
    std::string from;
    std::vector<std::string> to;
  };

  /// `what` names the record in messages ("nomination"); `edges` lists every allowed move.
  StateMachine(std::string what, std::initializer_list<Edge> edges);

  [[nodiscard]] bool Allows(const std::string& from, const std::string& to) const;
  /// The states reachable from `from` in one step, sorted.
  [[nodiscard]] std::vector<std::string> Next(const std::string& from) const;
  [[nodiscard]] bool IsState(const std::string& state) const;
  /// Every state named in the machine, sorted.
  [[nodiscard]] std::vector<std::string> States() const;
  /// Every state some move leads to (what a transition's `to` may name), sorted.
  [[nodiscard]] std::vector<std::string> Targets() const;

  /// Throws domain::Error kConflict `invalid-transition` (with `from`, `to` and
  /// `allowed_transitions`) unless from → to is allowed; kInvalid if `to` is not a state at all.
  void Check(const std::string& from, const std::string& to) const;

 private:
  std::string what_;
  std::map<std::string, std::set<std::string>> edges_;
  std::set<std::string> states_;
};

}  // namespace jilaf::domain
