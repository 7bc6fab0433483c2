#include "node/admin/convert.hpp"
#include "node/admin/services.hpp"

#include "dial_plan.grpc.pb.h"
#include "telephony/dial_plan.hpp"
#include "telephony/dial_plan_edit.hpp"

namespace ward::node::admin_api {
namespace {

using telephony::dial_plan_config;
using telephony::plan_edit;

// ---- the dial plan as the API shows it -------------------------------------------------

void fill(pb::ShortCode* out, const telephony::short_code& code) {
  out->set_code(code.code);
  out->set_feature(std::string(telephony::to_string(code.feature)));
  out->set_telephone(code.telephone);
  out->set_route(code.route);
}

template <class Repeated>
void fill_codes(Repeated* out, const std::vector<telephony::short_code>& codes) {
  for (const auto& code : codes)
    fill(out->Add(), code);
}

template <class Map> void fill_barring(Map* out, const telephony::class_barring& barring) {
  for (std::size_t i = 0; i < telephony::calling_class_count; ++i)
    if (barring.settings[i] != telephony::bar_setting::inherit)
      (*out)[std::string(telephony::to_string(static_cast<telephony::calling_class>(i)))] =
          std::string(telephony::to_string(barring.settings[i]));
}

void fill(pb::Trunk* out, const telephony::trunk_config& trunk) {
  out->set_name(trunk.name);
  out->set_address(trunk.address);
  out->set_port(trunk.port);
  out->set_transport(std::string(telephony::to_string(trunk.kind)));
  out->set_domain(trunk.domain);
  out->set_username(trunk.username);
  out->set_password_set(!trunk.password.empty());
  out->set_caller_id(trunk.caller_id);
  out->set_channels(trunk.channels);
  if (trunk.media_security)
    out->set_media_security(std::string(media::to_string(*trunk.media_security)));
  out->set_enabled(trunk.enabled);
}

void fill(pb::TimeProfile* out, const telephony::time_profile& profile) {
  out->set_name(profile.name);
  for (const auto& entry : profile.weekly)
    out->add_weekly(telephony::format_days(entry.days) + "=" +
                    telephony::format_day_span(entry.span));
  for (const auto& entry : profile.dated)
    out->add_dated(telephony::format_date(entry.date) + "=" +
                   telephony::format_day_span(entry.span));
  for (const auto& date : profile.closed)
    out->add_closed(telephony::format_date(date));
}

void fill(pb::FraudRule* out, const telephony::fraud_rule& rule) {
  out->set_name(rule.name);
  out->set_scope(std::string(telephony::to_string(rule.scope)));
  out->set_subject(rule.subject);
  out->set_prefix(rule.prefix);
  out->set_time_profile(rule.time_profile);
  out->set_measure(std::string(telephony::to_string(rule.measure)));
  out->set_warning(rule.warning.limit);
  out->set_warning_action(std::string(telephony::to_string(rule.warning.action)));
  out->set_critical(rule.critical.limit);
  out->set_critical_action(std::string(telephony::to_string(rule.critical.action)));
}

void fill(pb::DialPlan* out, const dial_plan_config& plan) {
  fill_codes(out->mutable_system_codes(), plan.system_short_codes);
  for (const auto& [name, rights] : plan.templates) {
    auto* entry = out->add_templates();
    entry->set_name(name);
    fill_codes(entry->mutable_codes(), rights.short_codes);
    fill_barring(entry->mutable_barring(), rights.barring);
    entry->set_inhibit_off_switch(rights.inhibit_off_switch);
  }
  for (const auto& [name, user] : plan.users) {
    auto* entry = out->add_users();
    entry->set_user(name);
    entry->set_rights_template(user.rights_template);
    fill_codes(entry->mutable_codes(), user.short_codes);
    fill_barring(entry->mutable_barring(), user.barring);
    entry->set_outgoing_call_barred(user.outgoing_call_barred);
    entry->set_inhibit_off_switch(user.inhibit_off_switch);
    entry->set_forward_unconditional(user.forward.unconditional);
    entry->set_forward_on_busy(user.forward.on_busy);
    entry->set_forward_on_no_answer(user.forward.on_no_answer);
    entry->set_auth_code_required(user.auth_code_required);
  }
  for (const auto& table : plan.ars_tables) {
    auto* entry = out->add_ars();
    entry->set_id(table.id);
    entry->set_name(table.name);
    fill_codes(entry->mutable_codes(), table.codes);
    for (const auto& trunk : table.trunks)
      entry->add_trunks(trunk);
    entry->set_time_profile(table.time_profile);
    entry->set_out_of_hours(table.out_of_hours);
  }
  for (const auto& profile : plan.time_profiles)
    fill(out->add_time_profiles(), profile);
  for (const auto& prefix : plan.numbering.caller_id_prefixes)
    out->add_caller_id_prefixes(prefix);
  for (const auto& rule : plan.numbering.rules)
    out->add_class_rules(rule.pattern + "=" + std::string(telephony::to_string(rule.of)));
  fill_barring(out->mutable_system_barring(), plan.system_barring);
  out->set_inhibit_off_switch(plan.inhibit_off_switch);
  out->set_trunk_to_trunk_transfer(plan.trunk_to_trunk_transfer);
  for (const auto& [_, trunk] : plan.trunks)
    fill(out->add_trunks(), trunk);
  for (const auto& route : plan.incoming_routes) {
    auto* entry = out->add_incoming_routes();
    entry->set_trunk(route.trunk);
    entry->set_number(route.number);
    entry->set_extension(route.extension);
  }
  for (const auto& rule : plan.fraud_rules)
    fill(out->add_fraud_rules(), rule);
  for (const auto& entry : plan.auth_codes)
    out->add_auth_code_owners(telephony::owner_text(entry));
}

// ---- requests into edits ---------------------------------------------------------------

/// A telephony error as the API reports it: the field before ": ", the rest as the message.
security_error refusal(const telephony::error& error) {
  const auto colon = error.detail.find(": ");
  const auto field =
      colon == std::string::npos ? std::string("dial_plan") : error.detail.substr(0, colon);
  const auto message = colon == std::string::npos ? error.detail : error.detail.substr(colon + 2);
  return {error.code == telephony::errc::not_found ? security_errc::not_found
                                                   : security_errc::invalid_argument,
          field, message};
}

using edit_result = std::expected<plan_edit, security_error>;

edit_result lifted(std::expected<plan_edit, telephony::error> edit) {
  if (!edit)
    return std::unexpected(refusal(edit.error()));
  return std::move(*edit);
}

std::expected<telephony::short_code, security_error> short_code_of(const pb::ShortCode& code) {
  const auto feature = telephony::parse_short_code_feature(code.feature());
  if (!feature)
    return std::unexpected(invalid("feature", "'" + code.feature() +
                                                  "' is not a short code feature (dial, barred, "
                                                  "dial_emergency, outgoing_call_bar_on, ...)"));
  return telephony::short_code{code.code(), *feature, code.telephone(), code.route()};
}

std::expected<telephony::plan_scope, security_error> scope_of(const std::string& text) {
  auto scope = telephony::parse_plan_scope(text);
  if (!scope)
    return std::unexpected(refusal(scope.error()));
  return std::move(*scope);
}

edit_result short_code_change(dial_plan_config& plan, const pb::ShortCodeChange& change) {
  auto scope = scope_of(change.scope());
  if (!scope)
    return std::unexpected(scope.error());
  if (change.remove())
    return lifted(telephony::remove_short_code(plan, *scope, change.code().code()));
  auto code = short_code_of(change.code());
  if (!code)
    return std::unexpected(code.error());
  return lifted(telephony::set_short_code(plan, *scope, std::move(*code)));
}

edit_result ars_change(dial_plan_config& plan, const pb::ArsChange& change) {
  const auto& table = change.table();
  if (change.remove())
    return lifted(telephony::remove_ars_table(plan, table.id()));
  telephony::ars_table fields;
  fields.id = table.id();
  fields.name = table.name();
  fields.trunks.assign(table.trunks().begin(), table.trunks().end());
  fields.time_profile = table.time_profile();
  fields.out_of_hours = table.out_of_hours();
  return lifted(telephony::set_ars_table(plan, fields));
}

edit_result time_profile_change(dial_plan_config& plan, const pb::TimeProfileChange& change) {
  const auto& wanted = change.profile();
  if (change.remove())
    return lifted(telephony::remove_time_profile(plan, wanted.name()));
  telephony::time_profile profile;
  profile.name = wanted.name();
  for (const auto& text : wanted.weekly()) {
    auto entry = telephony::parse_weekly_entry(text);
    if (!entry)
      return std::unexpected(refusal(entry.error()));
    profile.weekly.push_back(*entry);
  }
  for (const auto& text : wanted.dated()) {
    auto entry = telephony::parse_dated_entry(text);
    if (!entry)
      return std::unexpected(refusal(entry.error()));
    profile.dated.push_back(*entry);
  }
  for (const auto& text : wanted.closed()) {
    auto date = telephony::parse_date(text);
    if (!date)
      return std::unexpected(invalid("closed", date.error().detail));
    profile.closed.push_back(*date);
  }
  return lifted(telephony::set_time_profile(plan, std::move(profile)));
}

edit_result barring_change(dial_plan_config& plan, const pb::BarringChange& change) {
  auto scope = scope_of(change.scope());
  if (!scope)
    return std::unexpected(scope.error());
  const auto of = telephony::parse_calling_class(change.calling_class());
  if (!of)
    return std::unexpected(
        invalid("calling_class", "'" + change.calling_class() +
                                     "' is not internal, local, national, mobile, "
                                     "international or premium"));
  const auto setting = telephony::parse_bar_setting(change.setting());
  if (!setting)
    return std::unexpected(
        invalid("setting", "'" + change.setting() + "' is not inherit, barred or allowed"));
  return lifted(telephony::set_barring(plan, *scope, *of, *setting));
}

edit_result trunk_change(dial_plan_config& plan, const pb::TrunkChange& change) {
  const auto& wanted = change.trunk();
  if (change.remove())
    return lifted(telephony::remove_trunk(plan, wanted.name()));
  telephony::trunk_config trunk;
  trunk.name = wanted.name();
  trunk.address = wanted.address();
  if (wanted.port() > 65535)
    return std::unexpected(invalid("port", "must be 1 to 65535"));
  trunk.port = wanted.port() == 0 ? trunk.port : static_cast<std::uint16_t>(wanted.port());
  if (!wanted.transport().empty()) {
    const auto kind = telephony::parse_transport(wanted.transport());
    if (!kind || *kind == telephony::transport::line)
      return std::unexpected(invalid("transport", "must be udp, tcp or tls"));
    trunk.kind = *kind;
  }
  trunk.domain = wanted.domain();
  trunk.username = wanted.username();
  trunk.password = wanted.password();
  trunk.caller_id = wanted.caller_id();
  trunk.channels = wanted.channels() == 0 ? trunk.channels : wanted.channels();
  if (!wanted.media_security().empty()) {
    const auto level = media::parse_media_security(wanted.media_security());
    if (!level)
      return std::unexpected(invalid("media_security", "must be disabled, best_effort or enforce"));
    trunk.media_security = *level;
  }
  trunk.enabled = wanted.enabled();
  return lifted(telephony::set_trunk(plan, std::move(trunk)));
}

edit_result incoming_route_change(dial_plan_config& plan, const pb::IncomingRouteChange& change) {
  const auto& route = change.route();
  if (change.remove())
    return lifted(telephony::remove_incoming_route(plan, route.trunk(), route.number()));
  return lifted(telephony::set_incoming_route(
      plan, telephony::incoming_route{route.trunk(), route.number(), route.extension()}));
}

edit_result template_change(dial_plan_config& plan, const pb::TemplateChange& change) {
  if (change.remove())
    return lifted(telephony::remove_template(plan, change.name()));
  return lifted(telephony::set_template(
      plan, change.name(),
      change.has_inhibit_off_switch() ? std::optional(change.inhibit_off_switch()) : std::nullopt));
}

edit_result user_change(dial_plan_config& plan, const pb::UserDialChange& change) {
  telephony::user_dial_fields fields;
  if (change.has_rights_template())
    fields.rights_template = change.rights_template();
  if (change.has_outgoing_call_barred())
    fields.outgoing_call_barred = change.outgoing_call_barred();
  if (change.has_inhibit_off_switch())
    fields.inhibit_off_switch = change.inhibit_off_switch();
  if (change.has_forward_unconditional())
    fields.forward_unconditional = change.forward_unconditional();
  if (change.has_forward_on_busy())
    fields.forward_on_busy = change.forward_on_busy();
  if (change.has_forward_on_no_answer())
    fields.forward_on_no_answer = change.forward_on_no_answer();
  if (change.has_auth_code_required())
    fields.auth_code_required = change.auth_code_required();
  return lifted(telephony::set_user_dial(plan, change.user(), fields));
}

edit_result numbering_change(dial_plan_config& plan, const pb::NumberingChange& change) {
  std::optional<telephony::numbering_preset> preset;
  if (!change.preset().empty()) {
    preset = telephony::parse_numbering_preset(change.preset());
    if (!preset)
      return std::unexpected(invalid("preset", "'" + change.preset() + "' is not nanp or uk"));
  }
  return lifted(telephony::set_numbering(
      plan, preset, {change.caller_id_prefixes().begin(), change.caller_id_prefixes().end()},
      {change.class_rules().begin(), change.class_rules().end()}));
}

edit_result switches_change(dial_plan_config& plan, const pb::SwitchesChange& change) {
  return lifted(telephony::set_switches(
      plan,
      change.has_inhibit_off_switch() ? std::optional(change.inhibit_off_switch()) : std::nullopt,
      change.has_trunk_to_trunk_transfer() ? std::optional(change.trunk_to_trunk_transfer())
                                           : std::nullopt));
}

std::expected<telephony::fraud_action, security_error> fraud_action_of(const std::string& text,
                                                                       const std::string& field) {
  if (text.empty())
    return telephony::fraud_action::alarm;
  if (auto action = telephony::parse_fraud_action(text))
    return *action;
  return std::unexpected(
      invalid(field, "'" + text + "' is not alarm, bar_user, disable_trunk or require_auth_code"));
}

edit_result fraud_rule_change(dial_plan_config& plan, const pb::FraudRuleChange& change) {
  const auto& wanted = change.rule();
  if (change.remove())
    return lifted(telephony::remove_fraud_rule(plan, wanted.name()));
  telephony::fraud_rule rule;
  rule.name = wanted.name();
  const auto scope = telephony::parse_fraud_scope(wanted.scope());
  if (!scope)
    return std::unexpected(
        invalid("scope", "'" + wanted.scope() + "' is not user, template, trunk or every_user"));
  rule.scope = *scope;
  rule.subject = wanted.subject();
  rule.prefix = wanted.prefix();
  rule.time_profile = wanted.time_profile();
  const auto measure = telephony::parse_fraud_measure(wanted.measure());
  if (!measure)
    return std::unexpected(
        invalid("measure", "'" + wanted.measure() +
                               "' is not calls_per_minute, calls_per_hour, concurrent_calls, "
                               "sequential_calls, call_seconds or daily_minutes"));
  rule.measure = *measure;
  auto warning = fraud_action_of(wanted.warning_action(), "warning_action");
  if (!warning)
    return std::unexpected(warning.error());
  auto critical = fraud_action_of(wanted.critical_action(), "critical_action");
  if (!critical)
    return std::unexpected(critical.error());
  rule.warning = {wanted.warning(), *warning};
  rule.critical = {wanted.critical(), *critical};
  return lifted(telephony::set_fraud_rule(plan, std::move(rule)));
}

edit_result auth_code_change(dial_plan_config& plan, const pb::AuthCodeChange& change,
                             const random_source& random) {
  const auto& owner = change.owner();
  telephony::auth_code_owner_kind kind;
  std::string name;
  if (owner.starts_with("user:")) {
    kind = telephony::auth_code_owner_kind::user;
    name = owner.substr(5);
  } else if (owner.starts_with("template:")) {
    kind = telephony::auth_code_owner_kind::rights_template;
    name = owner.substr(9);
  } else {
    return std::unexpected(invalid("owner", "'" + owner + "' is not user:NAME or template:NAME"));
  }
  if (change.remove())
    return lifted(telephony::remove_auth_code(plan, kind, name));
  return lifted(telephony::set_auth_code(plan, kind, name, change.code(), random));
}

edit_result apply_change(dial_plan_config& plan, const pb::DialPlanChange& change,
                         const random_source& random) {
  switch (change.change_case()) {
    case pb::DialPlanChange::kShortCode:
      return short_code_change(plan, change.short_code());
    case pb::DialPlanChange::kArs:
      return ars_change(plan, change.ars());
    case pb::DialPlanChange::kTimeProfile:
      return time_profile_change(plan, change.time_profile());
    case pb::DialPlanChange::kBarring:
      return barring_change(plan, change.barring());
    case pb::DialPlanChange::kTrunk:
      return trunk_change(plan, change.trunk());
    case pb::DialPlanChange::kIncomingRoute:
      return incoming_route_change(plan, change.incoming_route());
    case pb::DialPlanChange::kRightsTemplate:
      return template_change(plan, change.rights_template());
    case pb::DialPlanChange::kUser:
      return user_change(plan, change.user());
    case pb::DialPlanChange::kNumbering:
      return numbering_change(plan, change.numbering());
    case pb::DialPlanChange::kSwitches:
      return switches_change(plan, change.switches());
    case pb::DialPlanChange::kFraudRule:
      return fraud_rule_change(plan, change.fraud_rule());
    case pb::DialPlanChange::kAuthCode:
      return auth_code_change(plan, change.auth_code(), random);
    case pb::DialPlanChange::CHANGE_NOT_SET:
      break;
  }
  return std::unexpected(invalid("change", "no change given"));
}

/// SPEC TF-6: a forward to a number the user may not reach (barred, inhibited off-switch,
/// an emergency number, no number at all) is refused when it is set, not only when used.
std::optional<security_error> refused_forward(const security_context& c,
                                              const dial_plan_config& plan,
                                              const pb::DialPlanChange& change) {
  if (change.change_case() != pb::DialPlanChange::kUser)
    return std::nullopt;
  const auto& user = change.user();
  auto data = c.directory.data();
  data.dial_plan = plan;
  auto compiled = telephony::compile_dial_plan(data);
  if (!compiled)
    return refusal(compiled.error());
  const std::pair<const char*, const std::string*> targets[] = {
      {"forward_unconditional",
       user.has_forward_unconditional() ? &user.forward_unconditional() : nullptr},
      {"forward_on_busy", user.has_forward_on_busy() ? &user.forward_on_busy() : nullptr},
      {"forward_on_no_answer",
       user.has_forward_on_no_answer() ? &user.forward_on_no_answer() : nullptr}};
  for (const auto& [field, target] : targets) {
    if (!target || target->empty())
      continue;
    auto route = telephony::resolve_forward(data, *compiled, user.user(), *target,
                                            telephony::system_zone()(c.now), false);
    if (route.outcome == telephony::dial_outcome::barred)
      return invalid(field, route.detail);
  }
  return std::nullopt;
}

/// SPEC TF-1..TF-10: the dial plan is configuration like the extensions: the same rights
/// and path (persisted in the directory, published to the SIP worker, replicated, refused
/// on replicas). A change is applied to a copy and the whole plan checked before it is kept.
class dial_plan_service final : public gateway_service<pb::DialPlanService::Service> {
public:
  using gateway_service::gateway_service;

