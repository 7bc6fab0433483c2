#pragma once

#include "core/random.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ward::security {

/// How demanding a password policy is (SPEC POL-3).
enum class complexity {
  /// Any characters; only the length limits apply.
  low,
  /// At least 2 of the 4 character classes, no runs, not the account name or its reverse.
  medium,
  /// At least 3 of the 4 character classes plus every Medium rule.
  high,
};

/// The configuration spelling of `level`: "low", "medium" or "high".
std::string_view to_string(complexity level);

/// Reads the configuration spelling of a complexity level; anything else is nullopt.
std::optional<complexity> parse_complexity(std::string_view text);

/// Why a password or code was refused; the first rule that failed.
enum class credential_rejection {
  /// Fewer characters than the minimum length.
  too_short,
  /// More characters than the maximum length.
  too_long,
  /// A character outside printable ASCII (0x20-0x7e) in a system password.
  not_printable_ascii,
  /// A character other than 0-9 in a code.
  not_digits,
  /// The password is not well-formed UTF-8, so its characters cannot be counted.
  invalid_utf8,
  /// Medium: fewer than 2 of {lower, upper, digit, other}; High: fewer than 3.
  too_few_character_classes,
  /// A run of 3 or more identical characters ("aaa", "111").
  repeated_run,
  /// A run of 3 or more ascending or descending letters or digits ("abc", "CbA", "321").
  sequential_run,
  /// The password equals the account name or extension, ignoring case.
  equals_name,
  /// The password equals the account name or extension reversed, ignoring case.
  equals_reversed_name,
  /// The code is one repeated digit or one repeated group ("1111", "121212", "25802580").
  repeated_digits,
  /// The code is an ascending or descending run, 0 following 9 ("1234", "9876", "7890").
  digit_sequence,
  /// The code is a straight walk on a phone keypad ("2580", "7410", "159").
  keypad_pattern,
  /// The code equals the extension.
  equals_extension,
  /// The code equals the extension reversed.
  equals_reversed_extension,
};

/// The snake_case name of `reason`, for logs and API error bodies.
std::string_view to_string(credential_rejection reason);

/// Human sentence explaining the rejection, e.g. "must be at least 8 characters". The limits
/// only shape the length sentences; 0 leaves the number out.
std::string describe(credential_rejection reason, std::size_t min_length = 0,
                     std::size_t max_length = 0);

/// A password policy: length limits in Unicode characters and a complexity level (POL-1..3).
struct password_rules {
  std::size_t min_length = 8;
  std::size_t max_length = 31;
  complexity level = complexity::medium;
};

/// Checks a password of a service user or telephony user against `rules` (SPEC POL-3).
/// `account_name` is the user name (or extension) the password must not equal, nor its
/// reverse, at Medium and High; an empty name skips that rule. Length is counted in Unicode
/// code points of the UTF-8 password, and ill-formed UTF-8 is refused before anything else
/// because its length is undefined. Only ASCII letters fold case and count as lower or upper;
/// every other character counts as "other". A `min_length` of 0 lets an empty password pass
/// at Low, so callers enforcing POL-6 pass at least 1.
std::optional<credential_rejection> check_password(std::string_view password,
                                                   std::string_view account_name,
                                                   const password_rules& rules);

/// A code policy for login codes, voicemail codes and phone passwords (SPEC POL-5).
struct pin_rules {
  std::size_t min_length = 4;
  std::size_t max_length = 31;
  bool complexity_test = true;
};

/// Checks a digits-only code: login code, voicemail code or phone password (SPEC POL-5). With
/// `complexity_test`, refuses repeated digits, sequences, keypad patterns, and the extension
/// or its reverse (an empty extension skips those two). An empty code passes when
/// `min_length` is 0, because a code may be left unset.
std::optional<credential_rejection> check_pin(std::string_view code, std::string_view extension,
                                              const pin_rules& rules);

// SPEC POL-6 field limits.

/// A service user password is 1-31 Unicode characters.
inline constexpr std::size_t service_user_password_max = 31;
/// A system password is 1-31 printable ASCII characters.
inline constexpr std::size_t system_password_max = 31;
/// A voicemail code is 0-15 digits.
inline constexpr std::size_t voicemail_code_max = 15;
/// A login code is 0-31 digits.
inline constexpr std::size_t login_code_max = 31;
/// The voicemail-server link password is exactly this long and always generated.
inline constexpr std::size_t voicemail_link_password_length = 31;
/// A remote worker's phone password has at least this many digits (SPEC POL-5).
inline constexpr std::size_t remote_worker_phone_password_min = 9;
/// The phone password length POL-5 recommends for remote workers.
inline constexpr std::size_t remote_worker_phone_password_recommended = 13;

/// Checks a system password: 1-31 printable ASCII characters (0x20-0x7e), no other rules.
std::optional<credential_rejection> check_system_password(std::string_view password);

/// Refuses a secret equal to `extension` or to it reversed (SPEC POL-3, POL-5); an empty
/// extension refuses nothing.
std::optional<credential_rejection> check_not_extension(std::string_view secret,
                                                        std::string_view extension);

/// Checks a remote worker's phone password (SPEC POL-5): at least 9 digits, never a sequence,
/// repeat, keypad pattern or the extension. This is `check_pin` with a minimum of 9, the
/// login code maximum and the complexity test on.
std::optional<credential_rejection> check_remote_worker_phone_password(std::string_view code,
                                                                       std::string_view extension);

/// Generates the 31-character voicemail link password from printable ASCII without space,
/// drawing from `random` with rejection sampling so no character is favoured. The result
/// always passes `check_password` at `complexity::high` with a minimum of 31 and no account
/// name. `random` must be a working source: one that keeps returning the same bytes never
/// yields a valid password, and the generator keeps drawing.
std::string generate_link_password(const random_source& random);

} // namespace ward::security
