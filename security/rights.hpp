#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ward::security {

/// The rights sets of a rights group (SPEC SEC-4): each administrative interface family
/// has its own set.
enum class rights_set : std::uint8_t {
  configuration,
  security_administrator,
  system_status,
  telephony_apis,
  http,
  web_services,
  web_manager,
  external,
};

/// Within a set, service rights are what "All" grants; operator rights (configuration
/// only) pick the administrator/manager/operator profile and are granted by name.
enum class right_category : std::uint8_t { service, operator_profile };

/// One right an administrative call can require. Names follow the guide's rights tables
/// with Ward's own names for the integrations they stand for.
enum class right : std::uint8_t {
  // Configuration
  config_read_all,
  config_write_all,
  config_merge,
  config_default,
  config_reboot,
  operator_administrator,
  operator_manager,
  operator_operator,
  // Security Administrator
  security_read_all,
  security_write_all,
  security_reset_all,
  security_write_own_password,
  // System Status
  status_access,
  status_read_all_configuration,
  status_system_control,
  // Telephony APIs
  cti_enhanced_access,
  cti_event_stream,
  // HTTP
  directory_read,
  directory_write,
  dect_provisioning,
  // Web Services
  web_security_read_all,
  web_security_write_all,
  web_security_write_own_password,
  web_configuration_read_all,
  web_configuration_write_all,
  web_backup,
  web_restore,
  web_upgrade,
  web_service_monitor_read,
  management_api_read,
  management_api_write,
  // Web Manager
  web_manager_access,
  web_manager_service_change,
  // External
  call_recording_admin,
  reporter_admin,
  voicemail_admin,
  voicemail_standard,
  voicemail_basic,
  portal_admin,
  portal_super_user,
  web_control_admin,
  web_control_security,
  webrtc_gateway_admin,
  auth_module_admin,
  adjunct_server,
  turn_server_connection,
};

struct right_info {
  right id;
  rights_set set;
  right_category category;
  std::string_view name;
};

/// Every right, in declaration order.
std::span<const right_info> all_rights();
const right_info& info(right id);
std::string_view to_string(right id);
std::optional<right> parse_right(std::string_view name);
std::string_view to_string(rights_set set);
std::optional<rights_set> parse_rights_set(std::string_view name);

/// The service rights of a set: what "All" means in the guide's tables.
std::set<right> all_service_rights(rights_set set);

/// A named set of rights (SPEC SEC-4).
struct rights_group {
  std::string name;
  std::set<right> rights;
  /// Still exactly as shipped; only such groups receive rights added by a later release
  /// (SPEC SEC-8).
  bool at_default = false;
  bool operator==(const rights_group&) const = default;
};

/// The default rights groups and their rights (guide p.28–30), non-subscription groups
/// included.
const std::vector<rights_group>& default_rights_groups();

} // namespace ward::security