  grpc::Status Get(grpc::ServerContext* call, const pb::Empty*, pb::DialPlan* reply) override {
    return gw_->read(call, "GetDialPlan", config_read,
                     [reply](security_context& c) { fill(reply, c.directory.data().dial_plan); });
  }

  grpc::Status Change(grpc::ServerContext* call, const pb::DialPlanChange* request,
                      pb::DialPlan* reply) override {
    return gw_->handle(call, "ChangeDialPlan", config_write,
                       [wanted = *request, reply](security_context& c) -> effect_result {
                         auto plan = c.directory.data().dial_plan;
                         auto edit = apply_change(plan, wanted, c.random);
                         if (!edit)
                           return std::unexpected(edit.error());
                         if (auto refused = refused_forward(c, plan, wanted))
                           return std::unexpected(*refused);
                         if (auto set = c.directory.set_dial_plan(std::move(plan)); !set)
                           return std::unexpected(set.error());
                         fill(reply, c.directory.data().dial_plan);
                         return transaction_effect{edit->object, edit->before, edit->after, ""};
                       });
  }
};

} // namespace

std::unique_ptr<grpc::Service> make_dial_plan_service(std::shared_ptr<gateway> gw) {
  return std::make_unique<dial_plan_service>(std::move(gw));
}

} // namespace ward::node::admin_api
