#include "actors/security_db_state.hpp"

#include "security/commit_or_roll_back.hpp"
#include "telephony/dial_plan_edit.hpp"

#include <caf/event_based_actor.hpp>

// The security actor's part in fraud thresholds (SPEC TF-10): every level a rule reached is
// an alarm; on the primary its action changes the dial plan like an administrator would,
// audited with the rule as the actor, and replicates to every node.
namespace ward::actors::security_db {
namespace {

/// The edit an action makes, or nothing when it is only an alarm or already in force.
std::optional<std::expected<telephony::plan_edit, telephony::error>>
action_edit(telephony::dial_plan_config& plan, const telephony::fraud_trip& trip) {
  using telephony::fraud_action;
  if (trip.action == fraud_action::bar_user && !trip.user.empty()) {
    if (auto it = plan.users.find(trip.user);
        it != plan.users.end() && it->second.outgoing_call_barred)
      return std::nullopt;
    telephony::user_dial_fields fields;
    fields.outgoing_call_barred = true;
    return telephony::set_user_dial(plan, trip.user, fields);
  }
  if (trip.action == fraud_action::require_auth_code && !trip.user.empty()) {
    if (auto it = plan.users.find(trip.user);
        it != plan.users.end() && it->second.auth_code_required)
      return std::nullopt;
    telephony::user_dial_fields fields;
    fields.auth_code_required = true;
    return telephony::set_user_dial(plan, trip.user, fields);
  }
  if (trip.action == fraud_action::disable_trunk && !trip.trunk.empty()) {
    auto it = plan.trunks.find(trip.trunk);
    if (it == plan.trunks.end() || !it->second.enabled)
      return std::nullopt;
    auto trunk = it->second;
    trunk.enabled = false;
    return telephony::set_trunk(plan, std::move(trunk));
  }
  return std::nullopt;
}

void carry_out(self_pointer self, const telephony::fraud_trip& trip, const std::string& actor) {
  auto& deps = *self->state.deps;
  std::optional<telephony::plan_edit> made;
  std::optional<security_error> refused;
  auto failed = security::commit_or_roll_back(
      std::tie(deps.directory),
      [&]() -> std::optional<security_error> {
        auto plan = deps.directory.data().dial_plan;
        auto edit = action_edit(plan, trip);
        if (!edit)
          return std::nullopt;
        if (!*edit) {
          refused = security_error{security_errc::not_found, "fraud_action", edit->error().detail};
          return refused;
        }
        if (auto set = deps.directory.set_dial_plan(std::move(plan)); !set) {
          refused = set.error();
          return refused;
        }
        made = std::move(**edit);
        return std::nullopt;
      },
      [&]() -> std::optional<security_error> {
        return made ? persist(self, transaction_writes::directory) : std::nullopt;
      });
  if (!made && !failed)
    return;
  auto record = record_of(
      audit_kind::change, failed ? audit_outcome::failure : audit_outcome::success, actor,
      request_origin{}, "FraudAction", made ? made->object : "dial_plan/fraud_rule/" + trip.rule,
      failed ? failed->message : telephony::describe(trip));
  if (made && !failed) {
    record.before = made->before;
    record.after = made->after;
  }
  audit(self, std::move(record));
}

} // namespace

void handle_fraud_trips(self_pointer self, const fraud_trips& report) {
  auto& deps = *self->state.deps;
  for (const auto& trip : report.trips) {
    const auto actor = "fraud-rule/" + trip.rule;
    const bool counted_here = report.node == deps.node_name;
    // The node whose counters reached the level alarms (its trail reaches the primary).
    if (counted_here) {
      auto reason = telephony::describe(trip);
      if (report.local_cap)
        reason += " (counted on this node alone: its line to the primary is down)";
      audit(self, record_of(audit_kind::alarm, audit_outcome::failure, actor, request_origin{},
                            "fraud_" + std::string(telephony::to_string(trip.level)),
                            trip.user.empty() ? "trunk/" + trip.trunk : "user/" + trip.user,
                            std::move(reason)));
    }
    if (deps.settings_writer)
      carry_out(self, trip, counted_here ? actor : actor + "@" + report.node);
  }
}

} // namespace ward::actors::security_db
