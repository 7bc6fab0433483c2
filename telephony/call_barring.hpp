#pragma once

#include "core/enum_names.hpp"
#include "core/typed_error.hpp"
#include "telephony/short_code.hpp"

#include <array>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ward::telephony {

/// What kind of destination a dialled number is (SPEC TF-3): what barring is decided on.
enum class calling_class : std::uint8_t {
  internal,
  local,
  national,
  mobile,
  international,
  premium,
};

inline constexpr std::size_t calling_class_count = 6;

inline constexpr auto calling_class_names = name_table(
    enum_name{calling_class::internal, "internal"}, enum_name{calling_class::local, "local"},
    enum_name{calling_class::national, "national"}, enum_name{calling_class::mobile, "mobile"},
    enum_name{calling_class::international, "international"},
    enum_name{calling_class::premium, "premium"});

constexpr std::string_view to_string(calling_class value) {
  return name_of(calling_class_names, value);
}

constexpr std::optional<calling_class> parse_calling_class(std::string_view text) {
  return parse_name(calling_class_names, text);
}

/// One line of a numbering plan: numbers `pattern` matches (short code syntax without ';',
/// usually ending in N) are of class `of`. The best-ranked match decides, as for short codes.
struct class_rule {
  std::string pattern;
  calling_class of = calling_class::international;
  bool operator==(const class_rule&) const = default;
};

/// The country's numbering plan as barring sees it (SPEC TF-3, TF-4).
struct numbering_plan {
  /// Prefixes a caller may dial before a number to withhold or present their number
  /// (*67, *82, 141, 1470, #31#). They are taken off, as often as they appear, before the
  /// number is classified, so that no prefix reaches a barred destination (SPEC TF-4).
  std::vector<std::string> caller_id_prefixes;
  std::vector<class_rule> rules;
  bool operator==(const numbering_plan&) const = default;
};

/// The built-in plans an administrator starts from.
enum class numbering_preset : std::uint8_t {
  /// North American Numbering Plan: 011 international, 1-900/1-976 premium, 1+10 digits
  /// national, 7 or 10 digits local; *67 and *82.
  nanp,
  /// United Kingdom: 00 international, 09 and 118 premium, 07 mobile, 0 national, local
  /// otherwise; 141 and 1470.
  uk,
};

inline constexpr auto numbering_preset_names =
    name_table(enum_name{numbering_preset::nanp, "nanp"}, enum_name{numbering_preset::uk, "uk"});

constexpr std::string_view to_string(numbering_preset value) {
  return name_of(numbering_preset_names, value);
}

constexpr std::optional<numbering_preset> parse_numbering_preset(std::string_view text) {
  return parse_name(numbering_preset_names, text);
}

numbering_plan preset_plan(numbering_preset preset);

enum class barring_errc : std::uint8_t {
  bad_pattern,
  bad_prefix,
  too_many_rules,
};

std::string_view to_string(barring_errc code);

using barring_error = typed_error<barring_errc>;

inline constexpr std::size_t max_class_rules = 256;
inline constexpr std::size_t max_caller_id_prefixes = 16;

/// A numbering plan checked and compiled.
struct compiled_numbering_plan {
  std::vector<std::string> caller_id_prefixes;
  std::vector<std::pair<std::vector<code_symbol>, calling_class>> rules;
};

std::expected<compiled_numbering_plan, barring_error> compile_plan(const numbering_plan& plan);

/// `number` without every leading caller-ID prefix of `plan`.
std::string_view strip_caller_id_prefixes(const compiled_numbering_plan& plan,
                                          std::string_view number);

/// The class of `number` after its caller-ID prefixes are taken off. A number no rule
/// matches counts as international: what a plan does not know is treated as far away.
calling_class classify(const compiled_numbering_plan& plan, std::string_view number);

/// One level's word on a class: say nothing (the level above decides), bar or allow.
enum class bar_setting : std::uint8_t { inherit, barred, allowed };

inline constexpr auto bar_setting_names =
    name_table(enum_name{bar_setting::inherit, "inherit"}, enum_name{bar_setting::barred, "barred"},
               enum_name{bar_setting::allowed, "allowed"});

constexpr std::string_view to_string(bar_setting value) {
  return name_of(bar_setting_names, value);
}

constexpr std::optional<bar_setting> parse_bar_setting(std::string_view text) {
  return parse_name(bar_setting_names, text);
}

/// A level's settings, one per calling class.
struct class_barring {
  std::array<bar_setting, calling_class_count> settings{};
  bar_setting& operator[](calling_class value) { return settings[static_cast<std::size_t>(value)]; }
  bar_setting operator[](calling_class value) const {
    return settings[static_cast<std::size_t>(value)];
  }
  bool operator==(const class_barring&) const = default;
};

/// The system's barring when nothing was set: international and premium barred, the rest
/// allowed (the guide's "lock down undesired numbers").
class_barring default_system_barring();

/// Where a barring decision came from, for the call record and the refusal's reason.
enum class barring_source : std::uint8_t { user, template_, system };

struct barring_decision {
  bool barred = false;
  barring_source source = barring_source::system;
};

/// Whether `of` is barred for a user: the user's own setting first, then their rights
/// template's, then the system's; a system setting of inherit counts as the default.
barring_decision decide_barring(calling_class of, const class_barring& system,
                                const class_barring* user_template, const class_barring* user);

} // namespace ward::telephony
