#pragma once

#include "core/enum_names.hpp"
#include "core/typed_error.hpp"

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ward::telephony {

/// What a short code does once it matches (SPEC TF-1).
enum class short_code_feature : std::uint8_t {
  /// Route the telephone number out: through the short code's ARS table (SPEC TF-2), or in
  /// an ARS table through its trunks.
  dial,
  /// Refuse the call (SPEC TF-3). "SMDR" in the telephone field writes a Barred call record.
  barred,
  /// An emergency call: never barred, never asks for an authorization code (SPEC TF-5).
  dial_emergency,
  /// Bar outgoing calls from the dialling user's phones; internal and emergency calls stay.
  outgoing_call_bar_on,
  /// Lift that bar; the dialled digits after the code are the user's login code (SPEC TF-7).
  outgoing_call_bar_off,
  /// Set call forwarding to the telephone number (SPEC TF-6).
  forward_unconditional,
  forward_on_busy,
  forward_on_no_answer,
  /// Clear every forwarding of the dialling user.
  forward_off,
  /// The dialled digits after the code are an authorization code, then the number to call
  /// with the code owner's rights (SPEC TF-5).
  auth_code,
};

inline constexpr auto short_code_feature_names = name_table(
    enum_name{short_code_feature::dial, "dial"}, enum_name{short_code_feature::barred, "barred"},
    enum_name{short_code_feature::dial_emergency, "dial_emergency"},
    enum_name{short_code_feature::outgoing_call_bar_on, "outgoing_call_bar_on"},
    enum_name{short_code_feature::outgoing_call_bar_off, "outgoing_call_bar_off"},
    enum_name{short_code_feature::forward_unconditional, "forward_unconditional"},
    enum_name{short_code_feature::forward_on_busy, "forward_on_busy"},
    enum_name{short_code_feature::forward_on_no_answer, "forward_on_no_answer"},
    enum_name{short_code_feature::forward_off, "forward_off"},
    enum_name{short_code_feature::auth_code, "auth_code"});

constexpr std::string_view to_string(short_code_feature feature) {
  return name_of(short_code_feature_names, feature);
}

constexpr std::optional<short_code_feature> parse_short_code_feature(std::string_view text) {
  return parse_name(short_code_feature_names, text);
}

/// Why a short code was refused. `detail` names the field and the character at fault.
enum class short_code_errc : std::uint8_t {
  empty_code,
  /// Something other than 0-9 * # X N ; in the code.
  bad_code_character,
  /// `;` anywhere but last.
  misplaced_wait,
  /// More than one N: the digits they stand for would be ambiguous.
  repeated_wildcard,
  too_long,
  /// Something other than 0-9 * # N . and the SMDR marker in the telephone number.
  bad_telephone,
  /// A Dial short code without a number to dial, or a feature that takes no number given one.
  telephone_mismatch,
  /// The ARS table is not written "<number>:<name>" with a number of 1 to 99999.
  bad_route,
  /// Two short codes of one set with the same code.
  duplicate_code,
  too_many_codes,
};

inline constexpr auto short_code_errc_names =
    name_table(enum_name{short_code_errc::empty_code, "empty_code"},
               enum_name{short_code_errc::bad_code_character, "bad_code_character"},
               enum_name{short_code_errc::misplaced_wait, "misplaced_wait"},
               enum_name{short_code_errc::repeated_wildcard, "repeated_wildcard"},
               enum_name{short_code_errc::too_long, "too_long"},
               enum_name{short_code_errc::bad_telephone, "bad_telephone"},
               enum_name{short_code_errc::telephone_mismatch, "telephone_mismatch"},
               enum_name{short_code_errc::bad_route, "bad_route"},
               enum_name{short_code_errc::duplicate_code, "duplicate_code"},
               enum_name{short_code_errc::too_many_codes, "too_many_codes"});

constexpr std::string_view to_string(short_code_errc code) {
  return name_of(short_code_errc_names, code);
}

using short_code_error = typed_error<short_code_errc>;

inline constexpr std::size_t max_short_code_length = 31;
inline constexpr std::size_t max_short_code_telephone_length = 63;
inline constexpr std::size_t max_short_codes_per_set = 2000;

/// One position of a short code's pattern.
enum class code_symbol_kind : std::uint8_t {
  /// Exactly this character: a digit, *, # or +.
  literal,
  /// X: any one digit.
  one_digit,
  /// N: any digits, none included (an N after the digits matches en-bloc and redial).
  any_digits,
};

struct code_symbol {
  code_symbol_kind kind = code_symbol_kind::literal;
  char literal = 0;
  bool operator==(const code_symbol&) const = default;
};

/// A short code as configured: `code` in the guide's syntax (digits, *, # and a + for E.164
/// numbers; X one digit, N any digits, a final ; to wait for the end of dialling), what it
/// does, the number it produces and, for Dial, the ARS table the number goes to.
struct short_code {
  std::string code;
  short_code_feature feature = short_code_feature::dial;
  /// Digits, * and #; N stands for the digits the code's X and N matched, `.` for all that
  /// was dialled. Containing "SMDR" on a Barred code asks for a Barred call record.
  std::string telephone;
  /// "50:Main": the ARS table a Dial code of a user, template or the system sends its
  /// number to; empty in an ARS table, whose Dial codes leave through the table's trunks.
  std::string route;
  bool operator==(const short_code&) const = default;
};

/// A short code checked and compiled for matching.
struct compiled_short_code {
  short_code source;
  std::vector<code_symbol> pattern;
  /// The code ended in `;`: with overlap dialling it waits for the end of dialling.
  bool waits_for_complete = false;
  /// The ARS table number of `source.route`, 0 for none.
  std::uint32_t route_id = 0;
  /// "SMDR" in the telephone field of a Barred code (SPEC TF-3).
  bool writes_barred_record = false;
};

/// Checks `code` (field names in errors are the wardctl option names) and compiles it.
std::expected<compiled_short_code, short_code_error> compile_short_code(short_code code);

/// Compiles a whole set (a user's, a template's, the system's or an ARS table's), refusing
/// duplicates and more than max_short_codes_per_set codes.
std::expected<std::vector<compiled_short_code>, short_code_error>
compile_short_codes(std::span<const short_code> codes);

/// The ARS table number of "50:Main", or nullopt when `route` is not of that form.
std::optional<std::uint32_t> parse_route_id(std::string_view route);

/// How the number arrives: complete in one message (a SIP INVITE, a redial), or digit by
/// digit (overlap dialling, RFC 3578), where a code may fire before dialling ends.
enum class dialling : std::uint8_t { en_bloc, overlap };

/// How well a pattern fits the dialled digits.
enum class fit : std::uint8_t {
  none,
  /// The digits are the start of something the pattern matches.
  partial,
  /// The pattern matches the digits as they are.
  full,
};

/// How `pattern` fits `dialled`; `wildcard_digits` receives what X and N matched in order.
fit fit_pattern(std::span<const code_symbol> pattern, std::string_view dialled,
                std::string* wildcard_digits = nullptr);

/// Ranks full matches: the code with more literal characters wins, then the one with more
/// X, then the one without N; equal ranks go to the code listed first.
struct match_rank {
  std::size_t literals = 0;
  std::size_t single_digits = 0;
  bool no_open_end = false;
  auto operator<=>(const match_rank&) const = default;
};

match_rank rank_of(std::span<const code_symbol> pattern);

enum class match_status : std::uint8_t {
  matched,
  /// Overlap dialling: wait for more digits (SIP: 484 Address Incomplete).
  incomplete,
  no_match,
};

struct short_code_match {
  match_status status = match_status::no_match;
  const compiled_short_code* code = nullptr;
  /// The telephone field with N and . replaced.
  std::string number;
  /// What the code's X and N matched: an auth code, a login code, a forward target.
  std::string wildcard_digits;
};

/// The short code of `codes` that `dialled` selects. En-bloc: the best-ranked full match.
/// Overlap: the best full match once no code could still match a longer number and none
/// of the full matches waits for the end of dialling; otherwise incomplete.
short_code_match match_short_code(std::span<const compiled_short_code> codes,
                                  std::string_view dialled, dialling mode = dialling::en_bloc);

/// The telephone field of `code` for `dialled`, N being `wildcard_digits`.
std::string expand_telephone(std::string_view telephone, std::string_view dialled,
                             std::string_view wildcard_digits);

} // namespace ward::telephony
