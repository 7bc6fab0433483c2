#include "security/settings_codec.hpp"

#include "security/json_record.hpp"

#include <nlohmann/json.hpp>

namespace ward::security {
namespace {

using json = nlohmann::json;

std::int64_t to_unix(time_point when) {
  return std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count();
}

time_point from_unix(std::int64_t seconds) {
  return time_point(std::chrono::seconds(seconds));
}

json encode(const lock_state& lock) {
  json failures = json::array();
  for (auto failure : lock.recent_failures)
    failures.push_back(to_unix(failure));
  json out{{"recent_failures", failures}, {"locked_permanently", lock.locked_permanently}};
  if (lock.locked_until)
    out["locked_until"] = to_unix(*lock.locked_until);
  return out;
}

lock_state decode_lock(const json& in) {
  lock_state lock;
  for (const auto& failure : in.at("recent_failures"))
    lock.recent_failures.push_back(from_unix(failure.get<std::int64_t>()));
  lock.locked_permanently = in.at("locked_permanently").get<bool>();
  if (in.contains("locked_until"))
    lock.locked_until = from_unix(in.at("locked_until").get<std::int64_t>());
  return lock;
}

json encode(const lockout_rule& rule) {
  return {{"reject_limit", rule.limit},
          {"reject_window_seconds", rule.window.count()},
          {"reject_action", to_string(rule.action)},
          {"temporary_lock_seconds", rule.temporary_lock.count()}};
}

lockout_rule decode_lockout(const json& in) {
  lockout_rule rule;
  rule.limit = in.at("reject_limit").get<std::uint32_t>();
  rule.window = std::chrono::seconds(in.at("reject_window_seconds").get<std::int64_t>());
  rule.action = parse_reject_action(in.at("reject_action").get<std::string>())
                    .value_or(reject_action::log_and_temporary_disable);
  rule.temporary_lock = std::chrono::seconds(in.at("temporary_lock_seconds").get<std::int64_t>());
  return rule;
}

json encode(const password_rules& rules) {
  return {{"min_length", rules.min_length},
          {"max_length", rules.max_length},
          {"complexity", to_string(rules.level)}};
}

password_rules decode_password_rules(const json& in) {
  password_rules rules;
  rules.min_length = in.at("min_length").get<std::size_t>();
  rules.max_length = in.at("max_length").get<std::size_t>();
  rules.level =
      parse_complexity(in.at("complexity").get<std::string>()).value_or(complexity::medium);
  return rules;
}

pin_rules decode_pin_rules(const json& in) {
  pin_rules rules;
  rules.min_length = in.at("min_length").get<std::size_t>();
  rules.max_length = in.at("max_length").get<std::size_t>();
  rules.complexity_test = in.at("complexity_test").get<bool>();
  return rules;
}

json encode_user(const service_user& user) {
  json out{{"name", user.name},
           {"password_hash", user.password_hash},
           {"password_history", user.password_history},
           {"setting", to_string(user.setting)},
           {"groups", user.groups},
           {"password_changed_at", to_unix(user.password_changed_at)},
           {"protected_account", user.protected_account},
           {"at_default", user.at_default},
           {"credential_version", user.credential_version},
           {"lock", encode(user.lock)}};
  if (user.expires_at)
    out["expires_at"] = to_unix(*user.expires_at);
  if (user.last_login_at)
    out["last_login_at"] = to_unix(*user.last_login_at);
  return out;
}

service_user decode_user(const json& in) {
  service_user user;
  user.name = in.at("name").get<std::string>();
  user.password_hash = in.at("password_hash").get<std::string>();
  user.password_history = in.at("password_history").get<std::vector<std::string>>();
  user.setting = parse_account_setting(in.at("setting").get<std::string>())
                     .value_or(account_setting::disabled);
  user.groups = in.at("groups").get<std::set<std::string>>();
  user.password_changed_at = from_unix(in.at("password_changed_at").get<std::int64_t>());
  user.protected_account = in.at("protected_account").get<bool>();
  user.at_default = in.at("at_default").get<bool>();
  user.credential_version = in.at("credential_version").get<std::uint64_t>();
  user.lock = decode_lock(in.at("lock"));
  if (in.contains("expires_at"))
    user.expires_at = from_unix(in.at("expires_at").get<std::int64_t>());
  if (in.contains("last_login_at"))
    user.last_login_at = from_unix(in.at("last_login_at").get<std::int64_t>());
  return user;
}

json rights_names(const std::set<right>& rights) {
  json out = json::array();
  for (auto id : rights)
    out.push_back(to_string(id));
  return out;
}

/// The security settings in a format-1 document; nlohmann throws on a missing or
/// mistyped field, which decode_json_record reports.
std::expected<security_settings, error> settings_from_json(const json& document) {
  security_settings settings;
  settings.version = document.at("version").get<std::uint64_t>();
  for (const auto& entry : document.at("users")) {
    auto user = decode_user(entry);
    settings.users.emplace(user.name, std::move(user));
  }
  for (const auto& entry : document.at("groups")) {
    rights_group group;
    group.name = entry.at("name").get<std::string>();
    group.at_default = entry.at("at_default").get<bool>();
    for (const auto& name : entry.at("rights"))
      if (auto id = parse_right(name.get<std::string>()))
        group.rights.insert(*id);
    settings.groups.emplace(group.name, std::move(group));
  }
  const auto& service = document.at("service_policy");
  settings.service_policy.min_name_length = service.at("min_name_length").get<std::size_t>();
  settings.service_policy.password = decode_password_rules(service.at("password"));
  settings.service_policy.history_entries = service.at("history_entries").get<std::uint32_t>();
  settings.service_policy.password_change_period_days =
      service.at("password_change_period_days").get<std::uint32_t>();
  settings.service_policy.account_idle_days = service.at("account_idle_days").get<std::uint32_t>();
  settings.service_policy.lockout = decode_lockout(service.at("lockout"));
  settings.service_policy.source_lockout = decode_lockout(service.at("source_lockout"));
  const auto& telephony = document.at("telephony_policy");
  settings.telephony_policy.enforce = telephony.at("enforce").get<bool>();
  settings.telephony_policy.password = decode_password_rules(telephony.at("password"));
  settings.telephony_policy.lockout = decode_lockout(telephony.at("lockout"));
  settings.login_code_rules = decode_pin_rules(document.at("login_code_rules"));
  settings.voicemail_code_rules = decode_pin_rules(document.at("voicemail_code_rules"));
  for (const auto& [name, level] : document.at("service_levels").items()) {
    auto service_id = parse_service_name(name);
    auto level_id = pki::parse_service_security_level(level.get<std::string>());
    if (service_id && level_id)
      settings.service_levels[*service_id] = *level_id;
  }
  const auto& interfaces = document.at("interfaces");
  settings.interfaces.legacy_monitor = interfaces.at("legacy_monitor").get<bool>();
  settings.interfaces.cti = interfaces.at("cti").get<bool>();
  settings.interfaces.directory_read = interfaces.at("directory_read").get<bool>();
  settings.interfaces.directory_write = interfaces.at("directory_write").get<bool>();
  settings.interfaces.file_writer_address = interfaces.at("file_writer_address").get<std::string>();
  const auto& certificates = document.at("certificates");
  auto management = pki::parse_check_level(certificates.at("management_checks").get<std::string>());
  auto telephony_checks =
      pki::parse_check_level(certificates.at("telephony_checks").get<std::string>());
  auto minimum = certificates.at("minimum_tls").get<std::string>();
  if (!management || !telephony_checks || (minimum != "1.2" && minimum != "1.3"))
    return std::unexpected(
        error{errc::damaged_record, "damaged security settings: bad certificate settings"});
  settings.certificates.management_checks = *management;
  settings.certificates.telephony_checks = *telephony_checks;
  settings.certificates.minimum_tls =
      minimum == "1.3" ? pki::tls_min_version::tls1_3 : pki::tls_min_version::tls1_2;
  settings.certificates.offer_chain = certificates.at("offer_chain").get<bool>();
  settings.certificates.renew_identity_automatically =
      certificates.at("renew_identity_automatically").get<bool>();
  settings.system_password_hash = document.at("system_password_hash").get<std::string>();
  const auto& ignition = document.at("ignition");
  settings.ignition.administrator_password_changed = ignition.at("administrator").get<bool>();
  settings.ignition.security_administrator_password_changed =
      ignition.at("security_administrator").get<bool>();
  settings.ignition.system_password_changed = ignition.at("system").get<bool>();
  return settings;
}

} // namespace

json to_json(const rights_group& group) {
  return {{"name", group.name},
          {"rights", rights_names(group.rights)},
          {"at_default", group.at_default}};
}

json to_json(const service_user_policy& policy) {
  return {{"min_name_length", policy.min_name_length},
          {"password", encode(policy.password)},
          {"history_entries", policy.history_entries},
          {"password_change_period_days", policy.password_change_period_days},
          {"account_idle_days", policy.account_idle_days},
          {"lockout", encode(policy.lockout)},
          {"source_lockout", encode(policy.source_lockout)}};
}

json to_json(const telephony_user_policy& policy) {
  return {{"enforce", policy.enforce},
          {"password", encode(policy.password)},
          {"lockout", encode(policy.lockout)}};
}

json to_json(const certificate_settings& settings) {
  return {{"management_checks", pki::to_string(settings.management_checks)},
          {"telephony_checks", pki::to_string(settings.telephony_checks)},
          {"minimum_tls", settings.minimum_tls == pki::tls_min_version::tls1_3 ? "1.3" : "1.2"},
          {"offer_chain", settings.offer_chain},
          {"renew_identity_automatically", settings.renew_identity_automatically}};
}

json to_json(const pin_rules& rules) {
  return {{"min_length", rules.min_length},
          {"max_length", rules.max_length},
          {"complexity_test", rules.complexity_test}};
}

json to_json(const unsecured_interfaces& interfaces) {
  return {{"legacy_monitor", interfaces.legacy_monitor},
          {"cti", interfaces.cti},
          {"directory_read", interfaces.directory_read},
          {"directory_write", interfaces.directory_write},
          {"file_writer_address", interfaces.file_writer_address}};
}

json redacted(const service_user& user, const security_settings& settings, time_point now) {
  json out{{"name", user.name},
           {"status", to_string(status_of(user, settings.service_policy, now))},
           {"setting", to_string(user.setting)},
           {"groups", user.groups},
           {"protected", user.protected_account},
           {"at_default", user.at_default},
           {"recent_failures", user.lock.recent_failures.size()},
           {"password_changed_at", to_unix(user.password_changed_at)}};
  if (user.expires_at)
    out["expires_at"] = to_unix(*user.expires_at);
  if (user.last_login_at)
    out["last_login_at"] = to_unix(*user.last_login_at);
  if (user.lock.locked_until)
    out["locked_until"] = to_unix(*user.lock.locked_until);
  return out;
}

std::string encode_settings(const security_settings& settings) {
  json users = json::array();
  for (const auto& [_, user] : settings.users)
    users.push_back(encode_user(user));
  json groups = json::array();
  for (const auto& [_, group] : settings.groups)
    groups.push_back(to_json(group));
  json levels = json::object();
  for (const auto& [service, level] : settings.service_levels)
    levels[std::string(to_string(service))] = pki::to_string(level);
  json document{
      {"format", 1},
      {"version", settings.version},
      {"users", users},
      {"groups", groups},
      {"service_policy", to_json(settings.service_policy)},
      {"telephony_policy", to_json(settings.telephony_policy)},
      {"login_code_rules", to_json(settings.login_code_rules)},
      {"voicemail_code_rules", to_json(settings.voicemail_code_rules)},
      {"service_levels", levels},
      {"interfaces", to_json(settings.interfaces)},
      {"certificates", to_json(settings.certificates)},
      {"system_password_hash", settings.system_password_hash},
      {"ignition",
       {{"administrator", settings.ignition.administrator_password_changed},
        {"security_administrator", settings.ignition.security_administrator_password_changed},
        {"system", settings.ignition.system_password_changed}}}};
  return document.dump();
}

std::expected<security_settings, error> decode_settings(std::string_view text) {
  return decode_json_record(text, "unknown settings format", "damaged security settings",
                            settings_from_json);
}

} // namespace ward::security
