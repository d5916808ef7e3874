#pragma once

#include <string>
#include <string_view>
#include <vector>

// Folding of names and titles for comparison: the one place that decides when two spellings are
// "the same" (duplicate detection, search).
namespace jilaf::util {

/// Appends the words of `text` lower-cased with Latin diacritics stripped (é → e, Đ → d,
/// ß → ss, Vietnamese tones), apostrophes and combining marks dropped, split at spaces and
/// punctuation of names (- , . _). Other scripts are kept as written. The blind index of
/// duplicate nominations is built on this: never change what it returns for a given input.
void AppendFoldedTokens(std::string_view text, std::vector<std::string>& tokens);

/// The search words of `text`, each a sequence of index terms: a Latin (or Cyrillic, …) word is
/// one folded term; a run of Japanese, Chinese or Korean characters is one term per character
/// (hiragana folded to katakana, full-width Latin to ASCII), so that a word matches as a phrase
/// anywhere inside a name written without spaces.
[[nodiscard]] std::vector<std::vector<std::string>> SearchWords(std::string_view text);

}  // namespace jilaf::util
