#pragma once

#include "actors/cluster_messages.hpp"
#include "cluster/enrolment.hpp"
#include "line.pb.h"
#include "telephony/sip_guard.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

/// Frames the line actor builds and the ones it reads with checks beyond the protobuf
/// schema: pure, so what travels on a line is tested without actors or sockets.
namespace ward::cluster {

/// The longest address or extension a replicated guard event may name.
inline constexpr std::size_t max_guard_field = 64;
/// The longest SIP message another node may hand this node.
inline constexpr std::size_t max_sip_signal = 65536;
/// The most extensions one node may announce.
inline constexpr int max_announced_extensions = 100'000;

/// The replicated settings record (SPEC LINE-3) with the identities every node pins.
line::Frame settings_frame(const actors::settings_changed& snapshot, const pin_map& pins,
                           const std::string& cluster_ca_pem);

/// What this node's identity and trail look like, for the heartbeat's status.
struct heartbeat_facts {
  std::chrono::system_clock::time_point now;
  std::chrono::steady_clock::duration uptime{};
  /// This node's identity, PEM; empty or unreadable leaves the identity fields unset.
  std::string identity_pem;
  std::uint64_t audit_sequence = 0;
  std::uint64_t settings_version = 0;
};

line::Frame heartbeat_frame(const heartbeat_facts& facts);

/// A blacklisting this node's guard made, for other nodes (SPEC SIP-4).
line::Frame guard_event_frame(const telephony::guard_event& event, std::string_view origin_node);

/// The blacklisting another node sent, as this node's guard applies it; nullopt for a kind
/// that is not a blacklisting or its reset, or an address or extension longer than
/// max_guard_field. `from_node` names the line it came on, for the audit detail.
std::optional<telephony::guard_event> guard_event_of(const line::GuardEvent& remote,
                                                     std::string_view from_node);

/// An enrolment reply carrying only `error`.
line::Frame enrol_error_frame(const std::string& error);

} // namespace ward::cluster
