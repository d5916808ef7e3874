#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace jilaf::missions {

// The tallies of the fiscal-year report (FiscalYearReport, routes.hpp), fed from facts whichever
// store they come from: the service from its tables, the analytics tool from the events. One
// definition of each figure.

/// `period` of the report: the fiscal year's first and last day (April to March).
[[nodiscard]] nlohmann::json FiscalYearPeriod(std::int64_t fiscal_year);

/// `missions`: every mission of the year by status; by country and published reports, the
/// ones not cancelled.
class MissionsTally {
 public:
  void AddMission(const std::string& status, const nlohmann::json& countries,
                  bool report_published);
  [[nodiscard]] nlohmann::json Json() const;

 private:
  std::int64_t total_ = 0;
  int published_ = 0;
  nlohmann::json by_country_ = nlohmann::json::object();
  nlohmann::json by_status_ = nlohmann::json::object();
};

/// `seminars`: seminars of the year, held (held or reported), registered participants,
/// waitlisted and registered alumni.
class SeminarsTally {
 public:
  void AddSeminar(const std::string& status);
  void AddRegistration(const std::string& status, bool alumnus);
  [[nodiscard]] nlohmann::json Json() const;

 private:
  std::int64_t total_ = 0;
  int held_ = 0, registered_ = 0, waitlisted_ = 0, alumni_ = 0;
};

/// `education`: programmes of the year; of those not cancelled, by location, courses, held
/// (completed), participants, completions and alumni.
class EducationTally {
 public:
  /// False for a cancelled programme, whose participants are not counted.
  bool AddProgramme(const std::string& status, const std::string& location, int courses);
  void AddParticipant(const std::string& status, bool alumnus);
  [[nodiscard]] nlohmann::json Json(std::int64_t certificates) const;

 private:
  std::int64_t programmes_ = 0;
  int held_ = 0, courses_ = 0, participants_ = 0, completed_ = 0, alumni_ = 0;
  nlohmann::json by_location_ = {{"japan", 0}, {"abroad", 0}};
};

}  // namespace jilaf::missions
