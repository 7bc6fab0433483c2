#include "telephony/ars.hpp"

#include "core/enum_names.hpp"

#include <algorithm>
#include <set>

namespace ward::telephony {
namespace {

constexpr auto ars_errc_names =
    name_table(enum_name{ars_errc::bad_table, "bad_table"},
               enum_name{ars_errc::bad_short_code, "bad_short_code"},
               enum_name{ars_errc::feature_not_allowed, "feature_not_allowed"},
               enum_name{ars_errc::emergency_not_routed, "emergency_not_routed"},
               enum_name{ars_errc::unknown_time_profile, "unknown_time_profile"},
               enum_name{ars_errc::bad_fallback, "bad_fallback"},
               enum_name{ars_errc::missing_main, "missing_main"},
               enum_name{ars_errc::too_many_tables, "too_many_tables"});

ars_error fail(ars_errc code, std::string detail) {
  return {code, std::move(detail)};
}

bool allowed_in_ars(short_code_feature feature) {
  return feature == short_code_feature::dial || feature == short_code_feature::barred ||
         feature == short_code_feature::dial_emergency;
}

bool good_name(std::string_view name) {
  return !name.empty() && name.size() <= 31 &&
         std::ranges::all_of(name, [](char c) { return c >= 0x20 && c < 0x7f && c != ':'; });
}

std::expected<compiled_ars::table, ars_error>
compile_table(const ars_table& table, std::span<const std::string> emergency_numbers) {
  const std::string where = "ARS " + route_name(table);
  if (table.id == 0 || table.id > 99999 || !good_name(table.name))
    return std::unexpected(
        fail(ars_errc::bad_table, where + ": the number must be 1 to 99999 and the name 1 to 31 "
                                          "printable characters without ':'"));
  if (table.trunks.size() > max_ars_trunks)
    return std::unexpected(fail(
        ars_errc::bad_table, where + ": more than " + std::to_string(max_ars_trunks) + " trunks"));
  // Every table routes every emergency number (SPEC TF-2): a code for the number itself
  // goes first, so no wider code (a Barred 9N) can catch it. A table's own code for exactly
  // that number must be an emergency one.
  std::vector<short_code> codes;
  for (const auto& number : emergency_numbers) {
    const auto own = std::ranges::find(table.codes, number, &short_code::code);
    if (own != table.codes.end() && own->feature != short_code_feature::dial_emergency)
      return std::unexpected(
          fail(ars_errc::emergency_not_routed, where + ": short code '" + number + "' is " +
                                                   std::string(to_string(own->feature)) +
                                                   ", but it is an emergency number"));
    if (own == table.codes.end())
      codes.push_back({number, short_code_feature::dial_emergency, number, {}});
  }
  codes.insert(codes.end(), table.codes.begin(), table.codes.end());
  auto compiled = compile_short_codes(codes);
  if (!compiled)
    return std::unexpected(fail(ars_errc::bad_short_code, where + ": " + compiled.error().detail));
  for (const auto& code : *compiled) {
    if (!allowed_in_ars(code.source.feature))
      return std::unexpected(fail(ars_errc::feature_not_allowed,
                                  where + ": short code '" + code.source.code + "' is " +
                                      std::string(to_string(code.source.feature)) +
                                      "; a route table takes dial, barred and dial_emergency"));
    if (code.route_id != 0)
      return std::unexpected(
          fail(ars_errc::bad_short_code, where + ": short code '" + code.source.code +
                                             "' names a route; in a route table it leaves through "
                                             "the table's trunks"));
  }
  return compiled_ars::table{table, std::move(*compiled)};
}

} // namespace

std::string_view to_string(ars_errc code) {
  return name_of(ars_errc_names, code);
}

std::string route_name(const ars_table& table) {
  return std::to_string(table.id) + ":" + table.name;
}

std::expected<compiled_ars, ars_error> compile_ars(std::span<const ars_table> tables,
                                                   std::span<const time_profile> profiles,
                                                   std::span<const std::string> emergency_numbers) {
  if (tables.size() > max_ars_tables)
    return std::unexpected(fail(ars_errc::too_many_tables,
                                "more than " + std::to_string(max_ars_tables) + " ARS tables"));
  compiled_ars ars;
  for (const auto& profile : profiles) {
    if (auto checked = check_time_profile(profile); !checked)
      return std::unexpected(fail(ars_errc::unknown_time_profile,
                                  "time profile " + profile.name + ": " + checked.error().detail));
    ars.profiles.emplace(profile.name, profile);
  }
  for (const auto& table : tables) {
    auto compiled = compile_table(table, emergency_numbers);
    if (!compiled)
      return std::unexpected(compiled.error());
    if (!ars.tables.emplace(table.id, std::move(*compiled)).second)
      return std::unexpected(fail(
          ars_errc::bad_table, "ARS table number " + std::to_string(table.id) + " is used twice"));
  }
  if (!ars.tables.contains(main_ars_id))
    return std::unexpected(fail(ars_errc::missing_main, "ARS 50:Main cannot be removed"));
  for (const auto& [id, table] : ars.tables) {
    const auto& source = table.source;
    const std::string where = "ARS " + route_name(source);
    if (source.time_profile.empty()) {
      if (source.out_of_hours != 0)
        return std::unexpected(
            fail(ars_errc::bad_fallback, where + ": an out-of-hours table needs a time profile"));
      continue;
    }
    if (!ars.profiles.contains(source.time_profile))
      return std::unexpected(
          fail(ars_errc::unknown_time_profile, where + ": no time profile " + source.time_profile));
    // Follow the fallbacks: each must exist, and the chain must not come back round.
    std::set<std::uint32_t> seen{id};
    const compiled_ars::table* at = &table;
    while (!at->source.time_profile.empty()) {
      const auto next = ars.tables.find(at->source.out_of_hours);
      if (next == ars.tables.end())
        return std::unexpected(
            fail(ars_errc::bad_fallback, where + ": out-of-hours table " +
                                             std::to_string(at->source.out_of_hours) +
                                             " does not exist"));
      if (!seen.insert(next->first).second)
        return std::unexpected(
            fail(ars_errc::bad_fallback, where + ": the out-of-hours tables go round in a circle"));
      at = &next->second;
    }
  }
  return ars;
}

std::optional<ars_match> match_ars(const compiled_ars& ars, std::uint32_t id,
                                   std::string_view number, const local_moment& now) {
  auto it = ars.tables.find(id);
  if (it == ars.tables.end())
    return std::nullopt;
  ars_match result;
  // compile_ars proved the chain ends; the bound keeps a hand-built table set safe too.
  for (std::size_t hops = 0; hops <= ars.tables.size(); ++hops) {
    const auto& source = it->second.source;
    if (source.time_profile.empty())
      break;
    const auto profile = ars.profiles.find(source.time_profile);
    if (profile != ars.profiles.end() && is_active(profile->second, now))
      break;
    const auto next = ars.tables.find(source.out_of_hours);
    if (next == ars.tables.end())
      break;
    it = next;
    result.out_of_hours = true;
  }
  result.table = &it->second;
  result.match = match_short_code(it->second.codes, number);
  return result;
}

} // namespace ward::telephony
