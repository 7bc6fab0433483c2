#pragma once

#include "core/random.hpp"
#include "security/password_hash.hpp"
#include "security/security_settings.hpp"

#include <expected>
#include <optional>
#include <set>
#include <string>

namespace ward::security {

/// Why a security settings operation was refused. Maps one-to-one onto gRPC codes.
enum class security_errc : std::uint8_t {
  /// A field's value is not acceptable; `field` names it.
  invalid_argument,
  not_found,
  already_exists,
  /// The operation is not allowed in the current state (protected account, first start).
  failed_precondition,
  unauthenticated,
  permission_denied,
  /// The encrypted store could not be written; nothing changed.
  storage_failure,
  /// The change must be made where the cluster's security settings are written (the
  /// primary), or the primary cannot be reached; nothing changed (SPEC LINE-3).
  unavailable,
};

struct security_error {
  security_errc code;
  /// The field a refusal is about (for the administrator; decides nothing).
  std::string field;
  std::string message;
  /// The operation was refused but counted a failed credential check (a wrong current
  /// password), which must be kept and persisted rather than rolled back with the rest.
  bool failure_counted = false;
};

/// Whether a refused operation nevertheless counted a failed credential check, which must
/// be kept and persisted rather than rolled back with the rest of the operation.
inline bool failure_counted(const security_error& error) {
  return error.failure_counted;
}

template <class T> using security_result = std::expected<T, security_error>;

struct new_service_user {
  std::string name;
  std::string password;
  std::set<std::string> groups;
  account_setting setting = account_setting::force_new_password;
  std::optional<time_point> expires_at;
};

/// Fields to change on a service user; unset fields stay as they are.
struct service_user_update {
  std::optional<std::set<std::string>> groups;
  std::optional<account_setting> setting;
  /// Set to a value to set an expiry, to nullopt inside to clear it.
  std::optional<std::optional<time_point>> expires_at;
  /// An administrator's reset of the password; the user must change it at next login.
  std::optional<std::string> password;
};

/// What a login needs before the (slow) password check, fetched in one step so that the
/// hashing runs outside the actor that owns the settings.
struct login_material {
  bool known_user = false;
  account_status status = account_status::disabled;
  std::string password_hash;
  std::uint64_t credential_version = 0;
};

enum class login_outcome : std::uint8_t {
  success,
  /// Password right; the account must change its password before anything else.
  must_change_password,
  bad_credentials,
  locked,
  disabled,
  expired,
};

std::string_view to_string(login_outcome outcome);

struct login_result {
  login_outcome outcome = login_outcome::bad_credentials;
  lockout_event lock_event = lockout_event::none;
  std::uint64_t credential_version = 0;
  /// Days until a periodic password change is due; nullopt when no period is set.
  std::optional<std::int64_t> password_expires_in_days;
};

/// Who a session belongs to, re-resolved on every call so that a disabled account or a
/// removed right takes effect at once.
struct session_principal {
  std::string user;
  std::set<right> rights;
  account_status status;
};

/// The security settings and every rule that changes them. Pure: no I/O, no threads; the
/// owner persists `settings()` after each successful change.
class security_database {
public:
  security_database(security_settings settings, argon2_cost cost);

  /// Fresh defaults (SPEC SEC-3, SEC-4, SVC-2, POL-4). Machine accounts get random
  /// passwords nobody knows; Administrator, Security Administrator and the system password
  /// get the published defaults that the first-start gate forces to be changed.
  static security_result<security_settings> factory_defaults(argon2_cost cost, time_point now,
                                                             const random_source& random);

  /// Brings default groups and accounts up to this release (SPEC SEC-8): what is missing is
  /// added; what is still at default follows the release; what was changed stays as it is.
  /// Returns whether anything changed.
  bool apply_release_defaults(time_point now, const random_source& random);

  const security_settings& settings() const { return settings_; }
  /// Replaces the settings with a replicated copy (SPEC LINE-3); the hashing cost and the
  /// hash unknown names are checked against stay, so this costs no Argon2id run.
  void replace_settings(security_settings settings) { settings_ = std::move(settings); }

  login_material login_material_for(std::string_view name, time_point now) const;
  /// Records the result of a password check made with `login_material_for`.
  login_result complete_login(std::string_view name, bool password_matched,
                              std::uint64_t seen_version, time_point now);
  /// The principal behind a session, or an error when the session is no longer valid.
  security_result<session_principal>
  principal(std::string_view name, std::uint64_t credential_version, time_point now) const;

  /// A wrong `old_password` counts as a failed login against the account; that count is
  /// part of the state even though the change is refused (see `failure_counted`).
  security_result<void> change_own_password(std::string_view name, std::string_view old_password,
                                            std::string_view new_password, time_point now);
  security_result<void> set_system_password(std::string_view new_password, time_point now);

  security_result<void> create_user(const new_service_user& user, time_point now);
  security_result<void> update_user(std::string_view name, const service_user_update& update,
                                    time_point now);
  security_result<void> delete_user(std::string_view name);
  security_result<void> unlock_user(std::string_view name);

  security_result<void> create_group(const rights_group& group);
  security_result<void> update_group(std::string_view name, const std::set<right>& rights);
  security_result<void> delete_group(std::string_view name);

  security_result<void> set_service_user_policy(const service_user_policy& policy);
  security_result<void> set_telephony_user_policy(const telephony_user_policy& policy);
  security_result<void> set_code_rules(const pin_rules& login_code,
                                       const pin_rules& voicemail_code);
  security_result<void> set_service_level(service_name service, pki::service_security_level level);
  security_result<void> set_unsecured_interfaces(const unsecured_interfaces& interfaces);
  security_result<void> set_certificate_settings(const certificate_settings& certificates);

  /// Security reset (SPEC SEC-7): everything back to factory defaults, version moving on.
  security_result<void> reset(time_point now, const random_source& random);

  /// What still blocks administrative work at first start (SPEC SEC-6); empty when done.
  std::vector<std::string> ignition_pending() const;
  /// Whether `principal` must change its own password before anything else: Force New
  /// Password (set by an administrator, or expired), or a first-start default (SPEC SEC-6).
  /// Such an account may always change it, with or without the own-password right.
  bool own_password_due(const session_principal& principal) const;

private:
  security_result<std::string> hash(std::string_view secret) const;
  security_result<void> check_new_password(const service_user& user,
                                           std::string_view password) const;
  /// Hashes `password` and makes it the user's as of `now`; the hash it replaces goes to the
  /// front of the history, which keeps service_policy.history_entries of them (at least one).
  security_result<void> set_password(service_user& user, std::string_view password, time_point now);
  void bump() { ++settings_.version; }
  /// Runs `change` on the entry of `table` (users or groups) called `name`, and bumps the
  /// version when it succeeds; not_found, naming `what`, when there is none.
  template <class Table, class Change>
  security_result<void> change_entry(Table& table, std::string_view name, const char* what,
                                     Change change);

  security_settings settings_;
  argon2_cost cost_;
  std::string dummy_hash_;
};

} // namespace ward::security
