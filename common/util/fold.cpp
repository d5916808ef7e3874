#include "common/util/fold.hpp"

#include <cctype>
#include <utility>

namespace jilaf::util {
namespace {

// Base letters of U+0100..U+017F (Latin Extended-A); '#' is "ij" and '%' is "oe".
constexpr std::string_view kLatinExtendedA =
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii##jjkkkllllllllllnnnnnnnnnoooooo%%rrrrrr"
    "ssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";
static_assert(kLatinExtendedA.size() == 128);
// U+00C0..U+00FF; '&' is "ae", '!' is "th", '$' is "ss", '*' keeps the character (× and ÷).
constexpr std::string_view kLatin1 =
    "aaaaaa&ceeeeiiiidnooooo*ouuuuy!$aaaaaa&ceeeeiiiidnooooo*ouuuuy!y";
static_assert(kLatin1.size() == 64);

// Appends the Latin base letters for one code point; false if it is not a Latin letter we know.
bool AppendLatinBase(char32_t cp, std::string& out) {
  auto put = [&out](char c) {
    static constexpr std::pair<char, const char*> kDigraphs[] = {
        {'#', "ij"}, {'%', "oe"}, {'&', "ae"}, {'!', "th"}, {'$', "ss"}};
    for (const auto& [mark, letters] : kDigraphs) {
      if (c == mark) {
        out += letters;
        return;
      }
    }
    out += c;
  };
  if (cp >= 0xC0 && cp <= 0xFF && kLatin1[cp - 0xC0] != '*') {
    put(kLatin1[cp - 0xC0]);
    return true;
  }
  if (cp >= 0x100 && cp <= 0x17F) {
    put(kLatinExtendedA[cp - 0x100]);
    return true;
  }
  struct Range {
    char32_t first, last;
    char base;
  };
  // Vietnamese (Latin Extended Additional), horned o/u, Romanian comma-below letters.
  static constexpr Range kRanges[] = {
      {0x1EA0, 0x1EB7, 'a'}, {0x1EB8, 0x1EC7, 'e'}, {0x1EC8, 0x1ECB, 'i'}, {0x1ECC, 0x1EE3, 'o'},
      {0x1EE4, 0x1EF1, 'u'}, {0x1EF2, 0x1EF9, 'y'}, {0x01A0, 0x01A1, 'o'}, {0x01AF, 0x01B0, 'u'},
      {0x0218, 0x0219, 's'}, {0x021A, 0x021B, 't'}, {0x01CD, 0x01CE, 'a'}, {0x01CF, 0x01D0, 'i'},
      {0x01D1, 0x01D2, 'o'}, {0x01D3, 0x01DC, 'u'}};
  for (const auto& range : kRanges) {
    if (cp >= range.first && cp <= range.last) {
      out += range.base;
      return true;
    }
  }
  return false;
}

// Decodes one UTF-8 sequence at text[i]; invalid bytes decode as themselves.
char32_t NextCodePoint(std::string_view text, std::size_t& i) {
  const auto byte = static_cast<unsigned char>(text[i]);
  int extra = byte >= 0xF0 ? 3 : byte >= 0xE0 ? 2 : byte >= 0xC0 ? 1 : 0;
  if (i + extra >= text.size()) extra = 0;  // truncated sequence
  char32_t cp = extra == 0 ? byte : byte & (0x3F >> extra);
  for (int k = 1; k <= extra; ++k) {
    cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
  }
  i += 1 + extra;
  return cp;
}

bool IsSeparator(char32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '-' || cp == ',' ||
         cp == '.' || cp == '_' || cp == 0xA0 || cp == 0x3000 || cp == 0x2010 || cp == 0x2011;
}

bool IsDropped(char32_t cp) {
  // Apostrophes (O'Brien = OBrien) and combining diacritical marks of decomposed input.
  return cp == '\'' || cp == 0x2019 || cp == 0x02BC || cp == '`' || (cp >= 0x0300 && cp <= 0x036F);
}

}  // namespace

void AppendFoldedTokens(std::string_view text, std::vector<std::string>& tokens) {
  std::string current;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t start = i;
    const char32_t cp = NextCodePoint(text, i);
    if (IsSeparator(cp)) {
      if (!current.empty()) tokens.push_back(std::move(current));
      current.clear();
    } else if (IsDropped(cp)) {
      continue;
    } else if (cp < 0x80) {
      current += static_cast<char>(std::tolower(static_cast<int>(cp)));
    } else if (!AppendLatinBase(cp, current)) {
      current += text.substr(start, i - start);  // other scripts are compared as written
    }
  }
  if (!current.empty()) tokens.push_back(std::move(current));
}

namespace {

bool IsCjk(char32_t cp) {
  return (cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x31F0 && cp <= 0x31FF) ||
         (cp >= 0x3400 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0xAC00 && cp <= 0xD7AF) || (cp >= 0xFF66 && cp <= 0xFF9F);
}

void AppendUtf8(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// One folded token into search words: CJK characters one term each, ASCII punctuation a break.
void SplitForSearch(std::string_view token, std::vector<std::vector<std::string>>& words) {
  std::vector<std::string> word;
  std::string latin;
  auto end_latin = [&] {
    if (!latin.empty()) word.push_back(std::move(latin));
    latin.clear();
  };
  auto end_word = [&] {
    end_latin();
    if (!word.empty()) words.push_back(std::move(word));
    word.clear();
  };
  std::size_t i = 0;
  while (i < token.size()) {
    char32_t cp = NextCodePoint(token, i);
    if (cp >= 0xFF01 && cp <= 0xFF5E) cp -= 0xFEE0;  // full-width ASCII
    if (cp < 0x80 && !std::isalnum(static_cast<int>(cp))) {
      end_word();
    } else if (cp == 0x30FB || cp == 0xFF65) {  // katakana middle dot: between names
      end_word();
    } else if (IsCjk(cp)) {
      end_latin();
      if (cp >= 0x3041 && cp <= 0x3096) cp += 0x60;  // hiragana → katakana
      std::string one;
      AppendUtf8(cp, one);
      word.push_back(std::move(one));
    } else if (cp < 0x80) {
      latin += static_cast<char>(std::tolower(static_cast<int>(cp)));
    } else {
      AppendUtf8(cp, latin);
    }
  }
  end_word();
}

}  // namespace

std::vector<std::vector<std::string>> SearchWords(std::string_view text) {
  std::vector<std::string> tokens;
  AppendFoldedTokens(text, tokens);
  std::vector<std::vector<std::string>> words;
  for (const auto& token : tokens) SplitForSearch(token, words);
  return words;
}

}  // namespace jilaf::util
