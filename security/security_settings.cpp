#include "security/security_settings.hpp"

#include "core/enum_names.hpp"

#include <array>

namespace ward::security {

constexpr auto service_names = name_table(
    enum_name{service_name::configuration, "configuration"},
    enum_name{service_name::security_administration, "security_administration"},
    enum_name{service_name::system_status, "system_status"},
    enum_name{service_name::web_services, "web_services"}, enum_name{service_name::http, "http"},
    enum_name{service_name::telephony_apis, "telephony_apis"},
    enum_name{service_name::external, "external"});

std::string_view to_string(service_name service) {
  return service_names.at(static_cast<std::size_t>(service)).name;
}

std::optional<service_name> parse_service_name(std::string_view text) {
  return parse_name(service_names, text);
}

constexpr auto account_setting_names =
    name_table(enum_name{account_setting::enabled, "enabled"},
               enum_name{account_setting::disabled, "disabled"},
               enum_name{account_setting::force_new_password, "force_new_password"});

std::string_view to_string(account_setting setting) {
  return name_of(account_setting_names, setting, "disabled");
}

std::optional<account_setting> parse_account_setting(std::string_view text) {
  return parse_name(account_setting_names, text);
}

constexpr auto account_status_names = name_table(
    enum_name{account_status::enabled, "enabled"}, enum_name{account_status::disabled, "disabled"},
    enum_name{account_status::force_new_password, "force_new_password"},
    enum_name{account_status::locked_temporary, "locked_temporary"},
    enum_name{account_status::locked_password_error, "locked_password_error"},
    enum_name{account_status::expired, "expired"});

std::string_view to_string(account_status status) {
  return name_of(account_status_names, status, "disabled");
}

const std::vector<default_service_user>& default_service_users() {
  using enum account_setting;
  static const std::vector<default_service_user> users = {
      {administrator_name,
       enabled,
       {"Administrator Group", "System Status Group", "Business Partner"}},
      {"AdjunctServer", disabled, {"Adjunct Server"}},
      {"BranchAdmin", disabled, {"Central Manager Admin"}},
      {"BusinessPartner", disabled, {"Business Partner"}},
      {"CloudOpsAdmin", enabled, {"Cloud Operations Admin"}},
      {"DirectoryService", enabled, {"Directory Group"}},
      {"CtiService", enabled, {"CTI Group"}},
      {"DectService", disabled, {"DECT Group"}},
      {"Maintainer", disabled, {"Maintainer"}},
      {"OpsManagerAdmin", disabled, {"Operations Manager Admin"}},
      {"TURNServer", disabled, {"TURN Server"}},
      {security_administrator_name, enabled, {"Security Admin"}},
  };
  return users;
}

std::map<service_name, pki::service_security_level> default_service_levels() {
  using level = pki::service_security_level;
  return {
      {service_name::configuration, level::secure_medium},
      {service_name::security_administration, level::secure_medium},
      {service_name::system_status, level::secure_medium},
      {service_name::web_services, level::secure_medium},
      {service_name::http, level::unsecure_and_secure},
      {service_name::telephony_apis, level::disabled},
      {service_name::external, level::disabled},
  };
}

account_status status_of(const service_user& user, const service_user_policy& policy,
                         time_point now) {
  if (user.setting == account_setting::disabled)
    return account_status::disabled;
  if (user.lock.locked_permanently)
    return account_status::locked_password_error;
  if (is_locked(user.lock, now))
    return account_status::locked_temporary;
  if (user.expires_at && now >= *user.expires_at)
    return account_status::expired;
  if (policy.account_idle_days > 0 && !user.protected_account) {
    auto last_use = user.last_login_at.value_or(user.password_changed_at);
    if (now - last_use >= std::chrono::days(policy.account_idle_days))
      return account_status::disabled;
  }
  if (user.setting == account_setting::force_new_password)
    return account_status::force_new_password;
  if (policy.password_change_period_days > 0 &&
      now - user.password_changed_at >= std::chrono::days(policy.password_change_period_days))
    return account_status::force_new_password;
  return account_status::enabled;
}

std::set<right> rights_of(const service_user& user, const security_settings& settings) {
  std::set<right> rights;
  for (const auto& group_name : user.groups)
    if (auto it = settings.groups.find(group_name); it != settings.groups.end())
      rights.insert(it->second.rights.begin(), it->second.rights.end());
  if (user.protected_account) {
    auto security_rights = all_service_rights(rights_set::security_administrator);
    rights.insert(security_rights.begin(), security_rights.end());
  }
  return rights;
}

} // namespace ward::security
