#include "cli/commands/commands.hpp"

#include "cli/local_io.hpp"
#include "cli/parse.hpp"

namespace ward::cli {
namespace {

namespace pb = admin::v1;
using S = pb::Security::Stub;
constexpr auto security = target_service::security;

/// The settings a service user's account can be in.
constexpr std::string_view account_settings[] = {"enabled", "disabled", "force_new_password"};
constexpr std::string_view complexities[] = {"low", "medium", "high"};
constexpr std::string_view reject_actions[] = {"log_only", "log_and_temporary_disable",
                                               "log_and_disable_account"};

void add_service_user_create(CLI::App& group, command_table& table) {
  struct options {
    std::string name, setting, expires;
    std::vector<std::string> groups;
  };
  auto& o = table.hold<options>();
  auto* add =
      group.add_subcommand("add", "Create a service user. " + reads_secrets("its first password"));
  add->add_option("name", o.name)->required();
  add->add_option("--group,-g", o.groups, "Rights group (repeatable)");
  add->add_option("--setting", o.setting, choices(account_settings));
  add->add_option("--expires", o.expires, "Expiry date YYYY-MM-DD");
  table.unary(add, rpc{security, &S::CreateServiceUser}, [&o] {
    pb::CreateServiceUserRequest request;
    request.set_name(o.name);
    for (const auto& g : o.groups)
      request.add_groups(g);
    request.set_setting(o.setting);
    if (!o.expires.empty())
      request.set_expires_at_unix(parse_date(o.expires));
    request.set_password(read_new_secret("password for " + o.name));
    return request;
  });
}

void add_service_user_update(CLI::App& group, command_table& table) {
  struct options {
    std::string name, setting, expires;
    std::vector<std::string> groups;
    bool no_groups = false, no_expiry = false, reset_password = false;
  };
  auto& o = table.hold<options>();
  auto* set = group.add_subcommand("set", "Change a service user");
  set->add_option("name", o.name)->required();
  set->add_option("--setting", o.setting, choices(account_settings));
  set->add_option("--group,-g", o.groups, "Replace membership (repeatable)");
  set->add_flag("--no-groups", o.no_groups, "Remove every membership");
  set->add_option("--expires", o.expires, "Expiry date YYYY-MM-DD");
  set->add_flag("--no-expiry", o.no_expiry, "Clear the expiry");
  set->add_flag("--reset-password", o.reset_password,
                "Set a new password; the user must change it at next login. " +
                    reads_secrets("the new password"));
  table.unary(set, rpc{security, &S::UpdateServiceUser}, [&o] {
    pb::UpdateServiceUserRequest request;
    request.set_name(o.name);
    if (!o.setting.empty())
      request.set_setting(o.setting);
    if (!o.groups.empty() || o.no_groups) {
      request.set_set_groups(true);
      for (const auto& g : o.groups)
        request.add_groups(g);
    }
    if (!o.expires.empty())
      request.set_expires_at_unix(parse_date(o.expires));
    if (o.no_expiry)
      request.set_expires_at_unix(0);
    if (o.reset_password)
      request.set_password(read_new_secret("new password for " + o.name));
    return request;
  });
}

void add_service_user_commands(CLI::App& app, command_table& table) {
  auto* group = add_group(app, "service-user", "Administrative accounts");
  table.unary(group->add_subcommand("list", "List service users"),
              rpc{security, &S::ListServiceUsers, "/ward.admin.v1.Security/ListServiceUsers"});

  table.by_name(*group, {"show", "Show one service user", "name"},
                rpc{security, &S::GetServiceUser, "/ward.admin.v1.Security/GetServiceUser"});

  add_service_user_create(*group, table);
  add_service_user_update(*group, table);

  table.by_name(*group, {"delete", "Delete a service user", "name"},
                rpc{security, &S::DeleteServiceUser});
  table.by_name(*group, {"unlock", "Unlock a locked service user", "name"},
                rpc{security, &S::UnlockServiceUser});
}

void add_rights_group_commands(CLI::App& app, command_table& table) {
  table.unary(app.add_subcommand("rights", "List every right"), rpc{security, &S::ListRights});

  auto* group = add_group(app, "rights-group", "Rights groups");
  table.unary(group->add_subcommand("list", "List rights groups"),
              rpc{security, &S::ListRightsGroups});
  table.by_name(*group, {"show", "Show one rights group", "name"},
                rpc{security, &S::GetRightsGroup});
  for (bool creating : {true, false}) {
    struct options {
      std::string name;
      std::vector<std::string> rights;
    };
    auto& o = table.hold<options>();
    auto* command = group->add_subcommand(creating ? "add" : "set",
                                          creating ? "Create a rights group"
                                                   : "Replace a rights group's rights");
    command->add_option("name", o.name)->required();
    command->add_option("--right,-r", o.rights, "Right (repeatable; see wardctl rights)");
    table.unary(command, rpc{security, creating ? &S::CreateRightsGroup : &S::UpdateRightsGroup},
                [&o] {
                  pb::RightsGroup request;
                  request.set_name(o.name);
                  for (const auto& r : o.rights)
                    request.add_rights(r);
                  return request;
                });
  }
  table.by_name(*group, {"delete", "Delete a rights group nobody uses", "name"},
                rpc{security, &S::DeleteRightsGroup});
}

/// The options of one lockout rule in `policy set`; each one given changes one field.
struct lockout_options {
  std::optional<unsigned> limit;
  std::optional<std::int64_t> window;
  std::optional<std::string> action;
  std::optional<std::int64_t> lock_seconds;
};

/// The options of `policy set`; each one given changes one field of the policy.
struct policy_options {
  std::optional<unsigned> min_name, min_password, history, change_period, idle;
  std::optional<std::string> complexity;
  lockout_options lockout, source_lockout, tel_lockout;
  std::optional<std::string> tel_enforce, tel_complexity;
  std::optional<unsigned> tel_min_password;
  std::optional<unsigned> login_code_min, voicemail_code_min;
  std::optional<std::string> login_code_test, voicemail_code_test;
};

void declare_policy_options(CLI::App& set, policy_options& o) {
  auto on_off = choices(switch_values);
  set.add_option("--min-name-length", o.min_name);
  set.add_option("--min-password-length", o.min_password);
  set.add_option("--complexity", o.complexity, choices(complexities));
  set.add_option("--history", o.history, "Previous passwords that may not be reused");
  set.add_option("--change-period-days", o.change_period, "Forced change period; 0 = never");
  set.add_option("--idle-days", o.idle, "Disable accounts unused this long; 0 = never");
  set.add_option("--reject-limit", o.lockout.limit);
  set.add_option("--reject-window-seconds", o.lockout.window);
  set.add_option("--reject-action", o.lockout.action, choices(reject_actions));
  set.add_option("--lock-seconds", o.lockout.lock_seconds, "Temporary lock duration");
  set.add_option("--source-reject-limit", o.source_lockout.limit,
                 "Failed logins from one address that block it");
  set.add_option("--source-lock-seconds", o.source_lockout.lock_seconds,
                 "How long an address is blocked");
  set.add_option("--telephony-enforce", o.tel_enforce, on_off);
  set.add_option("--telephony-min-password-length", o.tel_min_password);
  set.add_option("--telephony-complexity", o.tel_complexity, choices(complexities));
  set.add_option("--telephony-reject-limit", o.tel_lockout.limit);
  set.add_option("--telephony-reject-window-seconds", o.tel_lockout.window);
  set.add_option("--telephony-reject-action", o.tel_lockout.action, choices(reject_actions));
  set.add_option("--login-code-min-length", o.login_code_min);
  set.add_option("--login-code-complexity-test", o.login_code_test, on_off);
  set.add_option("--voicemail-code-min-length", o.voicemail_code_min);
  set.add_option("--voicemail-code-complexity-test", o.voicemail_code_test, on_off);
}

/// Changes the fields of a lockout rule the options name; `rule()` is called only then,
/// so a rule no option names stays as absent as it was.
template <class Rule> void apply_lockout(const lockout_options& o, Rule rule) {
  if (o.limit)
    rule()->set_reject_limit(*o.limit);
  if (o.window)
    rule()->set_reject_window_seconds(*o.window);
  if (o.action)
    rule()->set_reject_action(*o.action);
  if (o.lock_seconds)
    rule()->set_temporary_lock_seconds(*o.lock_seconds);
}

/// Changes a code rule (login or voicemail code) as its two options say.
void apply_code_rules(const std::optional<unsigned>& min_length,
                      const std::optional<std::string>& test, const char* test_option,
                      pb::CodeRules* rules) {
  if (min_length)
    rules->set_min_length(*min_length);
  if (test)
    rules->set_complexity_test(parse_switch(*test, test_option));
}

void apply_policy_options(const policy_options& o, pb::Policy& policy) {
  using account_policy = pb::ServiceUserPolicy;
  const std::pair<const std::optional<unsigned>*, void (account_policy::*)(std::uint32_t)>
      numbers[] = {{&o.min_name, &account_policy::set_min_name_length},
                   {&o.min_password, &account_policy::set_min_password_length},
                   {&o.history, &account_policy::set_history_entries},
                   {&o.change_period, &account_policy::set_password_change_period_days},
                   {&o.idle, &account_policy::set_account_idle_days}};
  auto* su = policy.mutable_service_user();
  for (auto [value, set] : numbers)
    if (*value)
      (su->*set)(**value);
  if (o.complexity)
    su->set_complexity(*o.complexity);
  apply_lockout(o.lockout, [su] { return su->mutable_lockout(); });
  apply_lockout(o.source_lockout, [su] { return su->mutable_source_lockout(); });
  auto* tu = policy.mutable_telephony_user();
  if (o.tel_enforce)
    tu->set_enforce(parse_switch(*o.tel_enforce, "--telephony-enforce"));
  if (o.tel_min_password)
    tu->set_min_password_length(*o.tel_min_password);
  if (o.tel_complexity)
    tu->set_complexity(*o.tel_complexity);
  apply_lockout(o.tel_lockout, [tu] { return tu->mutable_lockout(); });
  if (o.login_code_min || o.login_code_test)
    apply_code_rules(o.login_code_min, o.login_code_test, "--login-code-complexity-test",
                     policy.mutable_login_code());
  if (o.voicemail_code_min || o.voicemail_code_test)
    apply_code_rules(o.voicemail_code_min, o.voicemail_code_test,
                     "--voicemail-code-complexity-test", policy.mutable_voicemail_code());
}

void add_policy_commands(CLI::App& app, command_table& table) {
  auto* policy = add_group(app, "policy", "Password, PIN and lockout policy");
  table.unary(policy->add_subcommand("show", "Show the policy"), rpc{security, &S::GetPolicy});
  auto& o = table.hold<policy_options>();
  auto* set = policy->add_subcommand("set", "Change parts of the policy");
  declare_policy_options(*set, o);
  table.update(set, rpc{security, &S::GetPolicy}, rpc{security, &S::SetPolicy},
               [&o] { return [&o](pb::Policy& current) { apply_policy_options(o, current); }; });
}

} // namespace

void add_account_commands(CLI::App& app, command_table& table) {
  add_service_user_commands(app, table);
  add_rights_group_commands(app, table);
  add_policy_commands(app, table);
}

} // namespace ward::cli
