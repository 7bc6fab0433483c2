#pragma once

#include "node/config.hpp"

#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The configuration key table, shared by the parser (config.cpp) and its own file
// (config_settings.cpp); not part of the node's interface.
namespace ward::node::config_detail {

/// Why a value was refused, or nothing when it was taken.
using reason = std::optional<std::string>;
using apply_fn = std::function<reason(std::string_view value, node_config&)>;

/// One key: its documentation and how its value is checked and applied.
struct setting {
  setting_doc doc;
  apply_fn apply;
};

/// Every key, in the order values are applied (node.role before what depends on it).
const std::vector<setting>& settings();

std::expected<std::uint16_t, std::string> parse_port(std::string_view value, bool allow_zero);
reason check_node_name(std::string_view value);
reason check_hostname(std::string_view value);
reason check_syslog_transport(std::string_view value);

} // namespace ward::node::config_detail
