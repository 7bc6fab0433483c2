#include "security/security_database.hpp"

#include "core/enum_names.hpp"
#include "core/net_address.hpp"

#include <algorithm>

namespace ward::security {
namespace {

constexpr std::size_t max_name_length = 31;
constexpr std::size_t max_group_name_length = 31;

security_error invalid(std::string field, std::string message) {
  return {security_errc::invalid_argument, std::move(field), std::move(message)};
}

security_error not_found(std::string field, std::string what) {
  return {security_errc::not_found, std::move(field), std::move(what) + " does not exist"};
}

bool valid_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == '@';
}

std::optional<security_error> check_user_name(std::string_view name, std::size_t min_length) {
  if (name.size() < min_length || name.size() > max_name_length)
    return invalid("name", "must be " + std::to_string(min_length) + " to " +
                               std::to_string(max_name_length) + " characters");
  if (!std::all_of(name.begin(), name.end(), valid_name_char))
    return invalid("name", "may contain only letters, digits and . _ - @");
  return std::nullopt;
}

std::optional<security_error> check_lockout(const lockout_rule& rule, const std::string& prefix) {
  if (rule.limit > 100)
    return invalid(prefix + ".reject_limit", "must be 0 to 100");
  if (rule.window < std::chrono::seconds(1) || rule.window > std::chrono::days(1))
    return invalid(prefix + ".reject_window", "must be 1 second to 1 day");
  if (rule.temporary_lock < std::chrono::seconds(1) || rule.temporary_lock > std::chrono::days(1))
    return invalid(prefix + ".temporary_lock", "must be 1 second to 1 day");
  return std::nullopt;
}

std::optional<security_error> check_password_rules(const password_rules& rules,
                                                   const std::string& prefix) {
  if (rules.min_length < 1 || rules.min_length > rules.max_length || rules.max_length > 31)
    return invalid(prefix + ".min_password_length", "must be 1 to 31");
  return std::nullopt;
}

} // namespace

constexpr auto login_outcome_names = name_table(
    enum_name{login_outcome::success, "success"},
    enum_name{login_outcome::must_change_password, "must_change_password"},
    enum_name{login_outcome::bad_credentials, "bad_credentials"},
    enum_name{login_outcome::locked, "locked"}, enum_name{login_outcome::disabled, "disabled"},
    enum_name{login_outcome::expired, "expired"});

std::string_view to_string(login_outcome outcome) {
  return name_of(login_outcome_names, outcome, "bad_credentials");
}

security_database::security_database(security_settings settings, argon2_cost cost)
    : settings_(std::move(settings)), cost_(cost) {
  // Unknown names are checked against this hash so that they cost as much as known ones:
  // response time does not tell which accounts exist.
  dummy_hash_ = hash_secret("ward-no-such-user", cost_).value_or("");
}

security_result<std::string> security_database::hash(std::string_view secret) const {
  auto hashed = hash_secret(secret, cost_);
  if (!hashed)
    return std::unexpected(
        security_error{security_errc::storage_failure, "", hashed.error().detail});
  return *hashed;
}

security_result<security_settings>
security_database::factory_defaults(argon2_cost cost, time_point now, const random_source& random) {
  security_settings settings;
  for (const auto& group : default_rights_groups())
    settings.groups.emplace(group.name, group);
  for (const auto& account : default_service_users()) {
    service_user user;
    user.name = account.name;
    user.setting = account.setting;
    for (auto group : account.groups)
      user.groups.emplace(group);
    user.protected_account = account.name == security_administrator_name;
    user.at_default = true;
    user.password_changed_at = now;
    std::string password;
    if (account.name == administrator_name)
      password = default_administrator_password;
    else if (account.name == security_administrator_name)
      password = default_security_administrator_password;
    else
      password = generate_link_password(random);
    auto hashed = hash_secret(password, cost);
    if (!hashed)
      return std::unexpected(
          security_error{security_errc::storage_failure, "", hashed.error().detail});
    user.password_hash = *hashed;
    settings.users.emplace(user.name, std::move(user));
  }
  settings.service_levels = default_service_levels();
  auto system_hash = hash_secret(default_system_password, cost);
  if (!system_hash)
    return std::unexpected(
        security_error{security_errc::storage_failure, "", system_hash.error().detail});
  settings.system_password_hash = *system_hash;
  return settings;
}

