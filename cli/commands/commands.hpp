#pragma once

#include "cli/command.hpp"

/// The command groups of wardctl, one file each; each declares its commands on `app`.
namespace ward::cli {

/// `status` and `health`.
void add_status_commands(CLI::App& app, command_table& table);
/// `login`, `logout`, `passwd`, `system-password`, `user-login`.
void add_session_commands(CLI::App& app, command_table& table);
/// `service-user`, `rights`, `rights-group` and `policy`.
void add_account_commands(CLI::App& app, command_table& table);
/// `service-level`, `interfaces`, `security reset` and `audit`.
void add_security_commands(CLI::App& app, command_table& table);
/// `user` (telephony users) and `extension`.
void add_configuration_commands(CLI::App& app, command_table& table);
/// `cluster status` and `cluster events`.
void add_cluster_commands(CLI::App& app, command_table& table);
/// `blacklist`, `registrations` and `calls`.
void add_telephony_commands(CLI::App& app, command_table& table);
/// `sip show|set` and `media show|set`.
void add_sip_commands(CLI::App& app, command_table& table);
/// `short-code`, `ars`, `time-profile`, `barring`, `trunk`, `rights-template`, `dialing`
/// and `dial-plan show` (SPEC TF-1..TF-9).
void add_dial_plan_commands(CLI::App& app, command_table& table);
/// `pki ca|issue|issued|revoke|identity|tcs|checks|tls`.
void add_pki_commands(CLI::App& app, command_table& table);

} // namespace ward::cli
