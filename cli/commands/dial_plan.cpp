#include "cli/commands/commands.hpp"

#include "cli/local_io.hpp"
#include "cli/parse.hpp"
#include "cli/print_dial_plan.hpp"

#include "dial_plan.grpc.pb.h"

namespace ward::cli {
namespace {

namespace pb = admin::v1;
using dial_plan_api = pb::DialPlanService::Stub;
// The dial plan is configuration, like the extensions: the Configuration endpoint.
constexpr auto configuration = target_service::configuration;

constexpr std::string_view feature_names[] = {"dial",
                                              "barred",
                                              "dial_emergency",
                                              "outgoing_call_bar_on",
                                              "outgoing_call_bar_off",
                                              "forward_unconditional",
                                              "forward_on_busy",
                                              "forward_on_no_answer",
                                              "forward_off",
                                              "auth_code"};
constexpr std::string_view class_names[] = {"internal", "local",         "national",
                                            "mobile",   "international", "premium"};
constexpr std::string_view bar_names[] = {"inherit", "barred", "allowed"};
constexpr std::string_view transport_names[] = {"udp", "tcp", "tls"};
constexpr std::string_view preset_names[] = {"nanp", "uk"};
constexpr const char* scope_help = "system | template:NAME | user:NAME | ars:ID";

using printer = void (*)(std::ostream&, const pb::DialPlan&);

/// Declares a command that sends the change `build()` makes and prints `section` of the
/// plan the primary then holds (the whole plan with --json).
template <class Build>
void add_change(command_table& table, CLI::App* command, Build build, printer section) {
  table.add(command, [&state = table.state(), build, section]() -> int {
    pb::DialPlanChange change = build();
    pb::DialPlan reply;
    int code = call(state, rpc{configuration, &dial_plan_api::Change}, change, reply);
    if (code != exit_ok || state.json)
      return show(state, code, reply);
    section(std::cout, reply);
    return exit_ok;
  });
}

/// Declares a command that reads the plan and prints `section` (all of it with --json).
void add_show(command_table& table, CLI::App* command, printer section) {
  table.add(command, [&state = table.state(), section]() -> int {
    pb::DialPlan reply;
    int code = call(state, rpc{configuration, &dial_plan_api::Get}, pb::Empty{}, reply);
    if (code != exit_ok || state.json)
      return show(state, code, reply);
    section(std::cout, reply);
    return exit_ok;
  });
}

std::optional<bool> switch_of(const std::optional<std::string>& text, const std::string& option) {
  if (!text)
    return std::nullopt;
  return parse_switch(*text, option);
}

void add_short_code_commands(CLI::App& app, command_table& table) {
  auto* group = add_group(app, "short-code", "Short codes of the system, templates, users, ARS");
  add_show(table, group->add_subcommand("list", "Every short code, by scope"), print_short_codes);

  struct set_options {
    std::string scope, code, feature, telephone, route;
  };
  auto& set = table.hold<set_options>();
  auto* set_cmd = group->add_subcommand("set", "Add or replace a short code");
  set_cmd->add_option("scope", set.scope, scope_help)->required();
  set_cmd->add_option("code", set.code, "Digits, * # +, X, N and a final ;")->required();
  set_cmd->add_option("feature", set.feature, choices(feature_names))->required();
  set_cmd->add_option("telephone", set.telephone, "Number produced: digits, N, ., SMDR");
  set_cmd->add_option("--route", set.route, "ARS table of a dial code, as 50:Main");
  add_change(
      table, set_cmd,
      [&set] {
        pb::DialPlanChange change;
        auto* edit = change.mutable_short_code();
        edit->set_scope(set.scope);
        edit->mutable_code()->set_code(set.code);
        edit->mutable_code()->set_feature(set.feature);
        edit->mutable_code()->set_telephone(set.telephone);
        edit->mutable_code()->set_route(set.route);
        return change;
      },
      print_short_codes);

  auto& removal = table.hold<std::pair<std::string, std::string>>();
  auto* delete_cmd = group->add_subcommand("delete", "Remove a short code");
  delete_cmd->add_option("scope", removal.first, scope_help)->required();
  delete_cmd->add_option("code", removal.second)->required();
  add_change(
      table, delete_cmd,
      [&removal] {
        pb::DialPlanChange change;
        change.mutable_short_code()->set_scope(removal.first);
        change.mutable_short_code()->mutable_code()->set_code(removal.second);
        change.mutable_short_code()->set_remove(true);
        return change;
      },
      print_short_codes);
}

void add_ars_commands(CLI::App& app, command_table& table) {
  auto* group = add_group(app, "ars", "ARS (route) tables");
  add_show(table, group->add_subcommand("list", "Every ARS table"), print_ars);

  struct set_options {
    std::uint32_t id = 0;
    std::string name, time_profile;
    std::vector<std::string> trunks;
    std::uint32_t out_of_hours = 0;
  };
  auto& set = table.hold<set_options>();
  auto* set_cmd = group->add_subcommand("set", "Create a table or change its routing");
  set_cmd->add_option("id", set.id, "Table number, 1 to 99999")->required();
  set_cmd->add_option("name", set.name)->required();
  set_cmd->add_option("--trunk", set.trunks, "Trunks in the order they are tried");
  set_cmd->add_option("--time-profile", set.time_profile, "Profile the table is in service in");
  set_cmd->add_option("--out-of-hours", set.out_of_hours, "Table used outside the profile");
  add_change(
      table, set_cmd,
      [&set] {
        pb::DialPlanChange change;
        auto* ars = change.mutable_ars()->mutable_table();
        ars->set_id(set.id);
        ars->set_name(set.name);
        for (const auto& trunk : set.trunks)
          ars->add_trunks(trunk);
        ars->set_time_profile(set.time_profile);
        ars->set_out_of_hours(set.out_of_hours);
        return change;
      },
      print_ars);

  auto& id = table.hold<std::uint32_t>();
  auto* delete_cmd = group->add_subcommand("delete", "Remove a table (not 50:Main)");
  delete_cmd->add_option("id", id)->required();
  add_change(
      table, delete_cmd,
      [&id] {
        pb::DialPlanChange change;
        change.mutable_ars()->mutable_table()->set_id(id);
        change.mutable_ars()->set_remove(true);
        return change;
      },
      print_ars);
}

void add_time_profile_commands(CLI::App& app, command_table& table) {
  auto* group = add_group(app, "time-profile", "Time profiles for ARS out-of-hours routing");
  add_show(table, group->add_subcommand("list", "Every time profile"), print_time_profiles);

  struct set_options {
    std::string name;
    std::vector<std::string> weekly, dated, closed;
  };
  auto& set = table.hold<set_options>();
  auto* set_cmd = group->add_subcommand("set", "Create or replace a time profile");
  set_cmd->add_option("name", set.name)->required();
  set_cmd->add_option("--weekly", set.weekly,
                      "DAYS=HH:MM-HH:MM, days mon..sun | weekdays | "
                      "weekend | daily");
  set_cmd->add_option("--date", set.dated, "YYYY-MM-DD=HH:MM-HH:MM");
  set_cmd->add_option("--closed", set.closed, "YYYY-MM-DD: inactive all day");
  add_change(
      table, set_cmd,
      [&set] {
        pb::DialPlanChange change;
        auto* profile = change.mutable_time_profile()->mutable_profile();
        profile->set_name(set.name);
        for (const auto& entry : set.weekly)
          profile->add_weekly(entry);
        for (const auto& entry : set.dated)
          profile->add_dated(entry);
        for (const auto& entry : set.closed)
          profile->add_closed(entry);
        return change;
      },
      print_time_profiles);

  auto& name = table.hold<std::string>();
  auto* delete_cmd = group->add_subcommand("delete", "Remove a time profile");
  delete_cmd->add_option("name", name)->required();
  add_change(
      table, delete_cmd,
      [&name] {
        pb::DialPlanChange change;
        change.mutable_time_profile()->mutable_profile()->set_name(name);
        change.mutable_time_profile()->set_remove(true);
        return change;
      },
      print_time_profiles);
}

void add_barring_commands(CLI::App& app, command_table& table) {
  auto* group = add_group(app, "barring", "Calling-class barring and the numbering plan");
  add_show(table, group->add_subcommand("show", "Barring by scope, and the numbering plan"),
           print_barring);

  struct set_options {
    std::string scope, of, setting;
  };
  auto& set = table.hold<set_options>();
  auto* set_cmd = group->add_subcommand("set", "Bar or allow a calling class");
  set_cmd->add_option("scope", set.scope, "system | template:NAME | user:NAME")->required();
  set_cmd->add_option("class", set.of, choices(class_names))->required();
  set_cmd->add_option("setting", set.setting, choices(bar_names))->required();
  add_change(
      table, set_cmd,
      [&set] {
        pb::DialPlanChange change;
        change.mutable_barring()->set_scope(set.scope);
        change.mutable_barring()->set_calling_class(set.of);
        change.mutable_barring()->set_setting(set.setting);
        return change;
      },
      print_barring);

  struct numbering_options {
    std::string preset;
    std::vector<std::string> prefixes, rules;
  };
  auto& numbering = table.hold<numbering_options>();
  auto* numbering_cmd =
      group->add_subcommand("numbering", "Set the numbering plan: a preset, or prefixes and rules");
  numbering_cmd->add_option("--preset", numbering.preset, choices(preset_names));
  numbering_cmd->add_option("--prefix", numbering.prefixes, "Caller-ID prefix, as *67 or 141");
  numbering_cmd->add_option("--rule", numbering.rules, "PATTERN=CLASS, as 011N=international");
  add_change(
      table, numbering_cmd,
      [&numbering] {
        if (numbering.preset.empty() == numbering.rules.empty())
          throw usage_error("barring numbering: give either --preset or --rule");
        pb::DialPlanChange change;
        auto* edit = change.mutable_numbering();
        edit->set_preset(numbering.preset);
        for (const auto& prefix : numbering.prefixes)
          edit->add_caller_id_prefixes(prefix);
        for (const auto& rule : numbering.rules)
          edit->add_class_rules(rule);
        return change;
      },
      print_barring);
}

void add_trunk_set(CLI::App& group, command_table& table) {
  struct set_options {
    std::string name, address, transport = "tls", domain, username, caller_id, media_security;
    std::uint32_t port = 5061, channels = 30;
    bool password = false, disabled = false;
  };
  auto& set = table.hold<set_options>();
  auto* set_cmd = group.add_subcommand("set", "Create or replace a trunk");
  set_cmd->add_option("name", set.name, "1 to 31 of a-z 0-9 -")->required();
  set_cmd->add_option("--address", set.address, "The carrier's numeric IP address")->required();
  set_cmd->add_option("--port", set.port, "Default 5061");
  set_cmd->add_option("--transport", set.transport, choices(transport_names) + " (default tls)");
  set_cmd->add_option("--domain", set.domain, "The carrier's SIP domain");
  set_cmd->add_option("--username", set.username, "Digest user name towards the carrier");
  set_cmd->add_flag("--password-stdin", set.password, reads_secrets("the carrier password"));
  set_cmd->add_option("--caller-id", set.caller_id, "Number presented to the carrier");
  set_cmd->add_option("--channels", set.channels, "Calls at once, in and out (default 30)");
  set_cmd->add_option("--media-security", set.media_security, choices(media_level_names));
  set_cmd->add_flag("--disabled", set.disabled, "No calls either way");
  add_change(
      table, set_cmd,
      [&set] {
        pb::DialPlanChange change;
        auto* trunk = change.mutable_trunk()->mutable_trunk();
        trunk->set_name(set.name);
        trunk->set_address(set.address);
        trunk->set_port(set.port);
        trunk->set_transport(set.transport);
        trunk->set_domain(set.domain);
        trunk->set_username(set.username);
        if (set.password)
          trunk->set_password(read_secret("carrier password"));
        trunk->set_caller_id(set.caller_id);
        trunk->set_channels(set.channels);
        trunk->set_media_security(set.media_security);
        trunk->set_enabled(!set.disabled);
        return change;
      },
      print_trunks);
}

void add_trunk_commands(CLI::App& app, command_table& table) {
  auto* group = add_group(app, "trunk", "SIP trunks to carriers and incoming routes");
  add_show(table, group->add_subcommand("list", "Trunks and incoming routes"), print_trunks);
  add_trunk_set(*group, table);

  auto& name = table.hold<std::string>();
  auto* delete_cmd = group->add_subcommand("delete", "Remove a trunk");
  delete_cmd->add_option("name", name)->required();
  add_change(
      table, delete_cmd,
      [&name] {
        pb::DialPlanChange change;
        change.mutable_trunk()->mutable_trunk()->set_name(name);
        change.mutable_trunk()->set_remove(true);
        return change;
      },
      print_trunks);

  auto* route = add_group(*group, "route", "Incoming routes: called number to extension");
  struct route_options {
    std::string number, extension, trunk;
  };
  auto& set = table.hold<route_options>();
  auto* set_cmd = route->add_subcommand("set", "Route a called number (pattern) to an extension");
  set_cmd->add_option("number", set.number, "Called number, digits X N")->required();
  set_cmd->add_option("extension", set.extension)->required();
  set_cmd->add_option("--trunk", set.trunk, "Only calls from this trunk (default: any)");
  add_change(
      table, set_cmd,
      [&set] {
        pb::DialPlanChange change;
        auto* edit = change.mutable_incoming_route()->mutable_route();
        edit->set_number(set.number);
        edit->set_extension(set.extension);
        edit->set_trunk(set.trunk);
        return change;
      },
      print_trunks);
  auto& removal = table.hold<route_options>();
  auto* delete_route = route->add_subcommand("delete", "Remove an incoming route");
  delete_route->add_option("number", removal.number)->required();
  delete_route->add_option("--trunk", removal.trunk);
  add_change(
      table, delete_route,
      [&removal] {
        pb::DialPlanChange change;
        change.mutable_incoming_route()->mutable_route()->set_number(removal.number);
        change.mutable_incoming_route()->mutable_route()->set_trunk(removal.trunk);
        change.mutable_incoming_route()->set_remove(true);
        return change;
      },
      print_trunks);
}

void add_rights_commands(CLI::App& app, command_table& table) {
  auto* group = add_group(app, "rights-template", "User rights templates for the dial plan");
  add_show(table, group->add_subcommand("list", "Templates and users' dial settings"),
           print_rights);
  auto& set = table.hold<std::string>();
  auto* set_cmd = group->add_subcommand("set", "Create a template");
  set_cmd->add_option("name", set)->required();
  add_change(
      table, set_cmd,
      [&set] {
        pb::DialPlanChange change;
        change.mutable_rights_template()->set_name(set);
        return change;
      },
      print_rights);
  auto& name = table.hold<std::string>();
  auto* delete_cmd = group->add_subcommand("delete", "Remove a template");
  delete_cmd->add_option("name", name)->required();
  add_change(
      table, delete_cmd,
      [&name] {
        pb::DialPlanChange change;
        change.mutable_rights_template()->set_name(name);
        change.mutable_rights_template()->set_remove(true);
        return change;
      },
      print_rights);

  struct user_options {
    std::string user;
    std::optional<std::string> rights_template, outgoing_call_bar, auth_code_required,
        inhibit_off_switch;
  };
  auto& user = table.hold<user_options>();
  auto* user_cmd = app.add_subcommand("dialing", "A telephony user's dial settings");
  user_cmd->add_option("user", user.user, "Telephony user name")->required();
  user_cmd->add_option("--template", user.rights_template, "Rights template; empty for none");
  user_cmd->add_option("--outgoing-call-bar", user.outgoing_call_bar, choices(switch_values));
  user_cmd->add_option("--inhibit-off-switch", user.inhibit_off_switch,
                       choices(switch_values) + ": no forward to outside numbers");
  user_cmd->add_option("--auth-code-required", user.auth_code_required,
                       choices(switch_values) + ": outside calls only with an authorization code");
  add_change(
      table, user_cmd,
      [&user] {
        pb::DialPlanChange change;
        auto* edit = change.mutable_user();
        edit->set_user(user.user);
        if (user.rights_template)
          edit->set_rights_template(*user.rights_template);
        if (auto on = switch_of(user.outgoing_call_bar, "--outgoing-call-bar"))
          edit->set_outgoing_call_barred(*on);
        if (auto on = switch_of(user.auth_code_required, "--auth-code-required"))
          edit->set_auth_code_required(*on);
        if (auto on = switch_of(user.inhibit_off_switch, "--inhibit-off-switch"))
          edit->set_inhibit_off_switch(*on);
        return change;
      },
      print_rights);
}

constexpr std::string_view measure_names[] = {"calls_per_minute", "calls_per_hour",
                                              "concurrent_calls", "sequential_calls",
                                              "call_seconds",     "daily_minutes"};
constexpr std::string_view fraud_action_names[] = {"alarm", "bar_user", "disable_trunk",
                                                   "require_auth_code"};

void add_fraud_rule_commands(CLI::App& app, command_table& table) {
  auto* group = add_group(app, "fraud-rule", "Fraud threshold rules (calls, minutes, durations)");
  add_show(table, group->add_subcommand("list", "Every fraud rule"), print_fraud_rules);

  struct set_options {
    std::string name, scope, measure, prefix, time_profile;
    std::uint32_t warning = 0, critical = 0;
    std::string warning_action = "alarm", critical_action = "alarm";
  };
  auto& set = table.hold<set_options>();
  auto* set_cmd = group->add_subcommand("set", "Create or replace a fraud rule");
  set_cmd->add_option("name", set.name, "1 to 31 of a-z 0-9 - _ .")->required();
  set_cmd
      ->add_option("scope", set.scope,
                   "user:NAME | template:NAME | trunk:NAME | every_user: whose calls count")
      ->required();
  set_cmd->add_option("measure", set.measure, choices(measure_names))->required();
  set_cmd->add_option("--prefix", set.prefix, "Only numbers starting with these digits");
  set_cmd->add_option("--time-profile", set.time_profile, "Only calls started in this profile");
  set_cmd->add_option("--warning", set.warning, "Warning level; 0 for none");
  set_cmd->add_option("--warning-action", set.warning_action, choices(fraud_action_names));
  set_cmd->add_option("--critical", set.critical, "Critical level; 0 for none");
  set_cmd->add_option("--critical-action", set.critical_action, choices(fraud_action_names));
  add_change(
      table, set_cmd,
      [&set] {
        pb::DialPlanChange change;
        auto* rule = change.mutable_fraud_rule()->mutable_rule();
        rule->set_name(set.name);
        const auto colon = set.scope.find(':');
        rule->set_scope(set.scope.substr(0, colon));
        if (colon != std::string::npos)
          rule->set_subject(set.scope.substr(colon + 1));
        rule->set_measure(set.measure);
        rule->set_prefix(set.prefix);
        rule->set_time_profile(set.time_profile);
        rule->set_warning(set.warning);
        rule->set_warning_action(set.warning_action);
        rule->set_critical(set.critical);
        rule->set_critical_action(set.critical_action);
        return change;
      },
      print_fraud_rules);

  auto& name = table.hold<std::string>();
  auto* delete_cmd = group->add_subcommand("delete", "Remove a fraud rule");
  delete_cmd->add_option("name", name)->required();
  add_change(
      table, delete_cmd,
      [&name] {
        pb::DialPlanChange change;
        change.mutable_fraud_rule()->mutable_rule()->set_name(name);
        change.mutable_fraud_rule()->set_remove(true);
        return change;
      },
      print_fraud_rules);
}

void add_auth_code_commands(CLI::App& app, command_table& table) {
  auto* group = add_group(app, "auth-code", "Authorization codes of users and templates");
  add_show(table, group->add_subcommand("list", "Who has a code (never the codes)"),
           print_auth_codes);
  auto& owner = table.hold<std::string>();
  auto* set_cmd = group->add_subcommand(
      "set", "Set the code of a user or template: 4 to 12 digits, read from standard input");
  set_cmd->add_option("owner", owner, "user:NAME | template:NAME")->required();
  add_change(
      table, set_cmd,
      [&owner] {
        pb::DialPlanChange change;
        change.mutable_auth_code()->set_owner(owner);
        change.mutable_auth_code()->set_code(read_secret("authorization code"));
        return change;
      },
      print_auth_codes);
  auto& removed = table.hold<std::string>();
  auto* delete_cmd = group->add_subcommand("delete", "Remove the code of a user or template");
  delete_cmd->add_option("owner", removed, "user:NAME | template:NAME")->required();
  add_change(
      table, delete_cmd,
      [&removed] {
        pb::DialPlanChange change;
        change.mutable_auth_code()->set_owner(removed);
        change.mutable_auth_code()->set_remove(true);
        return change;
      },
      print_auth_codes);
}

void add_forward_commands(CLI::App& app, command_table& table) {
  struct forward_options {
    std::string user, unconditional;
    bool off = false;
  };
  auto& forward = table.hold<forward_options>();
  auto* command = app.add_subcommand(
      "forward", "Forward every call of a user (checked against the user's barring when set)");
  command->add_option("user", forward.user, "Telephony user name")->required();
  auto* to = command->add_option("--unconditional", forward.unconditional,
                                 "Number or extension every call goes to");
  auto* off = command->add_flag("--off", forward.off, "No forwarding");
  to->excludes(off);
  command->require_option(1, 2);
  add_change(
      table, command,
      [&forward] {
        pb::DialPlanChange change;
        change.mutable_user()->set_user(forward.user);
        change.mutable_user()->set_forward_unconditional(forward.off ? "" : forward.unconditional);
        return change;
      },
      print_rights);
}

void add_plan_commands(CLI::App& app, command_table& table) {
  auto* group = add_group(app, "dial-plan", "The whole dial plan");
  add_show(table, group->add_subcommand("show", "Every part of the dial plan"),
           static_cast<printer>(&print));
  struct switch_options {
    std::optional<std::string> inhibit_off_switch, trunk_to_trunk;
  };
  auto& switches = table.hold<switch_options>();
  auto* set = group->add_subcommand("switches", "The system's forwarding switches");
  set->add_option("--inhibit-off-switch", switches.inhibit_off_switch,
                  choices(switch_values) + ": no forward to outside numbers for anyone");
  set->add_option("--trunk-to-trunk", switches.trunk_to_trunk,
                  choices(switch_values) + ": calls from a trunk may be forwarded out (off)");
  add_change(
      table, set,
      [&switches] {
        pb::DialPlanChange change;
        auto* edit = change.mutable_switches();
        if (auto on = switch_of(switches.inhibit_off_switch, "--inhibit-off-switch"))
          edit->set_inhibit_off_switch(*on);
        if (auto on = switch_of(switches.trunk_to_trunk, "--trunk-to-trunk"))
          edit->set_trunk_to_trunk_transfer(*on);
        return change;
      },
      print_rights);
}

} // namespace

void add_dial_plan_commands(CLI::App& app, command_table& table) {
  add_short_code_commands(app, table);
  add_ars_commands(app, table);
  add_time_profile_commands(app, table);
  add_barring_commands(app, table);
  add_trunk_commands(app, table);
  add_rights_commands(app, table);
  add_fraud_rule_commands(app, table);
  add_auth_code_commands(app, table);
  add_forward_commands(app, table);
  add_plan_commands(app, table);
}

} // namespace ward::cli
