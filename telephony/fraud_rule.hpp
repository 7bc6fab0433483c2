#pragma once

#include "core/typed_error.hpp"

#include <cstdint>
#include <expected>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace ward::telephony {

/// Whose calls a fraud rule counts (SPEC TF-10). Each user (or trunk) the rule covers has
/// counters of its own: a template rule limits every user of the template separately.
enum class fraud_scope : std::uint8_t {
  /// One named user.
  user,
  /// Every user of one named rights template.
  rights_template,
  /// One named trunk: every call leaving through it, whoever places it.
  trunk,
  /// Every user.
  every_user,
};

/// What a fraud rule measures, over the outside calls it covers.
enum class fraud_measure : std::uint8_t {
  /// Calls started in the last 60 seconds.
  calls_per_minute,
  /// Calls started in the last hour.
  calls_per_hour,
  /// Calls up at once.
  concurrent_calls,
  /// Calls in a row to the rule's prefix, none in between to another number, none more
  /// than an hour after the one before.
  sequential_calls,
  /// Seconds one call has been up.
  call_seconds,
  /// Minutes of calls since local midnight, calls still up included.
  daily_minutes,
};

/// What reaching a level does. Every level reached raises an alarm and is audited and
/// counted; the action says what else happens.
enum class fraud_action : std::uint8_t {
  /// Nothing more.
  alarm,
  /// The user who placed the call gets Outgoing Call Bar On: only internal and emergency
  /// calls until an administrator lifts it.
  bar_user,
  /// The trunk the call left through is disabled until an administrator enables it.
  disable_trunk,
  /// The user who placed the call reaches outside numbers only with an authorization code
  /// (SPEC TF-5) until an administrator lifts it.
  require_auth_code,
};

inline constexpr std::size_t fraud_action_count = 4;

enum class fraud_level : std::uint8_t { warning, critical };

std::string_view to_string(fraud_scope scope);
std::string_view to_string(fraud_measure measure);
std::string_view to_string(fraud_action action);
std::string_view to_string(fraud_level level);
std::optional<fraud_scope> parse_fraud_scope(std::string_view text);
std::optional<fraud_measure> parse_fraud_measure(std::string_view text);
std::optional<fraud_action> parse_fraud_action(std::string_view text);

/// One level of a rule; a limit of 0 leaves the level unset. The level is reached when the
/// measure reaches the limit (the fifth call in a minute reaches a limit of 5).
struct fraud_threshold {
  std::uint32_t limit = 0;
  fraud_action action = fraud_action::alarm;
  bool operator==(const fraud_threshold&) const = default;
};

/// A fraud threshold rule (SPEC TF-10).
struct fraud_rule {
  /// 1 to 31 of a-z 0-9 - _ .
  std::string name;
  fraud_scope scope = fraud_scope::every_user;
  /// The user, template or trunk name; empty for every_user.
  std::string subject;
  /// Only calls whose number sent to the carrier starts with these digits; empty = every
  /// outside call.
  std::string prefix;
  /// Only calls started while this time profile is active; empty = always.
  std::string time_profile;
  fraud_measure measure = fraud_measure::calls_per_minute;
  fraud_threshold warning;
  fraud_threshold critical;
  bool operator==(const fraud_rule&) const = default;
};

inline constexpr std::size_t max_fraud_rules = 1000;
inline constexpr std::size_t max_fraud_prefix_length = 20;

enum class fraud_rule_errc : std::uint8_t { bad_name, bad_subject, bad_prefix, bad_levels };

std::string_view to_string(fraud_rule_errc code);

using fraud_rule_error = typed_error<fraud_rule_errc>;

/// What a node's own fraud counters hold while its line to the primary is down (SPEC
/// TF-10: the primary is authoritative, a node keeps a local cap): users barred from
/// outside calls and trunks disabled on this node only, until the primary has the trips.
struct fraud_holds {
  std::set<std::string, std::less<>> users;
  std::set<std::string, std::less<>> trunks;
  bool operator==(const fraud_holds&) const = default;
};

/// Checks one rule on its own (names, prefix, levels); whether its subject and time
/// profile exist is the dial plan's check. The detail reads "field: reason".
std::expected<void, fraud_rule_error> check_fraud_rule(const fraud_rule& rule);

/// Whether a call with `number` (the number sent to the carrier) is one `rule` covers by
/// its prefix.
bool covers_number(const fraud_rule& rule, std::string_view number);

} // namespace ward::telephony
