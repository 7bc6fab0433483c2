#pragma once

#include "core/typed_error.hpp"
#include "telephony/short_code.hpp"
#include "telephony/time_profile.hpp"

#include <cstdint>
#include <expected>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ward::telephony {

/// The table every Dial short code without a route goes to; it always exists.
inline constexpr std::uint32_t main_ars_id = 50;
inline constexpr std::string_view main_ars_name = "Main";

/// An ARS (route) table (SPEC TF-2): short codes matched against the number a Dial short
/// code produced, deciding whether it leaves, through which trunks, as what number.
struct ars_table {
  std::uint32_t id = main_ars_id;
  std::string name{main_ars_name};
  /// Only dial (leave through the trunks, the telephone field being the number sent),
  /// barred and dial_emergency.
  std::vector<short_code> codes;
  /// Trunk names, tried in this order.
  std::vector<std::string> trunks;
  /// While this time profile is inactive, `out_of_hours` routes instead; empty = always.
  std::string time_profile;
  std::uint32_t out_of_hours = 0;
  bool operator==(const ars_table&) const = default;
};

enum class ars_errc : std::uint8_t {
  bad_table,
  bad_short_code,
  /// A feature other than dial, barred and dial_emergency in an ARS table.
  feature_not_allowed,
  /// A table's own short code for an emergency number is not an emergency one (SPEC TF-2).
  emergency_not_routed,
  unknown_time_profile,
  /// The out-of-hours table does not exist, or the fallbacks go round in a circle.
  bad_fallback,
  missing_main,
  too_many_tables,
};

std::string_view to_string(ars_errc code);

using ars_error = typed_error<ars_errc>;

inline constexpr std::size_t max_ars_tables = 99;
inline constexpr std::size_t max_ars_trunks = 8;

/// The route tables with their short codes compiled.
struct compiled_ars {
  struct table {
    ars_table source;
    std::vector<compiled_short_code> codes;
  };
  std::map<std::uint32_t, table> tables;
  std::map<std::string, time_profile, std::less<>> profiles;
};

/// "50:Main".
std::string route_name(const ars_table& table);

/// Checks every table (SPEC TF-2): codes, features, that 50:Main exists, that profiles and
/// fallbacks exist and the fallbacks end. Every table routes every one of
/// `emergency_numbers` as an emergency call through its trunks: each gets a dial_emergency
/// code for exactly that number, ahead of the table's own (which can then only add to it).
std::expected<compiled_ars, ars_error> compile_ars(std::span<const ars_table> tables,
                                                   std::span<const time_profile> profiles,
                                                   std::span<const std::string> emergency_numbers);

/// The short code match of `number` in table `id` at `now`, following out-of-hours
/// fallbacks, and the table that decided.
struct ars_match {
  const compiled_ars::table* table = nullptr;
  short_code_match match;
  /// A time profile sent the number to a fallback table.
  bool out_of_hours = false;
};

/// nullopt when table `id` does not exist.
std::optional<ars_match> match_ars(const compiled_ars& ars, std::uint32_t id,
                                   std::string_view number, const local_moment& now);

} // namespace ward::telephony
