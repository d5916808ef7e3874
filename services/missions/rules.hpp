#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace jilaf::missions {

/// True when `attended` of `total` sessions reaches `threshold_percent` (integer arithmetic, so
/// 4 of 5 meets 80 % exactly). A programme without sessions completes nobody.
[[nodiscard]] bool MeetsThreshold(int attended, int total, int threshold_percent);
/// Number of sessions across an education programme's courses.
[[nodiscard]] int SessionCount(const nlohmann::json& programme);
/// Sessions the participant was recorded present at.
[[nodiscard]] int AttendedCount(const nlohmann::json& programme, const std::string& participant_id);

/// The status a new seminar registration gets: `registered` while seats remain, else
/// `waitlisted`.
[[nodiscard]] std::string AdmissionFor(const nlohmann::json& seminar);
/// Cancels a registration in the seminar document. If it held a seat, the earliest waitlisted
/// registration takes it; returns that registration's id. Throws http::ApiError 404 for an
/// unknown id and 409 for one already cancelled.
std::optional<std::string> CancelRegistration(nlohmann::json& seminar,
                                              const std::string& registration_id);

/// A random, unguessable certificate verification code (160 bits, Crockford base32, grouped:
/// "XXXX-XXXX-...").
std::string NewVerificationCode();

}  // namespace jilaf::missions