bool security_database::apply_release_defaults(time_point now, const random_source& random) {
  bool changed = false;
  for (const auto& group : default_rights_groups()) {
    auto it = settings_.groups.find(group.name);
    if (it == settings_.groups.end()) {
      settings_.groups.emplace(group.name, group);
      changed = true;
    } else if (it->second.at_default && it->second.rights != group.rights) {
      it->second.rights = group.rights;
      changed = true;
    }
  }
  for (const auto& account : default_service_users()) {
    auto it = settings_.users.find(std::string(account.name));
    std::set<std::string> groups(account.groups.begin(), account.groups.end());
    if (it == settings_.users.end()) {
      service_user user;
      user.name = account.name;
      user.setting = account.setting;
      user.groups = groups;
      user.at_default = true;
      user.password_changed_at = now;
      user.password_hash = hash_secret(generate_link_password(random), cost_).value_or("");
      settings_.users.emplace(user.name, std::move(user));
      changed = true;
    } else if (it->second.at_default && it->second.groups != groups) {
      it->second.groups = groups;
      changed = true;
    }
  }
  if (changed)
    bump();
  return changed;
}

login_material security_database::login_material_for(std::string_view name, time_point now) const {
  auto it = settings_.users.find(std::string(name));
  if (it == settings_.users.end())
    return {false, account_status::disabled, dummy_hash_, 0};
  const auto& user = it->second;
  return {true, status_of(user, settings_.service_policy, now), user.password_hash,
          user.credential_version};
}

login_result security_database::complete_login(std::string_view name, bool password_matched,
                                               std::uint64_t seen_version, time_point now) {
  login_result result;
  auto it = settings_.users.find(std::string(name));
  if (it == settings_.users.end())
    return result;
  auto& user = it->second;
  result.credential_version = user.credential_version;
  switch (status_of(user, settings_.service_policy, now)) {
    case account_status::locked_temporary:
    case account_status::locked_password_error:
      result.outcome = login_outcome::locked;
      return result;
    case account_status::disabled:
      result.outcome = login_outcome::disabled;
      return result;
    case account_status::expired:
      result.outcome = login_outcome::expired;
      return result;
    case account_status::enabled:
    case account_status::force_new_password:
      break;
  }
  // The password changed while it was being checked: the check proved nothing.
  if (!password_matched || seen_version != user.credential_version) {
    result.lock_event = record_failure(user.lock, settings_.service_policy.lockout, now);
    if (result.lock_event == lockout_event::locked_permanently)
      ++user.credential_version;
    result.outcome = result.lock_event == lockout_event::none ? login_outcome::bad_credentials
                                                              : login_outcome::locked;
    bump();
    return result;
  }
  record_success(user.lock);
  user.last_login_at = now;
  bump();
  result.outcome =
      status_of(user, settings_.service_policy, now) == account_status::force_new_password
          ? login_outcome::must_change_password
          : login_outcome::success;
  if (settings_.service_policy.password_change_period_days > 0) {
    auto due = user.password_changed_at +
               std::chrono::days(settings_.service_policy.password_change_period_days);
    result.password_expires_in_days = std::chrono::floor<std::chrono::days>(due - now).count();
  }
  return result;
}

security_result<session_principal> security_database::principal(std::string_view name,
                                                                std::uint64_t credential_version,
                                                                time_point now) const {
  auto it = settings_.users.find(std::string(name));
  if (it == settings_.users.end() || it->second.credential_version != credential_version)
    return std::unexpected(security_error{security_errc::unauthenticated, "session",
                                          "session is no longer valid; log in again"});
  auto status = status_of(it->second, settings_.service_policy, now);
  if (status != account_status::enabled && status != account_status::force_new_password)
    return std::unexpected(security_error{security_errc::unauthenticated, "session",
                                          "account is " + std::string(to_string(status))});
  return session_principal{it->second.name, rights_of(it->second, settings_), status};
}

