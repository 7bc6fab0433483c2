#include "telephony/dial_plan_config.hpp"

#include <nlohmann/json.hpp>

namespace ward::telephony {
namespace {

using json = nlohmann::json;

/// A stored value that does not read back: the record is damaged. Thrown inside
/// decode_dial_plan only, and turned into its error there.
struct damaged {
  std::string what;
};

template <class Value>
Value parsed_or_damaged(std::optional<Value> value, std::string_view what,
                        const std::string& text) {
  if (!value)
    throw damaged{std::string(what) + " '" + text + "'"};
  return *value;
}

json codes_json(const std::vector<short_code>& codes) {
  json out = json::array();
  for (const auto& code : codes)
    out.push_back({{"code", code.code},
                   {"feature", std::string(to_string(code.feature))},
                   {"telephone", code.telephone},
                   {"route", code.route}});
  return out;
}

std::vector<short_code> codes_of(const json& array) {
  std::vector<short_code> codes;
  for (const auto& entry : array) {
    const auto feature = entry.at("feature").get<std::string>();
    codes.push_back({entry.at("code").get<std::string>(),
                     parsed_or_damaged(parse_short_code_feature(feature), "feature", feature),
                     entry.at("telephone").get<std::string>(),
                     entry.at("route").get<std::string>()});
  }
  return codes;
}

json barring_json(const class_barring& barring) {
  json out = json::object();
  for (std::size_t i = 0; i < calling_class_count; ++i)
    if (barring.settings[i] != bar_setting::inherit)
      out[std::string(to_string(static_cast<calling_class>(i)))] =
          std::string(to_string(barring.settings[i]));
  return out;
}

class_barring barring_of(const json& object) {
  class_barring barring;
  for (const auto& [name, value] : object.items()) {
    const auto of = parsed_or_damaged(parse_calling_class(name), "calling class", name);
    const auto text = value.get<std::string>();
    barring[of] = parsed_or_damaged(parse_bar_setting(text), "bar setting", text);
  }
  return barring;
}

json profile_json(const time_profile& profile) {
  json weekly = json::array();
  for (const auto& entry : profile.weekly)
    weekly.push_back({{"days", format_days(entry.days)}, {"span", format_day_span(entry.span)}});
  json dated = json::array();
  for (const auto& entry : profile.dated)
    dated.push_back({{"date", format_date(entry.date)}, {"span", format_day_span(entry.span)}});
  json closed = json::array();
  for (const auto& date : profile.closed)
    closed.push_back(format_date(date));
  return {{"name", profile.name}, {"weekly", weekly}, {"dated", dated}, {"closed", closed}};
}

template <class Value, class Error> Value read_or_damaged(std::expected<Value, Error> value) {
  if (!value)
    throw damaged{value.error().detail};
  return *value;
}

time_profile profile_of(const json& entry) {
  time_profile profile;
  profile.name = entry.at("name").get<std::string>();
  for (const auto& weekly : entry.at("weekly"))
    profile.weekly.push_back(
        {read_or_damaged(parse_days(weekly.at("days").get<std::string>())),
         read_or_damaged(parse_day_span(weekly.at("span").get<std::string>()))});
  for (const auto& dated : entry.at("dated"))
    profile.dated.push_back({read_or_damaged(parse_date(dated.at("date").get<std::string>())),
                             read_or_damaged(parse_day_span(dated.at("span").get<std::string>()))});
  for (const auto& date : entry.at("closed"))
    profile.closed.push_back(read_or_damaged(parse_date(date.get<std::string>())));
  return profile;
}

json ars_json(const ars_table& table) {
  return {{"id", table.id},
          {"name", table.name},
          {"codes", codes_json(table.codes)},
          {"trunks", table.trunks},
          {"time_profile", table.time_profile},
          {"out_of_hours", table.out_of_hours}};
}

ars_table ars_of(const json& entry) {
  ars_table table;
  table.id = entry.at("id").get<std::uint32_t>();
  table.name = entry.at("name").get<std::string>();
  table.codes = codes_of(entry.at("codes"));
  table.trunks = entry.at("trunks").get<std::vector<std::string>>();
  table.time_profile = entry.at("time_profile").get<std::string>();
  table.out_of_hours = entry.at("out_of_hours").get<std::uint32_t>();
  return table;
}

json trunk_json(const trunk_config& trunk, bool with_secrets) {
  json out{{"name", trunk.name},           {"address", trunk.address},
           {"port", trunk.port},           {"transport", std::string(to_string(trunk.kind))},
           {"domain", trunk.domain},       {"username", trunk.username},
           {"caller_id", trunk.caller_id}, {"channels", trunk.channels},
           {"enabled", trunk.enabled}};
  if (with_secrets)
    out["password"] = trunk.password;
  else
    out["password_set"] = !trunk.password.empty();
  if (trunk.media_security)
    out["media_security"] = std::string(media::to_string(*trunk.media_security));
  return out;
}

trunk_config trunk_of(const json& entry) {
  trunk_config trunk;
  trunk.name = entry.at("name").get<std::string>();
  trunk.address = entry.at("address").get<std::string>();
  trunk.port = entry.at("port").get<std::uint16_t>();
  const auto kind = entry.at("transport").get<std::string>();
  trunk.kind = parsed_or_damaged(parse_transport(kind), "transport", kind);
  trunk.domain = entry.at("domain").get<std::string>();
  trunk.username = entry.at("username").get<std::string>();
  trunk.password = entry.at("password").get<std::string>();
  trunk.caller_id = entry.at("caller_id").get<std::string>();
  trunk.channels = entry.at("channels").get<std::uint32_t>();
  trunk.enabled = entry.at("enabled").get<bool>();
  if (entry.contains("media_security")) {
    const auto level = entry.at("media_security").get<std::string>();
    trunk.media_security =
        parsed_or_damaged(media::parse_media_security(level), "media security", level);
  }
  return trunk;
}

json user_json(const user_dial_settings& user) {
  return {{"template", user.rights_template},
          {"codes", codes_json(user.short_codes)},
          {"barring", barring_json(user.barring)},
          {"outgoing_call_barred", user.outgoing_call_barred},
          {"inhibit_off_switch", user.inhibit_off_switch},
          {"forward_unconditional", user.forward.unconditional},
          {"forward_on_busy", user.forward.on_busy},
          {"forward_on_no_answer", user.forward.on_no_answer},
          {"auth_code_required", user.auth_code_required}};
}

user_dial_settings user_of(const json& entry) {
  user_dial_settings user;
  user.rights_template = entry.at("template").get<std::string>();
  user.short_codes = codes_of(entry.at("codes"));
  user.barring = barring_of(entry.at("barring"));
  user.outgoing_call_barred = entry.at("outgoing_call_barred").get<bool>();
  user.inhibit_off_switch = entry.at("inhibit_off_switch").get<bool>();
  user.forward = {entry.at("forward_unconditional").get<std::string>(),
                  entry.at("forward_on_busy").get<std::string>(),
                  entry.at("forward_on_no_answer").get<std::string>()};
  user.auth_code_required = entry.value("auth_code_required", false);
  return user;
}

json numbering_json(const numbering_plan& plan) {
  json rules = json::array();
  for (const auto& rule : plan.rules)
    rules.push_back({{"pattern", rule.pattern}, {"class", std::string(to_string(rule.of))}});
  return {{"caller_id_prefixes", plan.caller_id_prefixes}, {"rules", rules}};
}

numbering_plan numbering_of(const json& entry) {
  numbering_plan plan;
  plan.caller_id_prefixes = entry.at("caller_id_prefixes").get<std::vector<std::string>>();
  for (const auto& rule : entry.at("rules")) {
    const auto of = rule.at("class").get<std::string>();
    plan.rules.push_back({rule.at("pattern").get<std::string>(),
                          parsed_or_damaged(parse_calling_class(of), "calling class", of)});
  }
  return plan;
}

json fraud_rule_json(const fraud_rule& rule) {
  return {{"name", rule.name},
          {"scope", std::string(to_string(rule.scope))},
          {"subject", rule.subject},
          {"prefix", rule.prefix},
          {"time_profile", rule.time_profile},
          {"measure", std::string(to_string(rule.measure))},
          {"warning", rule.warning.limit},
          {"warning_action", std::string(to_string(rule.warning.action))},
          {"critical", rule.critical.limit},
          {"critical_action", std::string(to_string(rule.critical.action))}};
}

fraud_rule fraud_rule_of(const json& entry) {
  fraud_rule rule;
  rule.name = entry.at("name").get<std::string>();
  const auto scope = entry.at("scope").get<std::string>();
  rule.scope = parsed_or_damaged(parse_fraud_scope(scope), "fraud scope", scope);
  rule.subject = entry.at("subject").get<std::string>();
  rule.prefix = entry.at("prefix").get<std::string>();
  rule.time_profile = entry.at("time_profile").get<std::string>();
  const auto measure = entry.at("measure").get<std::string>();
  rule.measure = parsed_or_damaged(parse_fraud_measure(measure), "fraud measure", measure);
  rule.warning.limit = entry.at("warning").get<std::uint32_t>();
  rule.critical.limit = entry.at("critical").get<std::uint32_t>();
  const auto warning = entry.at("warning_action").get<std::string>();
  rule.warning.action = parsed_or_damaged(parse_fraud_action(warning), "fraud action", warning);
  const auto critical = entry.at("critical_action").get<std::string>();
  rule.critical.action = parsed_or_damaged(parse_fraud_action(critical), "fraud action", critical);
  return rule;
}

json auth_code_json(const auth_code_entry& entry, bool with_secrets) {
  json out{{"kind", entry.kind == auth_code_owner_kind::user ? "user" : "template"},
           {"owner", entry.owner}};
  if (with_secrets) {
    out["salt"] = entry.salt;
    out["digest"] = entry.digest;
  }
  return out;
}

auth_code_entry auth_code_of(const json& entry) {
  const auto kind = entry.at("kind").get<std::string>();
  if (kind != "user" && kind != "template")
    throw damaged{"auth code owner kind '" + kind + "'"};
  return {kind == "user" ? auth_code_owner_kind::user : auth_code_owner_kind::rights_template,
          entry.at("owner").get<std::string>(), entry.at("salt").get<std::string>(),
          entry.at("digest").get<std::string>()};
}

} // namespace

std::string encode_dial_plan(const dial_plan_config& config, bool with_secrets) {
  json templates = json::array();
  for (const auto& [name, rights] : config.templates)
    templates.push_back({{"name", name},
                         {"codes", codes_json(rights.short_codes)},
                         {"barring", barring_json(rights.barring)},
                         {"inhibit_off_switch", rights.inhibit_off_switch}});
  json users = json::object();
  for (const auto& [name, user] : config.users)
    users[name] = user_json(user);
  json tables = json::array();
  for (const auto& table : config.ars_tables)
    tables.push_back(ars_json(table));
  json profiles = json::array();
  for (const auto& profile : config.time_profiles)
    profiles.push_back(profile_json(profile));
  json trunks = json::array();
  for (const auto& [_, trunk] : config.trunks)
    trunks.push_back(trunk_json(trunk, with_secrets));
  json routes = json::array();
  for (const auto& route : config.incoming_routes)
    routes.push_back(
        {{"trunk", route.trunk}, {"number", route.number}, {"extension", route.extension}});
  json fraud_rules = json::array();
  for (const auto& rule : config.fraud_rules)
    fraud_rules.push_back(fraud_rule_json(rule));
  json auth_codes = json::array();
  for (const auto& entry : config.auth_codes)
    auth_codes.push_back(auth_code_json(entry, with_secrets));
  json document{{"system_codes", codes_json(config.system_short_codes)},
                {"templates", templates},
                {"users", users},
                {"ars", tables},
                {"time_profiles", profiles},
                {"numbering", numbering_json(config.numbering)},
                {"system_barring", barring_json(config.system_barring)},
                {"inhibit_off_switch", config.inhibit_off_switch},
                {"trunk_to_trunk_transfer", config.trunk_to_trunk_transfer},
                {"trunks", trunks},
                {"incoming_routes", routes},
                {"fraud_rules", fraud_rules},
                {"auth_codes", auth_codes}};
  if (with_secrets)
    document["auth_code_key"] = config.auth_code_key;
  return document.dump();
}

std::expected<dial_plan_config, error> decode_dial_plan(std::string_view text) {
  try {
    const auto document = json::parse(text);
    dial_plan_config config;
    config.system_short_codes = codes_of(document.at("system_codes"));
    for (const auto& entry : document.at("templates")) {
      rights_template rights;
      rights.name = entry.at("name").get<std::string>();
      rights.short_codes = codes_of(entry.at("codes"));
      rights.barring = barring_of(entry.at("barring"));
      rights.inhibit_off_switch = entry.at("inhibit_off_switch").get<bool>();
      config.templates.emplace(rights.name, std::move(rights));
    }
    for (const auto& [name, entry] : document.at("users").items())
      config.users.emplace(name, user_of(entry));
    config.ars_tables.clear();
    for (const auto& entry : document.at("ars"))
      config.ars_tables.push_back(ars_of(entry));
    for (const auto& entry : document.at("time_profiles"))
      config.time_profiles.push_back(profile_of(entry));
    config.numbering = numbering_of(document.at("numbering"));
    config.system_barring = barring_of(document.at("system_barring"));
    config.inhibit_off_switch = document.at("inhibit_off_switch").get<bool>();
    config.trunk_to_trunk_transfer = document.at("trunk_to_trunk_transfer").get<bool>();
    for (const auto& entry : document.at("trunks")) {
      auto trunk = trunk_of(entry);
      config.trunks.emplace(trunk.name, std::move(trunk));
    }
    for (const auto& entry : document.at("incoming_routes"))
      config.incoming_routes.push_back({entry.at("trunk").get<std::string>(),
                                        entry.at("number").get<std::string>(),
                                        entry.at("extension").get<std::string>()});
    // Written before fraud rules existed: none.
    if (document.contains("fraud_rules"))
      for (const auto& entry : document.at("fraud_rules"))
        config.fraud_rules.push_back(fraud_rule_of(entry));
    if (document.contains("auth_codes"))
      for (const auto& entry : document.at("auth_codes"))
        config.auth_codes.push_back(auth_code_of(entry));
    config.auth_code_key = document.value("auth_code_key", std::string());
    return config;
  } catch (const json::exception& e) {
    return std::unexpected(error{errc::damaged_record, std::string("dial plan: ") + e.what()});
  } catch (const damaged& e) {
    return std::unexpected(error{errc::damaged_record, "dial plan: unreadable " + e.what});
  }
}

} // namespace ward::telephony
