#pragma once

#include "core/enum_names.hpp"

#include <array>
#include <optional>
#include <string_view>

namespace ward {

/// What a node is in the cluster (SPEC TOP-1). The role decides which actors it runs.
enum class node_role {
  /// Security database master, certificate authority, syslog receiver, administration.
  primary,
  /// Resilience partner of the primary: database replica, full telephony node.
  secondary,
  /// Telephony node for a site; a line client of primary and secondary.
  expansion,
  /// Applications with referred authentication, no telephony.
  appserver,
};

inline constexpr std::array all_node_roles{node_role::primary, node_role::secondary,
                                           node_role::expansion, node_role::appserver};

inline constexpr auto node_role_names = name_table(
    enum_name{node_role::primary, "primary"}, enum_name{node_role::secondary, "secondary"},
    enum_name{node_role::expansion, "expansion"}, enum_name{node_role::appserver, "appserver"});

constexpr std::string_view to_string(node_role role) {
  return name_of(node_role_names, role);
}

constexpr std::optional<node_role> parse_node_role(std::string_view text) {
  return parse_name(node_role_names, text);
}

/// Primary and secondary serve lines; expansions and application servers connect to them
/// (SPEC TOP-5).
constexpr bool is_line_server(node_role role) {
  return role == node_role::primary || role == node_role::secondary;
}

} // namespace ward
