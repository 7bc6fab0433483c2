#include "security/rights.hpp"

#include "core/enum_names.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace ward::security {
namespace {

using enum right;
constexpr auto svc = right_category::service;
constexpr auto op = right_category::operator_profile;

constexpr std::array rights_table{
    right_info{config_read_all, rights_set::configuration, svc, "config_read_all"},
    right_info{config_write_all, rights_set::configuration, svc, "config_write_all"},
    right_info{config_merge, rights_set::configuration, svc, "config_merge"},
    right_info{config_default, rights_set::configuration, svc, "config_default"},
    right_info{config_reboot, rights_set::configuration, svc, "config_reboot"},
    right_info{operator_administrator, rights_set::configuration, op, "operator_administrator"},
    right_info{operator_manager, rights_set::configuration, op, "operator_manager"},
    right_info{operator_operator, rights_set::configuration, op, "operator_operator"},
    right_info{security_read_all, rights_set::security_administrator, svc, "security_read_all"},
    right_info{security_write_all, rights_set::security_administrator, svc, "security_write_all"},
    right_info{security_reset_all, rights_set::security_administrator, svc, "security_reset_all"},
    right_info{security_write_own_password, rights_set::security_administrator, svc,
               "security_write_own_password"},
    right_info{status_access, rights_set::system_status, svc, "status_access"},
    right_info{status_read_all_configuration, rights_set::system_status, svc,
               "status_read_all_configuration"},
    right_info{status_system_control, rights_set::system_status, svc, "status_system_control"},
    right_info{cti_enhanced_access, rights_set::telephony_apis, svc, "cti_enhanced_access"},
    right_info{cti_event_stream, rights_set::telephony_apis, svc, "cti_event_stream"},
    right_info{directory_read, rights_set::http, svc, "directory_read"},
    right_info{directory_write, rights_set::http, svc, "directory_write"},
    right_info{dect_provisioning, rights_set::http, svc, "dect_provisioning"},
    right_info{web_security_read_all, rights_set::web_services, svc, "web_security_read_all"},
    right_info{web_security_write_all, rights_set::web_services, svc, "web_security_write_all"},
    right_info{web_security_write_own_password, rights_set::web_services, svc,
               "web_security_write_own_password"},
    right_info{web_configuration_read_all, rights_set::web_services, svc,
               "web_configuration_read_all"},
    right_info{web_configuration_write_all, rights_set::web_services, svc,
               "web_configuration_write_all"},
    right_info{web_backup, rights_set::web_services, svc, "web_backup"},
    right_info{web_restore, rights_set::web_services, svc, "web_restore"},
    right_info{web_upgrade, rights_set::web_services, svc, "web_upgrade"},
    right_info{web_service_monitor_read, rights_set::web_services, svc, "web_service_monitor_read"},
    right_info{management_api_read, rights_set::web_services, svc, "management_api_read"},
    right_info{management_api_write, rights_set::web_services, svc, "management_api_write"},
    right_info{web_manager_access, rights_set::web_manager, svc, "web_manager_access"},
    right_info{web_manager_service_change, rights_set::web_manager, svc,
               "web_manager_service_change"},
    right_info{call_recording_admin, rights_set::external, svc, "call_recording_admin"},
    right_info{reporter_admin, rights_set::external, svc, "reporter_admin"},
    right_info{voicemail_admin, rights_set::external, svc, "voicemail_admin"},
    right_info{voicemail_standard, rights_set::external, svc, "voicemail_standard"},
    right_info{voicemail_basic, rights_set::external, svc, "voicemail_basic"},
    right_info{portal_admin, rights_set::external, svc, "portal_admin"},
    right_info{portal_super_user, rights_set::external, svc, "portal_super_user"},
    right_info{web_control_admin, rights_set::external, svc, "web_control_admin"},
    right_info{web_control_security, rights_set::external, svc, "web_control_security"},
    right_info{webrtc_gateway_admin, rights_set::external, svc, "webrtc_gateway_admin"},
    right_info{auth_module_admin, rights_set::external, svc, "auth_module_admin"},
    right_info{adjunct_server, rights_set::external, svc, "adjunct_server"},
    right_info{turn_server_connection, rights_set::external, svc, "turn_server_connection"},
};

static_assert(std::size(rights_table) == static_cast<std::size_t>(turn_server_connection) + 1,
              "every right has exactly one row, in declaration order");

constexpr auto set_names = name_table(
    enum_name{rights_set::configuration, "configuration"},
    enum_name{rights_set::security_administrator, "security_administrator"},
    enum_name{rights_set::system_status, "system_status"},
    enum_name{rights_set::telephony_apis, "telephony_apis"}, enum_name{rights_set::http, "http"},
    enum_name{rights_set::web_services, "web_services"},
    enum_name{rights_set::web_manager, "web_manager"}, enum_name{rights_set::external, "external"});

std::set<right> all_except(rights_set set, right excluded) {
  auto rights = all_service_rights(set);
  rights.erase(excluded);
  return rights;
}

std::set<right> join(std::initializer_list<std::set<right>> parts) {
  std::set<right> out;
  for (const auto& part : parts)
    out.insert(part.begin(), part.end());
  return out;
}

rights_group group(std::string name, std::set<right> rights) {
  return rights_group{std::move(name), std::move(rights), true};
}

} // namespace