security_result<void> security_database::check_new_password(const service_user& user,
                                                            std::string_view password) const {
  const auto& rules = settings_.service_policy.password;
  if (auto rejected = check_password(password, user.name, rules))
    return std::unexpected(
        invalid("new_password", describe(*rejected, rules.min_length, rules.max_length)));
  if (!user.password_hash.empty() && verify_secret(user.password_hash, password))
    return std::unexpected(invalid("new_password", "must differ from the current password"));
  auto history =
      std::min<std::size_t>(settings_.service_policy.history_entries, user.password_history.size());
  for (std::size_t i = 0; i < history; ++i)
    if (verify_secret(user.password_history[i], password))
      return std::unexpected(
          invalid("new_password", "was used recently; the last " +
                                      std::to_string(settings_.service_policy.history_entries) +
                                      " passwords may not be reused"));
  return {};
}

security_result<void> security_database::set_password(service_user& user, std::string_view password,
                                                      time_point now) {
  auto hashed = hash(password);
  if (!hashed)
    return std::unexpected(hashed.error());
  user.password_history.insert(user.password_history.begin(), user.password_hash);
  user.password_history.resize(
      std::min<std::size_t>(user.password_history.size(),
                            std::max<std::uint32_t>(settings_.service_policy.history_entries, 1)));
  user.password_hash = *hashed;
  user.password_changed_at = now;
  return {};
}

security_result<void> security_database::change_own_password(std::string_view name,
                                                             std::string_view old_password,
                                                             std::string_view new_password,
                                                             time_point now) {
  auto it = settings_.users.find(std::string(name));
  if (it == settings_.users.end())
    return std::unexpected(not_found("name", "service user"));
  auto& user = it->second;
  if (!verify_secret(user.password_hash, old_password)) {
    // A wrong current password is a failed login: a stolen session must not become an
    // unlimited password oracle (SPEC POL-1).
    if (record_failure(user.lock, settings_.service_policy.lockout, now) ==
        lockout_event::locked_permanently)
      ++user.credential_version;
    bump();
    return std::unexpected(security_error{.code = security_errc::unauthenticated,
                                          .field = "old_password",
                                          .message = "the current password is wrong",
                                          .failure_counted = true});
  }
  if (auto checked = check_new_password(user, new_password); !checked)
    return checked;
  if (auto set = set_password(user, new_password, now); !set)
    return set;
  if (user.setting == account_setting::force_new_password)
    user.setting = account_setting::enabled;
  user.at_default = false;
  ++user.credential_version;
  if (user.name == administrator_name)
    settings_.ignition.administrator_password_changed = true;
  if (user.protected_account)
    settings_.ignition.security_administrator_password_changed = true;
  bump();
  return {};
}

security_result<void> security_database::set_system_password(std::string_view new_password,
                                                             time_point) {
  if (auto rejected = check_system_password(new_password))
    return std::unexpected(invalid("system_password", describe(*rejected, 1, system_password_max)));
  if (verify_secret(settings_.system_password_hash, new_password))
    return std::unexpected(invalid("system_password", "must differ from the current one"));
  auto hashed = hash(new_password);
  if (!hashed)
    return std::unexpected(hashed.error());
  settings_.system_password_hash = *hashed;
  settings_.ignition.system_password_changed = true;
  bump();
  return {};
}

security_result<void> security_database::create_user(const new_service_user& request,
                                                     time_point now) {
  if (auto bad = check_user_name(request.name, settings_.service_policy.min_name_length))
    return std::unexpected(*bad);
  if (settings_.users.contains(request.name))
    return std::unexpected(security_error{security_errc::already_exists, "name",
                                          "service user " + request.name + " already exists"});
  for (const auto& group : request.groups)
    if (!settings_.groups.contains(group))
      return std::unexpected(not_found("groups", "rights group '" + group + "'"));
  service_user user;
  user.name = request.name;
  user.setting = request.setting;
  user.groups = request.groups;
  user.expires_at = request.expires_at;
  // Never a version an earlier account of the same name had: its sessions stay dead.
  user.credential_version = settings_.version + 1;
  user.password_changed_at = now;
  if (auto checked = check_new_password(user, request.password); !checked) {
    auto error = checked.error();
    error.field = "password";
    return std::unexpected(error);
  }
  auto hashed = hash(request.password);
  if (!hashed)
    return std::unexpected(hashed.error());
  user.password_hash = *hashed;
  settings_.users.emplace(user.name, std::move(user));
  bump();
  return {};
}

