#include "telephony/fraud_rule.hpp"

#include "core/enum_names.hpp"

#include <algorithm>

namespace ward::telephony {
namespace {

constexpr auto scope_names = name_table(
    enum_name{fraud_scope::user, "user"}, enum_name{fraud_scope::rights_template, "template"},
    enum_name{fraud_scope::trunk, "trunk"}, enum_name{fraud_scope::every_user, "every_user"});

constexpr auto measure_names =
    name_table(enum_name{fraud_measure::calls_per_minute, "calls_per_minute"},
               enum_name{fraud_measure::calls_per_hour, "calls_per_hour"},
               enum_name{fraud_measure::concurrent_calls, "concurrent_calls"},
               enum_name{fraud_measure::sequential_calls, "sequential_calls"},
               enum_name{fraud_measure::call_seconds, "call_seconds"},
               enum_name{fraud_measure::daily_minutes, "daily_minutes"});

constexpr auto action_names = name_table(
    enum_name{fraud_action::alarm, "alarm"}, enum_name{fraud_action::bar_user, "bar_user"},
    enum_name{fraud_action::disable_trunk, "disable_trunk"},
    enum_name{fraud_action::require_auth_code, "require_auth_code"});

constexpr auto level_names = name_table(enum_name{fraud_level::warning, "warning"},
                                        enum_name{fraud_level::critical, "critical"});

constexpr auto errc_names = name_table(enum_name{fraud_rule_errc::bad_name, "bad_name"},
                                       enum_name{fraud_rule_errc::bad_subject, "bad_subject"},
                                       enum_name{fraud_rule_errc::bad_prefix, "bad_prefix"},
                                       enum_name{fraud_rule_errc::bad_levels, "bad_levels"});

std::unexpected<fraud_rule_error> fail(fraud_rule_errc code, std::string detail) {
  return std::unexpected(fraud_rule_error{code, std::move(detail)});
}

bool is_rule_name(std::string_view text) {
  return !text.empty() && text.size() <= 31 && std::ranges::all_of(text, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

/// The highest limit a level of `measure` may have: a day's worth.
std::uint32_t highest_limit(fraud_measure measure) {
  switch (measure) {
    case fraud_measure::call_seconds:
      return 86'400;
    case fraud_measure::daily_minutes:
      return 1'440 * 100;
    default:
      return 100'000;
  }
}

} // namespace

std::string_view to_string(fraud_scope scope) {
  return name_of(scope_names, scope);
}
std::string_view to_string(fraud_measure measure) {
  return name_of(measure_names, measure);
}
std::string_view to_string(fraud_action action) {
  return name_of(action_names, action);
}
std::string_view to_string(fraud_level level) {
  return name_of(level_names, level);
}
std::string_view to_string(fraud_rule_errc code) {
  return name_of(errc_names, code);
}
std::optional<fraud_scope> parse_fraud_scope(std::string_view text) {
  return parse_name(scope_names, text);
}
std::optional<fraud_measure> parse_fraud_measure(std::string_view text) {
  return parse_name(measure_names, text);
}
std::optional<fraud_action> parse_fraud_action(std::string_view text) {
  return parse_name(action_names, text);
}

std::expected<void, fraud_rule_error> check_fraud_rule(const fraud_rule& rule) {
  if (!is_rule_name(rule.name))
    return fail(fraud_rule_errc::bad_name, "name: 1 to 31 of a-z 0-9 - _ .");
  if ((rule.scope == fraud_scope::every_user) != rule.subject.empty())
    return fail(fraud_rule_errc::bad_subject,
                rule.scope == fraud_scope::every_user
                    ? "subject: a rule for every user names no subject"
                    : "subject: a " + std::string(to_string(rule.scope)) + " rule names its " +
                          std::string(to_string(rule.scope)));
  if (rule.prefix.size() > max_fraud_prefix_length || !std::ranges::all_of(rule.prefix, [](char c) {
        return (c >= '0' && c <= '9') || c == '+' || c == '*' || c == '#';
      }))
    return fail(fraud_rule_errc::bad_prefix,
                "prefix: up to " + std::to_string(max_fraud_prefix_length) + " digits, + * # only");
  if (rule.measure == fraud_measure::sequential_calls && rule.prefix.empty())
    return fail(fraud_rule_errc::bad_prefix,
                "prefix: sequential_calls counts calls in a row to a prefix, so it needs one");
  if (rule.warning.limit == 0 && rule.critical.limit == 0)
    return fail(fraud_rule_errc::bad_levels, "warning: a rule needs a warning or a critical level");
  const auto highest = highest_limit(rule.measure);
  for (const auto* level : {&rule.warning, &rule.critical})
    if (level->limit > highest)
      return fail(fraud_rule_errc::bad_levels,
                  std::string(level == &rule.warning ? "warning" : "critical") + ": at most " +
                      std::to_string(highest) + " for " + std::string(to_string(rule.measure)));
  if (rule.warning.limit != 0 && rule.critical.limit != 0 &&
      rule.warning.limit >= rule.critical.limit)
    return fail(fraud_rule_errc::bad_levels, "warning: must be below the critical level (" +
                                                 std::to_string(rule.critical.limit) + ")");
  return {};
}

bool covers_number(const fraud_rule& rule, std::string_view number) {
  return number.starts_with(rule.prefix);
}

} // namespace ward::telephony