std::span<const right_info> all_rights() {
  return rights_table;
}

const right_info& info(right id) {
  return rights_table.at(static_cast<std::size_t>(id));
}

std::string_view to_string(right id) {
  return info(id).name;
}

std::optional<right> parse_right(std::string_view name) {
  for (const auto& row : rights_table)
    if (row.name == name)
      return row.id;
  return std::nullopt;
}

std::string_view to_string(rights_set set) {
  return set_names.at(static_cast<std::size_t>(set)).name;
}

std::optional<rights_set> parse_rights_set(std::string_view name) {
  return parse_name(set_names, name);
}

std::set<right> all_service_rights(rights_set set) {
  std::set<right> rights;
  for (const auto& row : rights_table)
    if (row.set == set && row.category == right_category::service)
      rights.insert(row.id);
  return rights;
}

const std::vector<rights_group>& default_rights_groups() {
  using rs = rights_set;
  static const std::vector<rights_group> groups = {
      group("Administrator Group", join({all_service_rights(rs::configuration),
                                         {operator_administrator},
                                         {call_recording_admin, reporter_admin}})),
      group("System Status Group", all_service_rights(rs::system_status)),
      group("CTI Group", {cti_enhanced_access, cti_event_stream, directory_read, directory_write}),
      group("DECT Group", {dect_provisioning, directory_read}),
      group("Central Manager Admin",
            join({all_except(rs::web_services, web_service_monitor_read),
                  all_except(rs::web_manager, web_manager_service_change)})),
      group("Business Partner", join({all_service_rights(rs::configuration),
                                      all_service_rights(rs::security_administrator),
                                      all_service_rights(rs::system_status),
                                      all_except(rs::web_services, web_service_monitor_read),
                                      all_except(rs::web_manager, web_manager_service_change),
                                      {voicemail_admin, portal_admin, web_control_admin,
                                       webrtc_gateway_admin, auth_module_admin}})),
      group("Maintainer",
            join({{config_read_all},
                  all_service_rights(rs::system_status),
                  {web_configuration_read_all, web_backup, web_restore, web_upgrade},
                  {voicemail_basic, portal_super_user, web_control_admin, web_control_security}})),
      group("Directory Group", {directory_read, directory_write}),
      group("Cloud Operations Admin",
            {web_security_write_own_password, web_backup, web_restore, web_upgrade}),
      group("Operations Manager Admin",
            {security_write_own_password, web_backup, web_restore, web_upgrade}),
      group("Adjunct Server", {adjunct_server}),
      group("TURN Server", {turn_server_connection}),
      // Additional groups of non-subscription systems; no default service user uses them.
      group("Manager Group", join({all_service_rights(rs::configuration), {operator_manager}})),
      group("Operator Group", join({all_service_rights(rs::configuration), {operator_operator}})),
      group("Security Admin", all_service_rights(rs::security_administrator)),
      group("Backup Admin", {web_backup, web_restore, portal_super_user}),
      group("Upgrade Admin", {web_upgrade}),
      group("System Admin", join({{config_read_all, config_write_all, config_merge},
                                  {web_security_write_own_password, web_configuration_read_all,
                                   web_configuration_write_all},
                                  all_except(rs::web_manager, web_manager_service_change),
                                  {voicemail_standard, portal_admin, webrtc_gateway_admin}})),
      group("Maint Admin", {web_backup, web_restore, web_upgrade}),
      group("Customer Admin",
            join({{web_security_write_own_password, web_configuration_read_all,
                   web_configuration_write_all, web_backup, web_restore, web_upgrade},
                  all_except(rs::web_manager, web_manager_service_change),
                  {voicemail_standard, portal_super_user}})),
      group("Management API Group", {management_api_read, management_api_write}),
  };
  return groups;
}

} // namespace ward::security
