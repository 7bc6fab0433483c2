#pragma once

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

constexpr std::string_view to_string(node_role role) {
  switch (role) {
    case node_role::primary:
      return "primary";
    case node_role::secondary:
      return "secondary";
    case node_role::expansion:
      return "expansion";
    case node_role::appserver:
      return "appserver";
  }
  return "unknown";
}

constexpr std::optional<node_role> parse_node_role(std::string_view text) {
  for (auto role : all_node_roles)
    if (to_string(role) == text)
      return role;
  return std::nullopt;
}

/// Primary and secondary serve lines; expansions and application servers connect to them
/// (SPEC TOP-5).
constexpr bool is_line_server(node_role role) {
  return role == node_role::primary || role == node_role::secondary;
}

} // namespace ward
