#include "services/missions/rules.hpp"

#include "common/http/problem.hpp"
#include "common/util/clock.hpp"
#include "common/util/ids.hpp"

namespace jilaf::missions {

bool MeetsThreshold(int attended, int total, int threshold_percent) {
  if (total <= 0) return false;
  return attended * 100 >= threshold_percent * total;
}

int SessionCount(const nlohmann::json& programme) {
  int count = 0;
  for (const auto& course : programme["courses"])
    count += static_cast<int>(course["sessions"].size());
  return count;
}

int AttendedCount(const nlohmann::json& programme, const std::string& participant_id) {
  int count = 0;
  for (const auto& [session, present] : programme["attendance"].items()) {
    for (const auto& id : present) {
      if (id == participant_id) {
        ++count;
        break;
      }
    }
  }
  return count;
}

std::string AdmissionFor(const nlohmann::json& seminar) {
  std::int64_t taken = 0;
  for (const auto& registration : seminar["registrations"]) {
    if (registration["status"] == "registered") ++taken;
  }
  return taken < seminar["capacity"].get<std::int64_t>() ? "registered" : "waitlisted";
}

std::optional<std::string> CancelRegistration(nlohmann::json& seminar,
                                              const std::string& registration_id) {
  auto& registrations = seminar["registrations"];
  nlohmann::json* target = nullptr;
  for (auto& registration : registrations) {
    if (registration["id"] == registration_id) target = &registration;
  }
  if (target == nullptr) {
    throw http::ApiError::NotFound("no registration with id " + registration_id);
  }
  const std::string previous = (*target)["status"];
  if (previous == "cancelled") {
    throw http::ApiError::Conflict("registration " + registration_id + " is already cancelled");
  }
  (*target)["status"] = "cancelled";
  (*target)["cancelled_at"] = util::NowRfc3339();
  if (previous != "registered") return std::nullopt;
  // Registrations are kept in arrival order, so the first waitlisted one waited longest.
  for (auto& registration : registrations) {
    if (registration["status"] == "waitlisted") {
      registration["status"] = "registered";
      registration["promoted_at"] = util::NowRfc3339();
      return registration["id"].get<std::string>();
    }
  }
  return std::nullopt;
}

std::string NewVerificationCode() {
  unsigned char bytes[20];
  util::RandomBytes(bytes, sizeof bytes);
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  std::string out;
  int bits = 0;
  unsigned buffer = 0;
  for (unsigned char byte : bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      if (!out.empty() && (out.size() + 1) % 5 == 0) out += '-';
      out += kAlphabet[(buffer >> bits) & 31];
    }
  }
  return out;
}

}  // namespace jilaf::missions
