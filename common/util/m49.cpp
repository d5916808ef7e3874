#include "common/util/m49.hpp"

#include <array>

namespace jilaf::util {
namespace {

struct RegionMembers {
  std::string_view region;
  std::string_view countries;  // alpha-2 codes, space-separated
};

// UN M49 (unstats.un.org/unsd/methodology/m49), ISO 3166-1 alpha-2 codes per region. Taiwan is
// placed in Eastern Asia, as ISO 3166 and most statistical tables do.
constexpr std::array<RegionMembers, 6> kMembers = {{
    {"africa",
     "DZ AO BJ BW BF BI CM CV CF TD KM CG CD CI DJ EG GQ ER ET GA GM GH GN GW KE LS LR LY MG MW "
     "ML MR MU YT MA MZ NA NE NG RE RW SH ST SN SC SL SO ZA SS SD SZ TZ TG TN UG EH ZM ZW IO TF"},
    {"asia",
     "AF AM AZ BH BD BT BN KH CN CY GE HK IN ID IR IQ IL JP JO KZ KP KR KW KG LA LB MO MY MV MN "
     "MM NP OM PK PS PH QA SA SG LK SY TW TJ TH TL TR TM AE UZ VN YE"},
    {"europe",
     "AX AL AD AT BY BE BA BG HR CZ DK EE FO FI FR DE GI GR GG VA HU IS IE IM IT JE LV LI LT LU "
     "MK MT MD MC ME NL NO PL PT RO RU SM RS SK SI ES SJ SE CH UA GB"},
    {"latin_america_caribbean",
     "AI AG AR AW BS BB BZ BO BQ BR KY CL CO CR CU CW DM DO EC SV FK GF GD GP GT GY HT HN JM MQ "
     "MX MS NI PA PY PE PR BL KN LC MF VC SX SR TT TC UY VE VG VI BV GS"},
    {"northern_america", "BM CA GL PM US"},
    {"oceania",
     "AS AU CK FJ PF GU KI MH FM NR NC NZ NU NF MP PW PG PN WS SB TK TO TV VU WF CX CC HM UM"},
}};

}  // namespace

const std::vector<std::string_view>& M49Regions() {
  static const std::vector<std::string_view> regions = [] {
    std::vector<std::string_view> out;
    for (const auto& members : kMembers) out.push_back(members.region);
    return out;
  }();
  return regions;
}

std::optional<std::string_view> M49RegionOf(std::string_view alpha2) {
  if (alpha2.size() != 2) return std::nullopt;
  for (const auto& members : kMembers) {
    for (std::size_t at = 0; at + 2 <= members.countries.size(); at += 3) {
      if (members.countries.substr(at, 2) == alpha2) return members.region;
    }
  }
  return std::nullopt;
}

}  // namespace jilaf::util
