#pragma once

#include "pki/certificate_check.hpp"
#include "pki/tls_policy.hpp"
#include "security/credential_rules.hpp"
#include "security/lockout.hpp"
#include "security/rights.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ward::security {

/// The administrative services whose security level the security settings hold
/// (SPEC SVC-2).
enum class service_name : std::uint8_t {
  configuration,
  security_administration,
  system_status,
  web_services,
  http,
  telephony_apis,
  external,
};

inline constexpr std::array all_service_names{
    service_name::configuration, service_name::security_administration,
    service_name::system_status, service_name::web_services,
    service_name::http,          service_name::telephony_apis,
    service_name::external};

std::string_view to_string(service_name service);
std::optional<service_name> parse_service_name(std::string_view text);

/// What an administrator set on the account (SPEC SEC-5). Locks and expiry are states the
/// account falls into, derived in `account_status`.
enum class account_setting : std::uint8_t { enabled, disabled, force_new_password };

/// The status an account shows (SPEC SEC-5).
enum class account_status : std::uint8_t {
  enabled,
  disabled,
  /// Must change its password at next login before anything else.
  force_new_password,
  /// Locked by failures for the temporary lock duration.
  locked_temporary,
  /// Locked by failures until an administrator unlocks it.
  locked_password_error,
  /// Past its expiry date.
  expired,
};

std::string_view to_string(account_setting setting);
std::optional<account_setting> parse_account_setting(std::string_view text);
std::string_view to_string(account_status status);

/// An administrative account (SPEC SEC-2).
struct service_user {
  std::string name;
  std::string password_hash;
  /// Hashes of earlier passwords, newest first (SPEC POL-1 history).
  std::vector<std::string> password_history;
  account_setting setting = account_setting::enabled;
  std::set<std::string> groups;
  std::optional<time_point> expires_at;
  time_point password_changed_at{};
  std::optional<time_point> last_login_at;
  /// The Security Administrator: can be neither deleted nor disabled.
  bool protected_account = false;
  /// Still exactly as shipped (SPEC SEC-8).
  bool at_default = false;
  /// Bumped whenever a password, setting or membership changes: sessions issued before are
  /// no longer honoured.
  std::uint64_t credential_version = 1;
  lock_state lock;
};

struct service_user_policy {
  std::size_t min_name_length = 6;
  password_rules password{8, service_user_password_max, complexity::medium};
  std::uint32_t history_entries = 4;
  /// Forced periodic change; 0 = never.
  std::uint32_t password_change_period_days = 0;
  /// An account unused this long is disabled; 0 = never.
  std::uint32_t account_idle_days = 0;
  lockout_rule lockout{3, std::chrono::seconds(600), reject_action::log_and_temporary_disable,
                       std::chrono::seconds(60)};
  /// Failures from one source address, whatever account they name (SPEC POL-7): stops a
  /// guesser who spreads attempts over many accounts. Disable-account is not an action
  /// for an address; it is treated as a temporary block.
  lockout_rule source_lockout{10, std::chrono::seconds(600),
                              reject_action::log_and_temporary_disable, std::chrono::seconds(300)};
};

struct telephony_user_policy {
  bool enforce = true;
  password_rules password{8, 31, complexity::medium};
  lockout_rule lockout{5, std::chrono::seconds(600), reject_action::log_and_disable_account,
                       std::chrono::seconds(60)};
};

/// Switches for unsecured application interfaces (SPEC SVC-3), all off by default.
struct unsecured_interfaces {
  bool legacy_monitor = false;
  bool cti = false;
  bool directory_read = false;
  bool directory_write = false;
  /// The one address allowed to write files; 0.0.0.0 = nobody.
  std::string file_writer_address = "0.0.0.0";
  bool operator==(const unsecured_interfaces&) const = default;
};

/// The first-start passwords still at their defaults (SPEC SEC-6).
struct ignition_state {
  bool administrator_password_changed = false;
  bool security_administrator_password_changed = false;
  bool system_password_changed = false;
  bool complete() const {
    return administrator_password_changed && security_administrator_password_changed &&
           system_password_changed;
  }
};

/// How certificates and TLS are judged (SPEC PKI-6, PKI-8, TLS-1).
struct certificate_settings {
  /// Grade applied to certificates received on management interfaces (admin clients at
  /// Secure High, lines).
  pki::check_level management_checks = pki::check_level::medium;
  /// Grade applied to certificates of telephony endpoints (SIP over TLS).
  pki::check_level telephony_checks = pki::check_level::low;
  pki::tls_min_version minimum_tls = pki::tls_min_version::tls1_2;
  /// Send the intermediate chain with the identity in handshakes (SPEC PKI-6).
  bool offer_chain = false;
  /// Reissue the node identity when its hostname or addresses change (SPEC PKI-2).
  bool renew_identity_automatically = true;
  bool operator==(const certificate_settings&) const = default;
};

/// Everything in the security settings store (SPEC SEC-1), versioned as a whole.
struct security_settings {
  std::uint64_t version = 1;
  std::map<std::string, service_user> users;
  std::map<std::string, rights_group> groups;
  service_user_policy service_policy;
  telephony_user_policy telephony_policy;
  pin_rules login_code_rules{4, login_code_max, true};
  pin_rules voicemail_code_rules{4, voicemail_code_max, true};
  std::map<service_name, pki::service_security_level> service_levels;
  unsecured_interfaces interfaces;
  certificate_settings certificates;
  std::string system_password_hash;
  ignition_state ignition;
};

/// The Security Administrator's account name.
inline constexpr std::string_view security_administrator_name = "security";
inline constexpr std::string_view administrator_name = "Administrator";

/// Published first-start passwords (SPEC SEC-6): known to everyone, hence the gate.
inline constexpr std::string_view default_administrator_password = "Administrator";
inline constexpr std::string_view default_security_administrator_password = "securitypwd";
inline constexpr std::string_view default_system_password = "password";

/// One default service user (SPEC SEC-3).
struct default_service_user {
  std::string_view name;
  account_setting setting;
  std::vector<std::string_view> groups;
};

const std::vector<default_service_user>& default_service_users();

/// The default service levels (SPEC SVC-2).
std::map<service_name, pki::service_security_level> default_service_levels();

/// The status an account shows at `now` under `policy`.
account_status status_of(const service_user& user, const service_user_policy& policy,
                         time_point now);

/// The rights a user holds through its groups; the Security Administrator holds every
/// Security Administrator right whatever its groups say.
std::set<right> rights_of(const service_user& user, const security_settings& settings);

} // namespace ward::security
