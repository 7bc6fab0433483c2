#pragma once

#include "telephony/dial_plan_config.hpp"

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ward::telephony {

/// Where a short code set or a barring setting lives.
enum class plan_scope_kind : std::uint8_t { system, rights_template, user, ars };

struct plan_scope {
  plan_scope_kind kind = plan_scope_kind::system;
  /// The template or user name.
  std::string name;
  std::uint32_t ars_id = 0;
};

/// "system", "template:NAME", "user:NAME" or "ars:ID".
std::expected<plan_scope, error> parse_plan_scope(std::string_view text);
std::string to_string(const plan_scope& scope);

/// One edit of the dial plan as the audit trail records it: what changed, and how it
/// read before and after ("(none)" for a creation or a removal).
struct plan_edit {
  std::string object;
  std::string before;
  std::string after;
};

/// The edits below change `plan` in place and say what they changed; they check what they
/// are given (names, syntax) and that what they change exists. Whether the plan as a whole
/// still holds (references, emergency routes) is set_dial_plan's check, made afterwards.
/// Errors read "field: reason"; errc::not_found when a named thing does not exist.
std::expected<plan_edit, error> set_short_code(dial_plan_config& plan, const plan_scope& scope,
                                               short_code code);
std::expected<plan_edit, error> remove_short_code(dial_plan_config& plan, const plan_scope& scope,
                                                  std::string_view code);

/// Creates table `fields.id` or changes its name, trunks, time profile and fallback; the
/// codes of `fields` are ignored (a table's codes change with set_short_code).
std::expected<plan_edit, error> set_ars_table(dial_plan_config& plan, const ars_table& fields);
/// 50:Main cannot be removed.
std::expected<plan_edit, error> remove_ars_table(dial_plan_config& plan, std::uint32_t id);

std::expected<plan_edit, error> set_time_profile(dial_plan_config& plan, time_profile profile);
std::expected<plan_edit, error> remove_time_profile(dial_plan_config& plan, std::string_view name);

/// Scope system, template or user; at the system, inherit puts back the default.
std::expected<plan_edit, error> set_barring(dial_plan_config& plan, const plan_scope& scope,
                                            calling_class of, bar_setting setting);

/// Creates or replaces a trunk; an empty password keeps the stored one (reads never show
/// it, so a change made from what was read must not wipe it).
std::expected<plan_edit, error> set_trunk(dial_plan_config& plan, trunk_config trunk);
std::expected<plan_edit, error> remove_trunk(dial_plan_config& plan, std::string_view name);

/// Adds a route, or changes the extension of the route with the same trunk and number.
std::expected<plan_edit, error> set_incoming_route(dial_plan_config& plan, incoming_route route);
std::expected<plan_edit, error>
remove_incoming_route(dial_plan_config& plan, std::string_view trunk, std::string_view number);

/// Creates a template, or changes its switch when `inhibit_off_switch` is given.
std::expected<plan_edit, error> set_template(dial_plan_config& plan, std::string_view name,
                                             std::optional<bool> inhibit_off_switch);
std::expected<plan_edit, error> remove_template(dial_plan_config& plan, std::string_view name);

/// The fields of one user's dial settings to change; unset ones stay.
struct user_dial_fields {
  std::optional<std::string> rights_template;
  std::optional<bool> outgoing_call_barred;
  std::optional<bool> inhibit_off_switch;
  std::optional<std::string> forward_unconditional;
  std::optional<std::string> forward_on_busy;
  std::optional<std::string> forward_on_no_answer;
  std::optional<bool> auth_code_required;
};

std::expected<plan_edit, error> set_user_dial(dial_plan_config& plan, std::string_view user,
                                              const user_dial_fields& fields);

/// "pattern=class" rules and caller-ID prefixes, or a preset when `preset` is given.
std::expected<plan_edit, error> set_numbering(dial_plan_config& plan,
                                              std::optional<numbering_preset> preset,
                                              std::vector<std::string> caller_id_prefixes,
                                              const std::vector<std::string>& class_rules);

std::expected<plan_edit, error> set_switches(dial_plan_config& plan,
                                             std::optional<bool> inhibit_off_switch,
                                             std::optional<bool> trunk_to_trunk_transfer);

/// Creates or replaces the fraud rule named `rule.name` (SPEC TF-10).
std::expected<plan_edit, error> set_fraud_rule(dial_plan_config& plan, fraud_rule rule);
std::expected<plan_edit, error> remove_fraud_rule(dial_plan_config& plan, std::string_view name);

/// Sets the authorization code of a user or template (SPEC TF-5), replacing its old one;
/// the digits are kept only as a keyed hash (the key is made with the first code). A code
/// another owner has is refused, as are weak ones (check_auth_code_digits).
std::expected<plan_edit, error> set_auth_code(dial_plan_config& plan, auth_code_owner_kind kind,
                                              std::string_view owner, std::string_view digits,
                                              const random_source& random);
std::expected<plan_edit, error> remove_auth_code(dial_plan_config& plan, auth_code_owner_kind kind,
                                                 std::string_view owner);

/// How one fraud rule reads in the audit trail and wardctl:
/// "user alice 00 calls_per_minute warning 3 alarm critical 5 bar_user".
std::string describe(const fraud_rule& rule);

/// "mon,tue=08:00-17:00" → a weekly entry; "2026-12-24=09:00-12:00" → a dated entry.
std::expected<weekly_entry, error> parse_weekly_entry(std::string_view text);
std::expected<dated_entry, error> parse_dated_entry(std::string_view text);

/// How one short code reads in the audit trail and wardctl: "9N dial N 50:Main".
std::string describe(const short_code& code);

} // namespace ward::telephony
