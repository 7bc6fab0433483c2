#pragma once

// The line actor's state and the helpers its parts share: line_actor.cpp (lines opening and
// closing, messages from the node) and line_actor_frames.cpp (one handler per frame kind).
// Internal to cluster/; everything else uses line_actor.hpp.

#include "actors/cluster_messages.hpp"
#include "cluster/enrolment.hpp"
#include "cluster/line_actor.hpp"
#include "cluster/line_stream.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <spdlog/logger.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace ward::cluster {

/// A proxied call finished on the executor's thread.
struct proxy_done {
  std::uint64_t line_id = 0;
  std::uint64_t id = 0;
  proxy_outcome outcome;
};

} // namespace ward::cluster

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::cluster::proxy_done)

namespace ward::cluster::detail {

/// Another node as the line actor holds it.
struct member {
  member_view view;
  /// The far end's address ("ip:port") and leaf certificate as its line presented them.
  std::string peer_address;
  std::string peer_pem;
  std::uint64_t line_id = 0;
  /// The line's stream actor.
  caf::actor line;
  std::chrono::steady_clock::time_point last_heartbeat{};
  /// Writer: the node was just issued an identity and re-dials with it, so its line going
  /// down before then is no outage.
  std::optional<std::chrono::steady_clock::time_point> redial_expected_until;
};

struct line_actor_state {
  line_actor_options options;
  actors::pki_facts facts;
  actors::settings_changed snapshot;
  /// Other nodes by name; a node keeps its entry (line down) once seen.
  std::map<std::string, member> members;
  std::map<std::uint64_t, std::string> line_nodes;
  std::uint64_t next_line_id = 1;
  /// When the writer committed each recent version, for replication latency.
  std::map<std::uint64_t, std::chrono::steady_clock::time_point> version_times;
  // Dialling side: the line to the primary carries events, enrolment and referrals.
  std::uint64_t primary_line = 0;
  std::uint64_t forwarded_up_to = 0;
  std::optional<std::chrono::steady_clock::time_point> forward_in_flight;
  /// The same for the call records (SPEC TF-8).
  std::uint64_t calls_forwarded_up_to = 0;
  std::optional<std::chrono::steady_clock::time_point> calls_forward_in_flight;
  bool enrolling = false;
  std::uint64_t next_referral = 1;
  std::map<std::uint64_t, caf::typed_response_promise<actors::referral_result>> referrals;
  /// Calls proxied to other nodes, awaiting their result: by id, with the line they took.
  struct pending_proxy {
    std::uint64_t line_id = 0;
    caf::typed_response_promise<proxy_outcome> promise;
    std::chrono::steady_clock::time_point sent;
  };
  std::uint64_t next_proxy = 1;
  std::map<std::uint64_t, pending_proxy> proxies;
  /// Targets whose last dial failure was alarmed, so a line that keeps failing the same
  /// way raises one alarm, not one per attempt.
  std::map<std::string, std::string> alarmed_dial_failures;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::uint64_t ticks = 0;
  std::map<std::string, std::size_t> line_alarms;
  std::chrono::steady_clock::time_point alarm_minute{};
  /// The primary's own records handed to syslog (persisted as "syslog/own").
  std::uint64_t syslog_up_to = 0;
  static inline const char* name = "ward.line";
};

using line_actor_pointer = caf::stateful_actor<line_actor_state>*;

/// The "cluster" logger.
std::shared_ptr<spdlog::logger> line_log();

/// Raises an alarm through the security actor, which writes it to the audit trail.
void alarm(line_actor_pointer self, std::string action, std::string object, std::string reason,
           std::string source = {});
/// Publishes the membership view for the admin API and /metrics.
void publish(line_actor_pointer self);
/// Sends `frame` on the member's line while it is up.
void send_frame(line_actor_pointer self, const member& entry, line::Frame frame);

/// Whether a member's line is up and carries more than enrolment.
inline bool usable(const member& entry) {
  return entry.view.line_up && !entry.view.enrolment_only;
}

/// Sends `frame` on every usable line `wanted(name, member)` picks.
template <class Predicate>
void send_to_members(line_actor_pointer self, const line::Frame& frame, Predicate wanted) {
  for (auto& [name, entry] : self->state.members)
    if (usable(entry) && wanted(name, entry))
      send_frame(self, entry, frame);
}

/// The identities every node pins for line security High, by node name: on the primary
/// those it issued (and its own), elsewhere the list the primary last sent.
pin_map pinned_identities(line_actor_pointer self);
/// The settings record this node holds, with the pins, as a frame.
line::Frame current_settings_frame(line_actor_pointer self);
/// The cluster CA's signing certificate as this node knows it: its own on the writer, the
/// last one the settings carried elsewhere.
std::string cluster_ca_pem(line_actor_pointer self);
/// Writer: once every enrolled node holds an identity of the current CA (or was revoked),
/// asks the security actor to stop trusting the replaced CAs (SPEC PKI-4).
void retire_replaced_cas_when_reissued(line_actor_pointer self);
member* member_of_line(line_actor_pointer self, std::uint64_t line_id);
/// The line to the primary when it is up and carries more than enrolment.
member* usable_primary(line_actor_pointer self);

/// Sends the next batch of this node's audit records to the primary, unless one is in
/// flight (SPEC MON-2).
void forward_events(line_actor_pointer self);
/// Asks the primary's CA for an identity when this node has none or it is due for renewal
/// (SPEC PKI-5).
void maybe_enrol(line_actor_pointer self);

/// Hands a frame line `line_id` carried to the handler of its kind, if the line may carry
/// it.
void on_frame(line_actor_pointer self, std::uint64_t line_id, const line::Frame& frame);

} // namespace ward::cluster::detail
