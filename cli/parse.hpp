#pragma once

#include "admin.pb.h"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

/// Reading wardctl's arguments: pure functions that throw usage_error on text they cannot
/// read, before anything is sent to a node.
namespace ward::cli {

/// The spellings an on/off switch takes; `on | off` is what the help shows.
inline constexpr std::string_view switch_values[] = {"on", "off"};

/// The services `service-level set` names (the node's spelling).
inline constexpr std::string_view service_names[] = {
    "configuration", "security_administration", "system_status", "web_services",
    "http",          "telephony_apis",          "external"};

/// The service security levels `service-level set` takes, lowest first.
inline constexpr std::string_view service_level_names[] = {
    "disabled",   "unsecure_only", "unsecure_and_secure",
    "secure_low", "secure_medium", "secure_high"};

/// The media security levels (SPEC MED-2); an override also takes `system`.
inline constexpr std::string_view media_level_names[] = {"disabled", "best_effort", "enforce"};

/// The keys of `wardctl sip set`, in the order `sip show` prints them.
inline constexpr const char* sip_setting_keys =
    "auto_create, strict_sips, user_agent_allow, user_agent_block, remote_workers, "
    "rtp_port_min, rtp_port_max, direct_media, emergency_numbers, emergency_extension";

/// The accepted values as the help shows them: `a | b | c`.
std::string choices(std::span<const std::string_view> values);

/// Seconds since the epoch of midnight UTC of a `YYYY-MM-DD` date.
std::int64_t parse_date(const std::string& text);

/// An on/off switch (`on`/`true`/`yes` or `off`/`false`/`no`) given to `option`.
bool parse_switch(const std::string& text, const std::string& option);

/// A media security level for `what`; `system` only where an override can be cleared.
std::string media_level_of(const std::string& text, const std::string& what, bool system_allowed);

/// `node` when it is a node name: 1 to 63 of a-z 0-9 -.
const std::string& checked_node_name(const std::string& node);

/// `number` when it is an extension number: digits only.
const std::string& checked_extension_number(const std::string& number);

/// `key=value` assignments of `wardctl sip set` as a request that names only those
/// settings.
admin::v1::SipSettings sip_settings_of(const std::vector<std::string>& assignments);

} // namespace ward::cli
