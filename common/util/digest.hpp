#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace jilaf::util {

/// Lower-case hex of `size` bytes.
[[nodiscard]] std::string HexEncode(const unsigned char* bytes, std::size_t size);

/// Lower-case hex SHA-256 of `data`.
[[nodiscard]] std::string Sha256Hex(std::string_view data);

}  // namespace jilaf::util
