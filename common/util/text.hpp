#pragma once

#include <string>
#include <string_view>

namespace jilaf::util {

/// Escapes text for HTML or XML element content and attribute values (& < > " ').
std::string EscapeMarkup(std::string_view text);

/// An address as SMTP carries it (RFC 5321 Mailbox, the RFC 5322 addr-spec without comments or
/// folding): a dot-atom local part of at most 64 octets, '@', a domain name of at least two
/// labels (letters, digits, inner hyphens; at most 63 octets each), at most 254 octets in all.
/// Quoted local parts and address literals are refused, and so is anything that could end a
/// header or an SMTP command: CR, LF, '<', '>', spaces and other controls. UTF-8 (RFC 6531) is
/// accepted in both parts.
[[nodiscard]] bool IsEmailAddress(std::string_view text);

/// Appends `text` as a JSON string (quotes included) exactly as nlohmann::json's dump() writes
/// it with this `ensure_ascii` (invalid UTF-8 replaced): for building small JSON texts on a hot
/// path without a DOM.
void AppendJsonString(std::string& out, std::string_view text, bool ensure_ascii = false);

/// Today's date in UTC as YYYY-MM-DD (the clock that due-date scans compare against).
std::string TodayUtc();

}  // namespace jilaf::util
