#include "telephony/dial_plan_edit.hpp"

#include <algorithm>
#include <charconv>

namespace ward::telephony {
namespace {

constexpr std::string_view none = "(none)";

std::unexpected<error> invalid(std::string field, std::string reason) {
  return std::unexpected(error{errc::invalid_config, std::move(field) + ": " + std::move(reason)});
}

std::unexpected<error> missing(std::string field, std::string reason) {
  return std::unexpected(error{errc::not_found, std::move(field) + ": " + std::move(reason)});
}

bool is_name(std::string_view text) {
  return !text.empty() && text.size() <= 31 && std::ranges::all_of(text, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

ars_table* find_table(dial_plan_config& plan, std::uint32_t id) {
  auto it = std::ranges::find(plan.ars_tables, id, &ars_table::id);
  return it == plan.ars_tables.end() ? nullptr : &*it;
}

/// The short code set `scope` names, created for a user who has none yet.
std::expected<std::vector<short_code>*, error> codes_at(dial_plan_config& plan,
                                                        const plan_scope& scope) {
  switch (scope.kind) {
    case plan_scope_kind::system:
      return &plan.system_short_codes;
    case plan_scope_kind::rights_template: {
      auto it = plan.templates.find(scope.name);
      if (it == plan.templates.end())
        return missing("scope", "no template " + scope.name);
      return &it->second.short_codes;
    }
    case plan_scope_kind::user:
      return &plan.users[scope.name].short_codes;
    case plan_scope_kind::ars: {
      auto* table = find_table(plan, scope.ars_id);
      if (!table)
        return missing("scope", "no ARS table " + std::to_string(scope.ars_id));
      return &table->codes;
    }
  }
  return invalid("scope", "unknown");
}

std::string describe_barring(const class_barring& barring, calling_class of) {
  return std::string(to_string(of)) + " " + std::string(to_string(barring[of]));
}

std::string describe_trunk(const trunk_config& trunk) {
  return trunk.name + " " + std::string(to_string(trunk.kind)) + " " + trunk.address + ":" +
         std::to_string(trunk.port) + " channels " + std::to_string(trunk.channels) +
         (trunk.enabled ? "" : " disabled") + (trunk.password.empty() ? "" : " password set");
}

std::string describe_table(const ars_table& table) {
  std::string text = route_name(table);
  for (const auto& trunk : table.trunks)
    text += " trunk " + trunk;
  if (!table.time_profile.empty())
    text += " profile " + table.time_profile + " else " + std::to_string(table.out_of_hours);
  return text;
}

std::string describe_profile(const time_profile& profile) {
  std::string text = profile.name;
  for (const auto& entry : profile.weekly)
    text += " " + format_days(entry.days) + "=" + format_day_span(entry.span);
  for (const auto& entry : profile.dated)
    text += " " + format_date(entry.date) + "=" + format_day_span(entry.span);
  for (const auto& date : profile.closed)
    text += " closed " + format_date(date);
  return text;
}

std::string describe_user(const user_dial_settings& user) {
  return "template=" + user.rights_template +
         " outgoing_call_barred=" + (user.outgoing_call_barred ? "on" : "off") +
         " inhibit_off_switch=" + (user.inhibit_off_switch ? "on" : "off") +
         " forward_unconditional=" + user.forward.unconditional +
         " forward_on_busy=" + user.forward.on_busy +
         " forward_on_no_answer=" + user.forward.on_no_answer +
         " auth_code_required=" + (user.auth_code_required ? "on" : "off");
}

std::string describe_numbering(const numbering_plan& numbering) {
  std::string text = "prefixes";
  for (const auto& prefix : numbering.caller_id_prefixes)
    text += " " + prefix;
  text += "; rules";
  for (const auto& rule : numbering.rules)
    text += " " + rule.pattern + "=" + std::string(to_string(rule.of));
  return text;
}

} // namespace

std::string describe(const short_code& code) {
  std::string text = code.code + " " + std::string(to_string(code.feature));
  if (!code.telephone.empty())
    text += " " + code.telephone;
  if (!code.route.empty())
    text += " " + code.route;
  return text;
}

std::expected<plan_scope, error> parse_plan_scope(std::string_view text) {
  if (text == "system")
    return plan_scope{};
  const auto colon = text.find(':');
  const auto kind = text.substr(0, colon);
  const auto name = colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
  if (kind == "template" && is_name(name))
    return plan_scope{plan_scope_kind::rights_template, std::string(name), 0};
  if (kind == "user" && !name.empty() && name.size() <= 64)
    return plan_scope{plan_scope_kind::user, std::string(name), 0};
  if (kind == "ars") {
    std::uint32_t id = 0;
    const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), id);
    if (ec == std::errc() && end == name.data() + name.size() && id > 0)
      return plan_scope{plan_scope_kind::ars, {}, id};
  }
  return invalid("scope",
                 "'" + std::string(text) + "' is not system, template:NAME, user:NAME or ars:ID");
}

std::string to_string(const plan_scope& scope) {
  switch (scope.kind) {
    case plan_scope_kind::rights_template:
      return "template:" + scope.name;
    case plan_scope_kind::user:
      return "user:" + scope.name;
    case plan_scope_kind::ars:
      return "ars:" + std::to_string(scope.ars_id);
    case plan_scope_kind::system:
      break;
  }
  return "system";
}

std::expected<plan_edit, error> set_short_code(dial_plan_config& plan, const plan_scope& scope,
                                               short_code code) {
  if (auto checked = compile_short_code(code); !checked)
    return invalid("short code", checked.error().detail);
  auto codes = codes_at(plan, scope);
  if (!codes)
    return std::unexpected(codes.error());
  plan_edit edit{"dial_plan/short_code/" + to_string(scope) + "/" + code.code, std::string(none),
                 describe(code)};
  auto it = std::ranges::find((*codes)->begin(), (*codes)->end(), code.code, &short_code::code);
  if (it != (*codes)->end()) {
    edit.before = describe(*it);
    *it = std::move(code);
  } else {
    (*codes)->push_back(std::move(code));
  }
  return edit;
}

std::expected<plan_edit, error> remove_short_code(dial_plan_config& plan, const plan_scope& scope,
                                                  std::string_view code) {
  if (scope.kind == plan_scope_kind::user && !plan.users.contains(scope.name))
    return missing("code", "user " + scope.name + " has no short codes");
  auto codes = codes_at(plan, scope);
  if (!codes)
    return std::unexpected(codes.error());
  auto it = std::ranges::find((*codes)->begin(), (*codes)->end(), code, &short_code::code);
  if (it == (*codes)->end())
    return missing("code", "no short code " + std::string(code) + " in " + to_string(scope));
  plan_edit edit{"dial_plan/short_code/" + to_string(scope) + "/" + std::string(code),
                 describe(*it), std::string(none)};
  (*codes)->erase(it);
  return edit;
}

std::expected<plan_edit, error> set_ars_table(dial_plan_config& plan, const ars_table& fields) {
  if (fields.id == 0 || fields.id > 99999)
    return invalid("ars", "the table number must be 1 to 99999");
  auto* table = find_table(plan, fields.id);
  plan_edit edit{"dial_plan/ars/" + std::to_string(fields.id), std::string(none), {}};
  if (!table) {
    table = &plan.ars_tables.emplace_back();
    table->id = fields.id;
  } else {
    edit.before = describe_table(*table);
  }
  table->name = fields.name;
  table->trunks = fields.trunks;
  table->time_profile = fields.time_profile;
  table->out_of_hours = fields.out_of_hours;
  edit.after = describe_table(*table);
  return edit;
}

std::expected<plan_edit, error> remove_ars_table(dial_plan_config& plan, std::uint32_t id) {
  if (id == main_ars_id)
    return invalid("ars", "50:Main cannot be removed");
  auto it = std::ranges::find(plan.ars_tables, id, &ars_table::id);
  if (it == plan.ars_tables.end())
    return missing("ars", "no ARS table " + std::to_string(id));
  plan_edit edit{"dial_plan/ars/" + std::to_string(id), describe_table(*it), std::string(none)};
  plan.ars_tables.erase(it);
  return edit;
}

std::expected<plan_edit, error> set_time_profile(dial_plan_config& plan, time_profile profile) {
  if (auto checked = check_time_profile(profile); !checked)
    return invalid("time profile", checked.error().detail);
  plan_edit edit{"dial_plan/time_profile/" + profile.name, std::string(none),
                 describe_profile(profile)};
  auto it = std::ranges::find(plan.time_profiles, profile.name, &time_profile::name);
  if (it != plan.time_profiles.end()) {
    edit.before = describe_profile(*it);
    *it = std::move(profile);
  } else {
    plan.time_profiles.push_back(std::move(profile));
  }
  return edit;
}

std::expected<plan_edit, error> remove_time_profile(dial_plan_config& plan, std::string_view name) {
  auto it = std::ranges::find(plan.time_profiles, name, &time_profile::name);
  if (it == plan.time_profiles.end())
    return missing("time profile", "no time profile " + std::string(name));
  plan_edit edit{"dial_plan/time_profile/" + std::string(name), describe_profile(*it),
                 std::string(none)};
  plan.time_profiles.erase(it);
  return edit;
}

std::expected<plan_edit, error> set_barring(dial_plan_config& plan, const plan_scope& scope,
                                            calling_class of, bar_setting setting) {
  class_barring* barring = nullptr;
  switch (scope.kind) {
    case plan_scope_kind::system:
      barring = &plan.system_barring;
      if (setting == bar_setting::inherit)
        setting = default_system_barring()[of];
      break;
    case plan_scope_kind::rights_template: {
      auto it = plan.templates.find(scope.name);
      if (it == plan.templates.end())
        return missing("scope", "no template " + scope.name);
      barring = &it->second.barring;
      break;
    }
    case plan_scope_kind::user:
      barring = &plan.users[scope.name].barring;
      break;
    case plan_scope_kind::ars:
      return invalid("scope", "ARS tables bar with short codes, not calling classes");
  }
  plan_edit edit{"dial_plan/barring/" + to_string(scope) + "/" + std::string(to_string(of)),
                 describe_barring(*barring, of),
                 {}};
  (*barring)[of] = setting;
  edit.after = describe_barring(*barring, of);
  return edit;
}

std::expected<plan_edit, error> set_trunk(dial_plan_config& plan, trunk_config trunk) {
  if (!is_name(trunk.name))
    return invalid("trunk", "name: 1 to 31 of a-z 0-9 -");
  plan_edit edit{"dial_plan/trunk/" + trunk.name, std::string(none), {}};
  auto it = plan.trunks.find(trunk.name);
  if (it != plan.trunks.end()) {
    edit.before = describe_trunk(it->second);
    if (trunk.password.empty() && !trunk.username.empty())
      trunk.password = it->second.password;
  }
  edit.after = describe_trunk(trunk);
  plan.trunks.insert_or_assign(trunk.name, std::move(trunk));
  return edit;
}

std::expected<plan_edit, error> remove_trunk(dial_plan_config& plan, std::string_view name) {
  auto it = plan.trunks.find(std::string(name));
  if (it == plan.trunks.end())
    return missing("trunk", "no trunk " + std::string(name));
  plan_edit edit{"dial_plan/trunk/" + std::string(name), describe_trunk(it->second),
                 std::string(none)};
  plan.trunks.erase(it);
  return edit;
}

std::expected<plan_edit, error> set_fraud_rule(dial_plan_config& plan, fraud_rule rule) {
  if (auto checked = check_fraud_rule(rule); !checked)
    return invalid("fraud rule", checked.error().detail);
  if (plan.fraud_rules.size() >= max_fraud_rules &&
      std::ranges::find(plan.fraud_rules, rule.name, &fraud_rule::name) == plan.fraud_rules.end())
    return invalid("fraud rule", "at most " + std::to_string(max_fraud_rules) + " rules");
  plan_edit edit{"dial_plan/fraud_rule/" + rule.name, std::string(none), describe(rule)};
  auto it = std::ranges::find(plan.fraud_rules, rule.name, &fraud_rule::name);
  if (it != plan.fraud_rules.end()) {
    edit.before = describe(*it);
    *it = std::move(rule);
  } else {
    plan.fraud_rules.push_back(std::move(rule));
  }
  return edit;
}

std::expected<plan_edit, error> set_auth_code(dial_plan_config& plan, auth_code_owner_kind kind,
                                              std::string_view owner, std::string_view digits,
                                              const random_source& random) {
  if (plan.auth_code_key.empty())
    plan.auth_code_key = make_auth_code_key(random);
  auto made = make_auth_code(kind, std::string(owner), digits, plan.auth_code_key, random);
  if (!made)
    return invalid("auth code", made.error().detail);
  const auto object = "dial_plan/auth_code/" + owner_text(*made);
  auto mine = [&](const auth_code_entry& entry) {
    return entry.kind == kind && entry.owner == owner;
  };
  if (const auto* taken = find_auth_code(plan.auth_codes, plan.auth_code_key, digits);
      taken && !mine(*taken))
    return invalid("auth code", "code: choose another code");
  plan_edit edit{object, std::string(none), "code set"};
  if (auto it = std::ranges::find_if(plan.auth_codes, mine); it != plan.auth_codes.end()) {
    edit.before = "code set";
    *it = std::move(*made);
  } else {
    if (plan.auth_codes.size() >= max_auth_codes)
      return invalid("auth code", "at most " + std::to_string(max_auth_codes) + " codes");
    plan.auth_codes.push_back(std::move(*made));
  }
  return edit;
}

std::expected<plan_edit, error> remove_auth_code(dial_plan_config& plan, auth_code_owner_kind kind,
                                                 std::string_view owner) {
  auto it = std::ranges::find_if(plan.auth_codes, [&](const auth_code_entry& entry) {
    return entry.kind == kind && entry.owner == owner;
  });
  if (it == plan.auth_codes.end())
    return missing("auth code", "no authorization code for " + std::string(owner));
  plan_edit edit{"dial_plan/auth_code/" + owner_text(*it), "code set", std::string(none)};
  plan.auth_codes.erase(it);
  return edit;
}

std::expected<plan_edit, error> remove_fraud_rule(dial_plan_config& plan, std::string_view name) {
  auto it = std::ranges::find(plan.fraud_rules, name, &fraud_rule::name);
  if (it == plan.fraud_rules.end())
    return missing("fraud rule", "no fraud rule " + std::string(name));
  plan_edit edit{"dial_plan/fraud_rule/" + std::string(name), describe(*it), std::string(none)};
  plan.fraud_rules.erase(it);
  return edit;
}

std::string describe(const fraud_rule& rule) {
  std::string text = std::string(to_string(rule.scope));
  if (!rule.subject.empty())
    text += " " + rule.subject;
  text += " prefix " + (rule.prefix.empty() ? std::string("any") : rule.prefix);
  if (!rule.time_profile.empty())
    text += " during " + rule.time_profile;
  text += " " + std::string(to_string(rule.measure));
  if (rule.warning.limit != 0)
    text += " warning " + std::to_string(rule.warning.limit) + " " +
            std::string(to_string(rule.warning.action));
  if (rule.critical.limit != 0)
    text += " critical " + std::to_string(rule.critical.limit) + " " +
            std::string(to_string(rule.critical.action));
  return text;
}

std::expected<plan_edit, error> set_incoming_route(dial_plan_config& plan, incoming_route route) {
  const std::string object =
      "dial_plan/incoming_route/" + (route.trunk.empty() ? "*" : route.trunk) + "/" + route.number;
  auto it = std::ranges::find_if(plan.incoming_routes, [&](const incoming_route& existing) {
    return existing.trunk == route.trunk && existing.number == route.number;
  });
  plan_edit edit{object, std::string(none), route.number + " -> " + route.extension};
  if (it != plan.incoming_routes.end()) {
    edit.before = it->number + " -> " + it->extension;
    *it = std::move(route);
  } else {
    plan.incoming_routes.push_back(std::move(route));
  }
  return edit;
}

std::expected<plan_edit, error>
remove_incoming_route(dial_plan_config& plan, std::string_view trunk, std::string_view number) {
  auto it = std::ranges::find_if(plan.incoming_routes, [&](const incoming_route& existing) {
    return existing.trunk == trunk && existing.number == number;
  });
  if (it == plan.incoming_routes.end())
    return missing("route", "no incoming route " + std::string(number));
  plan_edit edit{"dial_plan/incoming_route/" + (trunk.empty() ? "*" : std::string(trunk)) + "/" +
                     std::string(number),
                 it->number + " -> " + it->extension, std::string(none)};
  plan.incoming_routes.erase(it);
  return edit;
}

std::expected<plan_edit, error> set_template(dial_plan_config& plan, std::string_view name,
                                             std::optional<bool> inhibit_off_switch) {
  if (!is_name(name))
    return invalid("template", "name: 1 to 31 of a-z 0-9 -");
  auto [it, created] = plan.templates.try_emplace(std::string(name));
  it->second.name = name;
  plan_edit edit{"dial_plan/template/" + std::string(name),
                 created ? std::string(none)
                         : std::string("inhibit_off_switch=") +
                               (it->second.inhibit_off_switch ? "on" : "off"),
                 {}};
  if (inhibit_off_switch)
    it->second.inhibit_off_switch = *inhibit_off_switch;
  edit.after = std::string("inhibit_off_switch=") + (it->second.inhibit_off_switch ? "on" : "off");
  return edit;
}

std::expected<plan_edit, error> remove_template(dial_plan_config& plan, std::string_view name) {
  auto it = plan.templates.find(std::string(name));
  if (it == plan.templates.end())
    return missing("template", "no template " + std::string(name));
  plan.templates.erase(it);
  // Its authorization code goes with it (SPEC TF-5).
  std::erase_if(plan.auth_codes, [name](const auth_code_entry& entry) {
    return entry.kind == auth_code_owner_kind::rights_template && entry.owner == name;
  });
  return plan_edit{"dial_plan/template/" + std::string(name), "exists", std::string(none)};
}

std::expected<plan_edit, error> set_user_dial(dial_plan_config& plan, std::string_view user,
                                              const user_dial_fields& fields) {
  auto& settings = plan.users[std::string(user)];
  plan_edit edit{"dial_plan/user/" + std::string(user), describe_user(settings), {}};
  if (fields.rights_template)
    settings.rights_template = *fields.rights_template;
  if (fields.outgoing_call_barred)
    settings.outgoing_call_barred = *fields.outgoing_call_barred;
  if (fields.inhibit_off_switch)
    settings.inhibit_off_switch = *fields.inhibit_off_switch;
  if (fields.forward_unconditional)
    settings.forward.unconditional = *fields.forward_unconditional;
  if (fields.forward_on_busy)
    settings.forward.on_busy = *fields.forward_on_busy;
  if (fields.forward_on_no_answer)
    settings.forward.on_no_answer = *fields.forward_on_no_answer;
  if (fields.auth_code_required)
    settings.auth_code_required = *fields.auth_code_required;
  edit.after = describe_user(settings);
  return edit;
}

std::expected<plan_edit, error> set_numbering(dial_plan_config& plan,
                                              std::optional<numbering_preset> preset,
                                              std::vector<std::string> caller_id_prefixes,
                                              const std::vector<std::string>& class_rules) {
  numbering_plan numbering;
  if (preset) {
    numbering = preset_plan(*preset);
  } else {
    numbering.caller_id_prefixes = std::move(caller_id_prefixes);
    for (const auto& text : class_rules) {
      const auto equals = text.find('=');
      const auto of = equals == std::string::npos
                          ? std::nullopt
                          : parse_calling_class(std::string_view(text).substr(equals + 1));
      if (!of)
        return invalid("class rule", "'" + text +
                                         "' is not PATTERN=CLASS (internal, local, "
                                         "national, mobile, international, premium)");
      numbering.rules.push_back({text.substr(0, equals), *of});
    }
  }
  if (auto compiled = compile_plan(numbering); !compiled)
    return invalid("numbering plan", compiled.error().detail);
  plan_edit edit{"dial_plan/numbering", describe_numbering(plan.numbering),
                 describe_numbering(numbering)};
  plan.numbering = std::move(numbering);
  return edit;
}

std::expected<plan_edit, error> set_switches(dial_plan_config& plan,
                                             std::optional<bool> inhibit_off_switch,
                                             std::optional<bool> trunk_to_trunk_transfer) {
  auto describe_switches = [&plan] {
    return std::string("inhibit_off_switch=") + (plan.inhibit_off_switch ? "on" : "off") +
           " trunk_to_trunk_transfer=" + (plan.trunk_to_trunk_transfer ? "on" : "off");
  };
  plan_edit edit{"dial_plan/switches", describe_switches(), {}};
  if (inhibit_off_switch)
    plan.inhibit_off_switch = *inhibit_off_switch;
  if (trunk_to_trunk_transfer)
    plan.trunk_to_trunk_transfer = *trunk_to_trunk_transfer;
  edit.after = describe_switches();
  return edit;
}

std::expected<weekly_entry, error> parse_weekly_entry(std::string_view text) {
  const auto equals = text.find('=');
  if (equals == std::string_view::npos)
    return invalid("weekly", "'" + std::string(text) + "' is not DAYS=HH:MM-HH:MM");
  auto days = parse_days(text.substr(0, equals));
  if (!days)
    return invalid("weekly", days.error().detail);
  auto span = parse_day_span(text.substr(equals + 1));
  if (!span)
    return invalid("weekly", span.error().detail);
  return weekly_entry{*days, *span};
}

std::expected<dated_entry, error> parse_dated_entry(std::string_view text) {
  const auto equals = text.find('=');
  if (equals == std::string_view::npos)
    return invalid("date", "'" + std::string(text) + "' is not YYYY-MM-DD=HH:MM-HH:MM");
  auto date = parse_date(text.substr(0, equals));
  if (!date)
    return invalid("date", date.error().detail);
  auto span = parse_day_span(text.substr(equals + 1));
  if (!span)
    return invalid("date", span.error().detail);
  return dated_entry{*date, *span};
}

} // namespace ward::telephony
