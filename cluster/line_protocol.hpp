#pragma once

#include "core/random.hpp"
#include "line.pb.h"
#include "pki/certificate_check.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ward::cluster {

/// A line's security setting (SPEC LINE-1). Every level is TLS; they differ in what each
/// end checks of the other's certificate. The line password is proven at every level.
enum class line_security {
  /// TLS; the line password proof authenticates both ends. Once enrolled, the dialling
  /// node still checks that the server is the node it dialled (chain to the cluster CA and
  /// the target's enrolled host name, cluster/line_identity), as at every level.
  low,
  /// TLS; the dialling node checks the server's certificate at check level Medium +
  /// Remote against the target's enrolled host name.
  medium,
  /// Mutual TLS with CA-signed identities; both ends check the other at check level High
  /// (chain to the cluster CA, key >= 2048 bits, not self-signed, pinned: the dialling
  /// node pins the identity enrolled for the node it dials, High + Remote).
  high,
};

std::string_view to_string(line_security level);
std::optional<line_security> parse_line_security(std::string_view text);
/// Whether the server demands a CA-signed client certificate before the line carries
/// anything but enrolment.
bool requires_client_certificate(line_security level);

/// Which end of a line computes a proof; the two ends' proofs differ so one can never be
/// replayed as the other.
enum class line_side { client, server };

/// The line password proof bound to one TLS connection (RFC 9266-style channel binding):
/// lowercase hex of HMAC-SHA256(password, "ward-line " side | 0 | exporter | 0 | node | 0 |
/// role). A relay between two TLS connections sees different exporters on each and cannot
/// reuse a proof.
std::string line_proof(std::string_view password, line_side side, std::string_view exporter_hex,
                       std::string_view node, std::string_view role);

/// Compares two proofs in constant time.
bool proofs_match(std::string_view expected, std::string_view received);

/// The wait before reconnect attempt `attempt` (0-based) of a dropped line (SPEC LINE-4):
/// exponential from `first` up to `ceiling`, with jitter drawn from `random` into the
/// upper half, so a cluster of nodes that lost their primary together do not return in
/// lock-step.
std::chrono::milliseconds
reconnect_delay(unsigned attempt, const random_source& random,
                std::chrono::milliseconds first = std::chrono::milliseconds(200),
                std::chrono::milliseconds ceiling = std::chrono::seconds(5));

/// What a node does with a replicated settings record (SPEC LINE-3).
enum class replication_decision {
  /// Newer than the one held: persist, then acknowledge.
  apply,
  /// The version already held: acknowledge without writing.
  already_held,
  /// Older than the one held: never applied, acknowledged with the version held.
  stale,
};

replication_decision decide_replication(std::uint64_t held, std::uint64_t incoming);

/// A node name as lines and the event store accept it: 1–63 of a-z, 0-9 and '-'.
bool valid_node_name(std::string_view name);

/// Which end of a line this node holds.
enum class line_direction {
  /// This node dialled the line: the far end serves it (the primary, a secondary).
  dialled,
  /// Another node dialled in and this node serves the line.
  answered,
};

/// What a line is admitted to carry.
enum class line_admission {
  /// Everything its direction allows.
  full,
  /// Heartbeats and enrolment only: the dialling node's certificate is not yet acceptable.
  enrolment_only,
};

/// Whether a line may carry a frame of `kind` towards this node. What flows from the
/// serving end (settings, enrolment replies, acknowledgements, proxied calls) is taken only
/// on a line this node dialled, what flows to it only on a line another node dialled in;
/// heartbeats, guard events and SIP traffic flow both ways. An enrolment-only line carries
/// heartbeats and enrolment, nothing else. An empty or unknown frame is never allowed.
bool frame_allowed(line::Frame::BodyCase kind, line_direction direction, line_admission admission);

} // namespace ward::cluster
