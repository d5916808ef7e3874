#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tests/support/http_client.hpp"

namespace jilaf::e2e {

/// Records what the e2e tests see for the contract check (tests/contracts/check_e2e.py): every
/// API response and every message a test itself put on a topic. Writes JSON lines into
/// $JILAF_CONTRACT_RECORD_DIR (one file per test process); does nothing when that is unset, so
/// a test binary run by hand behaves as before.

/// One API response: which service answered which request, and what it answered.
void RecordResponse(const std::string& service, const std::string& method,
                    const std::string& target, const testing::HttpResult& result);

/// One message a test produced itself. A `realistic` one stands for a service's event, and the
/// check validates its payload against the type's schema (so fabricated events cannot drift
/// from what the producer really sends); any other (deliberately malformed, raw) is skipped.
void RecordProduced(const std::string& topic, const std::string& key, const std::string& value,
                    const std::vector<std::pair<std::string, std::string>>& headers,
                    bool realistic);

}  // namespace jilaf::e2e
