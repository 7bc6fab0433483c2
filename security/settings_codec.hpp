#pragma once

#include "security/error.hpp"
#include "security/security_settings.hpp"

#include <nlohmann/json_fwd.hpp>

#include <expected>
#include <string>

namespace ward::security {

/// The whole settings as JSON for the encrypted store; hashes included.
std::string encode_settings(const security_settings& settings);
/// Parses what `encode_settings` wrote; a damaged document is an error, never a crash.
std::expected<security_settings, error> decode_settings(std::string_view text);

/// A service user for display and audit: no hashes, no history.
nlohmann::json redacted(const service_user& user, const security_settings& settings,
                        time_point now);
nlohmann::json to_json(const rights_group& group);
nlohmann::json to_json(const service_user_policy& policy);
nlohmann::json to_json(const telephony_user_policy& policy);
nlohmann::json to_json(const pin_rules& rules);
nlohmann::json to_json(const unsecured_interfaces& interfaces);
nlohmann::json to_json(const certificate_settings& settings);

} // namespace ward::security