security_result<void> security_database::update_user(std::string_view name,
                                                     const service_user_update& update,
                                                     time_point now) {
  auto it = settings_.users.find(std::string(name));
  if (it == settings_.users.end())
    return std::unexpected(not_found("name", "service user"));
  auto changed = it->second;
  if (update.groups) {
    for (const auto& group : *update.groups)
      if (!settings_.groups.contains(group))
        return std::unexpected(not_found("groups", "rights group '" + group + "'"));
    changed.groups = *update.groups;
  }
  if (update.setting) {
    if (changed.protected_account && *update.setting == account_setting::disabled)
      return std::unexpected(security_error{security_errc::failed_precondition, "setting",
                                            "the Security Administrator cannot be disabled"});
    changed.setting = *update.setting;
  }
  if (update.expires_at) {
    if (changed.protected_account && update.expires_at->has_value())
      return std::unexpected(security_error{security_errc::failed_precondition, "expires_at",
                                            "the Security Administrator cannot expire"});
    changed.expires_at = *update.expires_at;
  }
  if (update.password) {
    if (auto checked = check_new_password(changed, *update.password); !checked) {
      auto error = checked.error();
      error.field = "password";
      return std::unexpected(error);
    }
    if (auto set = set_password(changed, *update.password, now); !set)
      return set;
    if (changed.setting == account_setting::enabled)
      changed.setting = account_setting::force_new_password;
  }
  changed.at_default = false;
  ++changed.credential_version;
  it->second = std::move(changed);
  bump();
  return {};
}

template <class Table, class Change>
security_result<void> security_database::change_entry(Table& table, std::string_view name,
                                                      const char* what, Change change) {
  auto it = table.find(std::string(name));
  if (it == table.end())
    return std::unexpected(not_found("name", what));
  if (auto changed = change(it); !changed)
    return changed;
  bump();
  return {};
}

security_result<void> security_database::delete_user(std::string_view name) {
  return change_entry(
      settings_.users, name, "service user", [this](auto it) -> security_result<void> {
        if (it->second.protected_account)
          return std::unexpected(security_error{security_errc::failed_precondition, "name",
                                                "the Security Administrator cannot be deleted"});
        settings_.users.erase(it);
        return {};
      });
}

security_result<void> security_database::unlock_user(std::string_view name) {
  return change_entry(settings_.users, name, "service user", [](auto it) -> security_result<void> {
    unlock(it->second.lock);
    return {};
  });
}

security_result<void> security_database::create_group(const rights_group& group) {
  if (group.name.empty() || group.name.size() > max_group_name_length)
    return std::unexpected(invalid("name", "must be 1 to 31 characters"));
  if (settings_.groups.contains(group.name))
    return std::unexpected(security_error{security_errc::already_exists, "name",
                                          "rights group " + group.name + " already exists"});
  auto stored = group;
  stored.at_default = false;
  settings_.groups.emplace(stored.name, std::move(stored));
  bump();
  return {};
}

security_result<void> security_database::update_group(std::string_view name,
                                                      const std::set<right>& rights) {
  return change_entry(settings_.groups, name, "rights group",
                      [this, &rights](auto it) -> security_result<void> {
                        it->second.rights = rights;
                        it->second.at_default = false;
                        for (auto& [_, user] : settings_.users)
                          if (user.groups.contains(it->first))
                            ++user.credential_version;
                        return {};
                      });
}

security_result<void> security_database::delete_group(std::string_view name) {
  return change_entry(
      settings_.groups, name, "rights group", [this](auto it) -> security_result<void> {
        std::string members;
        for (const auto& [user_name, user] : settings_.users)
          if (user.groups.contains(it->first))
            members += (members.empty() ? "" : ", ") + user_name;
        if (!members.empty())
          return std::unexpected(security_error{security_errc::failed_precondition, "name",
                                                "rights group is used by " + members});
        settings_.groups.erase(it);
        return {};
      });
}

security_result<void>
security_database::set_service_user_policy(const service_user_policy& policy) {
  if (policy.min_name_length < 1 || policy.min_name_length > max_name_length)
    return std::unexpected(invalid("service_user.min_name_length", "must be 1 to 31"));
  if (auto bad = check_password_rules(policy.password, "service_user"))
    return std::unexpected(*bad);
  if (policy.history_entries > 10)
    return std::unexpected(invalid("service_user.history_entries", "must be 0 to 10"));
  if (policy.password_change_period_days > 999)
    return std::unexpected(invalid("service_user.password_change_period_days", "must be 0 to 999"));
  if (policy.account_idle_days > 999)
    return std::unexpected(invalid("service_user.account_idle_days", "must be 0 to 999"));
  if (auto bad = check_lockout(policy.lockout, "service_user"))
    return std::unexpected(*bad);
  if (auto bad = check_lockout(policy.source_lockout, "service_user.source"))
    return std::unexpected(*bad);
  settings_.service_policy = policy;
  bump();
  return {};
}

