#pragma once

#include "cluster/enrolment.hpp"
#include "cluster/event_store.hpp"
#include "cluster/line_protocol.hpp"
#include "cluster/line_transport.hpp"
#include "core/clock.hpp"
#include "core/node_role.hpp"
#include "core/random.hpp"
#include "pki/tls_policy.hpp"
#include "security/audit_log.hpp"
#include "storage/kv_store.hpp"
#include "telephony/sip_guard.hpp"

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ward::cluster {

/// One other node as this node sees it over a line (SPEC MON-5, TOP-2).
struct member_view {
  std::string name;
  std::string role;
  bool line_up = false;
  /// The line only admits enrolment: the node's certificate is not yet acceptable.
  bool enrolment_only = false;
  /// This node dialled the line (else the other node did).
  bool dialled = false;
  std::string line_security;
  std::string peer_subject;
  std::int64_t peer_days_left = 0;
  std::string peer_issuer;
  /// The replicated settings version the node acknowledged holding.
  std::uint64_t settings_version = 0;
  /// The time from the writer's commit to the node's acknowledgement of the newest
  /// version it acknowledged; negative when not measured.
  double replication_ms = -1;
  std::uint64_t audit_sequence = 0;
  /// The highest of the node's audit records the primary holds without gaps.
  std::uint64_t events_stored = 0;
  std::int64_t since_unix = 0;
  std::int64_t last_heartbeat_ms_ago = -1;
  std::string last_error;
};

struct cluster_snapshot {
  std::string node;
  std::string role;
  std::uint64_t settings_version = 0;
  std::vector<member_view> members;
};

/// The line actor's published view, read by the admin API from other threads.
class cluster_view {
public:
  void publish(cluster_snapshot snapshot);
  cluster_snapshot read() const;

private:
  mutable std::mutex mutex_;
  cluster_snapshot snapshot_;
};

/// A node-scoped administrative call proxied from the primary (SPEC TOP-2).
struct proxy_invocation {
  std::string user;
  std::string source;
  std::string method;
  std::string payload;
  bool tls = false;
  bool client_certificate = false;
};

/// Its outcome: a gRPC status code, message and serialized reply.
struct proxy_outcome {
  int code = 0;
  std::string message;
  std::string payload;
};

/// What the node's line actor needs.
struct line_actor_options {
  std::string node;
  node_role role = node_role::primary;
  std::string line_password;
  line_security security = line_security::high;
  /// This node writes the replicated settings (the primary).
  bool writer = true;
  std::string software_version;
  caf::actor security_actor;
  /// The primary's fraud counters (SPEC TF-10) take other nodes' outside calls; may be null.
  caf::actor fraud_actor;
  std::shared_ptr<security::audit_log> audit;
  /// SPEC TF-8: the node's call records, forwarded to the primary like the audit trail;
  /// null = none.
  std::shared_ptr<security::audit_log> call_records;
  /// Holds the forwarding cursor and the pinned identities of enrolled nodes.
  std::shared_ptr<storage::kv_store> store;
  /// The primary's store of forwarded events; null elsewhere.
  std::shared_ptr<event_store> events;
  std::shared_ptr<cluster_view> view;
  const clock* time = nullptr;
  random_source random;
  /// Receives every event the primary stores or writes itself, for syslog (SPEC MON-2);
  /// may be empty.
  std::function<void(const std::string& node, const security::audit_record&)> event_sink;
  /// Runs a call the primary proxied to this node against the node's own admin API, as the
  /// user the primary authenticated. Called on a thread of its own: it may block.
  std::function<proxy_outcome(const proxy_invocation&)> proxy_executor;
  /// Applies a blacklisting another node made to this node's SIP guard (SPEC SIP-4).
  std::function<void(const telephony::guard_event&)> apply_guard_event;
  /// Hands a SIP message another node sent this node to its SIP service (SPEC SIP-6).
  std::function<void(const std::string& from_node, std::string text)> deliver_sip;
  /// Replaces what is registered on `node` in this node's location table (SPEC SIP-6).
  std::function<void(const std::string& node, std::vector<std::string> extensions)> apply_locations;
};

/// A SIP message for another node's SIP service (SPEC SIP-6).
struct sip_signal_out {
  std::string to_node;
  std::string text;
};

/// The extensions registered on this node, for every other node (SPEC SIP-6).
struct locations_out {
  std::vector<std::string> extensions;
};

/// A blacklisting this node's guard made, for every other node (SPEC SIP-4).
struct guard_broadcast {
  telephony::guard_event event;
};

/// Primary: proxies a call to `node` over its line. Reply: proxy_outcome.
struct proxy_request {
  std::string node;
  proxy_invocation call;
};

/// Spawns the node's line actor: the membership view, replication (SPEC LINE-3),
/// enrolment (PKI-5), cluster-wide lockout (POL-7), referred logins (SEC-10) and event
/// forwarding (MON-2). Each line's stream has an actor of its own that it spawns
/// (line_stream.hpp).
caf::actor spawn_line_actor(caf::actor_system& system, line_actor_options options);

// Messages between the line transport and the actors.

struct inbound_frame {
  line::Frame frame;
};
struct line_closed {
  std::string reason;
};
struct line_accept {
  line::Frame hello;
  line_connection_facts facts;
  std::shared_ptr<frame_writer> writer;
};
struct line_accept_reply {
  bool accepted = false;
  std::string refusal;
  caf::actor line;
};
/// What a dialler needs for its next attempt.
struct dial_material_request {
  std::string target;
};
struct dial_material {
  std::string node;
  std::string role;
  std::string password;
  line_security security = line_security::high;
  std::string key_pem;
  std::string certificate_pem;
  /// Sent after the identity when "offer ID certificate chain" is on (SPEC PKI-6).
  std::string chain_pem;
  pki::tls_min_version minimum_tls = pki::tls_min_version::tls1_2;
  /// Anchors for the server's identity (SPEC LINE-1); the pins are kept apart, so that
  /// only the target's own pin can vouch for it.
  std::vector<std::string> anchors_pem;
  pin_map pins;
  std::vector<std::string> revoked_serials;
  /// The node holds a CA-issued identity; until then lines are used for enrolment only,
  /// and the server's certificate cannot be checked yet (the password proof authenticates
  /// it).
  bool enrolled = false;
  std::uint64_t settings_version = 0;
  /// False until the node's certificate state has reached the line actor at start.
  bool ready = true;
};
struct line_dialed {
  line_target target;
  line::Frame welcome;
  std::shared_ptr<frame_writer> writer;
  std::string peer_subject;
  std::string peer_issuer;
  std::int64_t peer_days_left = 0;
  /// The server's leaf certificate, PEM.
  std::string peer_pem;
};
/// A dial attempt failed in a way an administrator must hear of.
struct dial_failed {
  line_target target;
  std::string cause;
};

} // namespace ward::cluster

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::cluster::inbound_frame)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::cluster::line_closed)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::cluster::line_accept)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::cluster::line_accept_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::cluster::dial_material_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::cluster::dial_material)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::cluster::line_dialed)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::cluster::dial_failed)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::cluster::proxy_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::cluster::guard_broadcast)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::cluster::sip_signal_out)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::cluster::locations_out)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::cluster::proxy_outcome)
