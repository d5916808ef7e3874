#include "common/util/iso3166.hpp"

namespace jilaf::util {
namespace {

// The 249 officially assigned codes, sorted, two letters each.
constexpr std::string_view kCodes =
    "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZCACCCDCFCGCHCICK"
    "CLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGS"
    "GTGUGWGYHKHMHNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULV"
    "LYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPM"
    "PNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTOTR"
    "TTTVTWTZUAUGUMUSUYUZVAVCVEVGVIVNVUWFWSYEYTZAZMZW";

}  // namespace

bool IsIso3166Alpha2(std::string_view code) {
  if (code.size() != 2) return false;
  std::size_t low = 0;
  std::size_t high = kCodes.size() / 2;
  while (low < high) {
    const std::size_t mid = (low + high) / 2;
    const std::string_view candidate = kCodes.substr(mid * 2, 2);
    if (candidate == code) return true;
    if (candidate < code) {
      low = mid + 1;
    } else {
      high = mid;
    }
  }
  return false;
}

}  // namespace jilaf::util