security_result<void>
security_database::set_telephony_user_policy(const telephony_user_policy& policy) {
  if (auto bad = check_password_rules(policy.password, "telephony_user"))
    return std::unexpected(*bad);
  if (auto bad = check_lockout(policy.lockout, "telephony_user"))
    return std::unexpected(*bad);
  settings_.telephony_policy = policy;
  bump();
  return {};
}

security_result<void> security_database::set_code_rules(const pin_rules& login_code,
                                                        const pin_rules& voicemail_code) {
  if (login_code.min_length > login_code_max || login_code.max_length != login_code_max)
    return std::unexpected(invalid("login_code.min_length", "must be 0 to 31"));
  if (voicemail_code.min_length > voicemail_code_max ||
      voicemail_code.max_length != voicemail_code_max)
    return std::unexpected(invalid("voicemail_code.min_length", "must be 0 to 15"));
  settings_.login_code_rules = login_code;
  settings_.voicemail_code_rules = voicemail_code;
  bump();
  return {};
}

security_result<void> security_database::set_service_level(service_name service,
                                                           pki::service_security_level level) {
  settings_.service_levels[service] = level;
  bump();
  return {};
}

security_result<void>
security_database::set_unsecured_interfaces(const unsecured_interfaces& interfaces) {
  auto parsed = parse_ip_address(interfaces.file_writer_address);
  if (!parsed || parsed->family != ip_family::v4)
    return std::unexpected(invalid("file_writer_address",
                                   "must be an IPv4 address (0.0.0.0 = nobody may write files)"));
  // SPEC SVC-3: a switch may only say what is true. Ward serves none of these interfaces,
  // so turning one on would claim an opening that does not exist; they can only be off.
  const std::pair<bool, const char*> switches[] = {
      {interfaces.legacy_monitor, "legacy_monitor"},
      {interfaces.cti, "cti"},
      {interfaces.directory_read, "directory_read"},
      {interfaces.directory_write, "directory_write"},
      {*parsed != ip_address{}, "file_writer_address"}};
  for (auto [on, field] : switches)
    if (on)
      return std::unexpected(security_error{
          security_errc::failed_precondition, field,
          std::string(field) +
              ": Ward serves no such unsecured interface, so the switch stays off" +
              (std::string_view(field) == "file_writer_address" ? " (0.0.0.0)" : "")});
  settings_.interfaces = interfaces;
  bump();
  return {};
}

security_result<void>
security_database::set_certificate_settings(const certificate_settings& certificates) {
  settings_.certificates = certificates;
  bump();
  return {};
}

security_result<void> security_database::reset(time_point now, const random_source& random) {
  auto fresh = factory_defaults(cost_, now, random);
  if (!fresh)
    return std::unexpected(fresh.error());
  fresh->version = settings_.version + 1;
  // Sessions of the accounts before the reset must not match the fresh accounts.
  for (auto& [_, user] : fresh->users)
    user.credential_version = fresh->version;
  settings_ = std::move(*fresh);
  return {};
}

std::vector<std::string> security_database::ignition_pending() const {
  std::vector<std::string> pending;
  if (!settings_.ignition.administrator_password_changed)
    pending.emplace_back("the Administrator password");
  if (!settings_.ignition.security_administrator_password_changed)
    pending.emplace_back("the Security Administrator password");
  if (!settings_.ignition.system_password_changed)
    pending.emplace_back("the system password");
  return pending;
}

bool security_database::own_password_due(const session_principal& principal) const {
  if (principal.status == account_status::force_new_password)
    return true;
  auto it = settings_.users.find(principal.user);
  if (it == settings_.users.end())
    return false;
  return (it->second.name == administrator_name &&
          !settings_.ignition.administrator_password_changed) ||
         (it->second.protected_account &&
          !settings_.ignition.security_administrator_password_changed);
}

} // namespace ward::security
