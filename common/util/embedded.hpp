#pragma once

#include <string_view>

/// Declares text compiled in by jilaf_embed_text() (cmake/EmbedText.cmake).
#define JILAF_EMBEDDED(name)          \
  namespace jilaf::embedded {         \
  extern const std::string_view name; \
  }
