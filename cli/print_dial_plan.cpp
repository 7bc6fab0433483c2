#include "cli/print_dial_plan.hpp"

#include "cli/table.hpp"

#include <map>
#include <string>

namespace ward::cli {
namespace {

namespace pb = admin::v1;

template <class Codes>
void add_codes(text_table& table, const std::string& scope, const Codes& codes) {
  for (const auto& code : codes)
    table.add({scope, code.code(), code.feature(), code.telephone(), code.route()});
}

std::string joined(const google::protobuf::RepeatedPtrField<std::string>& values,
                   const char* separator = " ") {
  std::string text;
  for (const auto& value : values)
    text += (text.empty() ? "" : separator) + value;
  return text;
}

template <class Map> std::string barring_text(const Map& barring) {
  // Protobuf maps have no order: sorted, so the same plan always prints the same.
  const std::map<std::string, std::string> sorted(barring.begin(), barring.end());
  std::string text;
  for (const auto& [of, setting] : sorted)
    text += (text.empty() ? "" : " ") + of + "=" + setting;
  return text.empty() ? "-" : text;
}

std::string on_off(bool value) {
  return value ? "on" : "off";
}

} // namespace

void print_short_codes(std::ostream& out, const pb::DialPlan& plan) {
  text_table table({"SCOPE", "CODE", "FEATURE", "TELEPHONE", "ROUTE"});
  add_codes(table, "system", plan.system_codes());
  for (const auto& rights : plan.templates())
    add_codes(table, "template:" + rights.name(), rights.codes());
  for (const auto& user : plan.users())
    add_codes(table, "user:" + user.user(), user.codes());
  for (const auto& ars : plan.ars())
    add_codes(table, "ars:" + std::to_string(ars.id()), ars.codes());
  table.print(out);
}

void print_ars(std::ostream& out, const pb::DialPlan& plan) {
  text_table table({"ARS", "TRUNKS", "TIME_PROFILE", "OUT_OF_HOURS", "CODES"});
  for (const auto& ars : plan.ars())
    table.add({std::to_string(ars.id()) + ":" + ars.name(), joined(ars.trunks(), ","),
               ars.time_profile().empty() ? "-" : ars.time_profile(),
               ars.out_of_hours() == 0 ? "-" : std::to_string(ars.out_of_hours()),
               std::to_string(ars.codes_size())});
  table.print(out);
}

void print_time_profiles(std::ostream& out, const pb::DialPlan& plan) {
  text_table table({"PROFILE", "WEEKLY", "DATED", "CLOSED"});
  for (const auto& profile : plan.time_profiles())
    table.add({profile.name(), joined(profile.weekly()), joined(profile.dated()),
               joined(profile.closed())});
  table.print(out);
}

void print_barring(std::ostream& out, const pb::DialPlan& plan) {
  text_table table({"SCOPE", "BARRING"});
  table.add({"system", barring_text(plan.system_barring())});
  for (const auto& rights : plan.templates())
    table.add({"template:" + rights.name(), barring_text(rights.barring())});
  for (const auto& user : plan.users())
    table.add({"user:" + user.user(), barring_text(user.barring())});
  table.print(out);
  out << "caller-ID prefixes: " << joined(plan.caller_id_prefixes()) << "\n";
  out << "class rules: " << joined(plan.class_rules()) << "\n";
}

void print_trunks(std::ostream& out, const pb::DialPlan& plan) {
  text_table trunks({"TRUNK", "TRANSPORT", "ADDRESS", "DOMAIN", "CALLER_ID", "CHANNELS",
                     "CREDENTIALS", "MEDIA", "ENABLED"});
  for (const auto& trunk : plan.trunks())
    trunks.add(
        {trunk.name(), trunk.transport(), trunk.address() + ":" + std::to_string(trunk.port()),
         trunk.domain().empty() ? "-" : trunk.domain(),
         trunk.caller_id().empty() ? "-" : trunk.caller_id(), std::to_string(trunk.channels()),
         trunk.username().empty()
             ? "-"
             : trunk.username() + (trunk.password_set() ? " (password set)" : ""),
         trunk.media_security().empty() ? "system" : trunk.media_security(),
         on_off(trunk.enabled())});
  trunks.print(out);
  text_table routes({"INCOMING", "FROM_TRUNK", "EXTENSION"});
  for (const auto& route : plan.incoming_routes())
    routes.add({route.number(), route.trunk().empty() ? "any" : route.trunk(), route.extension()});
  routes.print(out);
}

void print_rights(std::ostream& out, const pb::DialPlan& plan) {
  text_table templates({"TEMPLATE", "CODES", "BARRING"});
  for (const auto& rights : plan.templates())
    templates.add(
        {rights.name(), std::to_string(rights.codes_size()), barring_text(rights.barring())});
  templates.print(out);
  text_table users({"USER", "TEMPLATE", "OUTGOING_CALL_BAR", "CODES", "AUTH_CODE_REQUIRED",
                    "INHIBIT_OFF_SWITCH", "FORWARD"});
  for (const auto& user : plan.users())
    users.add({user.user(), user.rights_template().empty() ? "-" : user.rights_template(),
               on_off(user.outgoing_call_barred()), std::to_string(user.codes_size()),
               on_off(user.auth_code_required()), on_off(user.inhibit_off_switch()),
               user.forward_unconditional().empty() ? "-" : user.forward_unconditional()});
  users.print(out);
  out << "system: inhibit_off_switch " << on_off(plan.inhibit_off_switch()) << ", trunk_to_trunk "
      << on_off(plan.trunk_to_trunk_transfer()) << "\n";
}

void print_fraud_rules(std::ostream& out, const pb::DialPlan& plan) {
  text_table rules({"RULE", "SCOPE", "PREFIX", "TIME_PROFILE", "MEASURE", "WARNING", "CRITICAL"});
  auto level = [](std::uint32_t limit, const std::string& action) {
    return limit == 0 ? std::string("-") : std::to_string(limit) + " " + action;
  };
  for (const auto& rule : plan.fraud_rules())
    rules.add({rule.name(),
               rule.subject().empty() ? rule.scope() : rule.scope() + ":" + rule.subject(),
               rule.prefix().empty() ? "any" : rule.prefix(),
               rule.time_profile().empty() ? "always" : rule.time_profile(), rule.measure(),
               level(rule.warning(), rule.warning_action()),
               level(rule.critical(), rule.critical_action())});
  rules.print(out);
}

void print_auth_codes(std::ostream& out, const pb::DialPlan& plan) {
  text_table owners({"AUTH_CODE_OWNER"});
  for (const auto& owner : plan.auth_code_owners())
    owners.add({owner});
  owners.print(out);
}

void print(std::ostream& out, const pb::DialPlan& plan) {
  print_short_codes(out, plan);
  out << "\n";
  print_ars(out, plan);
  out << "\n";
  print_time_profiles(out, plan);
  out << "\n";
  print_barring(out, plan);
  out << "\n";
  print_trunks(out, plan);
  out << "\n";
  print_rights(out, plan);
  out << "\n";
  print_fraud_rules(out, plan);
  out << "\n";
  print_auth_codes(out, plan);
}

} // namespace ward::cli
