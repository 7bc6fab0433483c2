#pragma once

#include "pki/tls_policy.hpp"
#include "telephony/fraud_meter.hpp"

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

/// Messages between the security database actor and the line actor (SPEC
/// LINE-2, LINE-3, PKI-5, PKI-12, POL-7, SEC-10, MON-2).
namespace ward::actors {

/// Tells the security actor where the node's line actor is; sent once at start.
struct cluster_link {
  caf::actor line_actor;
};

/// The writer's replicated settings after a persisted change, or at start.
struct settings_changed {
  std::uint64_t version = 0;
  /// settings_codec JSON, password hashes included: it only travels over lines.
  std::string settings;
  std::vector<std::string> revoked_serials;
  std::int64_t written_unix_us = 0;
  /// The telephony users and extensions (HA1 and Argon2id only), so a phone registers on
  /// any node.
  std::string directory;
};

/// What the lines need of the node's certificate state; sent at start and after every
/// change of it.
struct pki_facts {
  std::string identity_key_pem;
  std::string identity_pem;
  /// The CA's signing certificate on a node hosting the CA, else empty.
  std::string ca_pem;
  /// The Trusted Certificate Store plus, on a CA node, the CA: anchors for line checks.
  std::vector<std::string> anchors_pem;
  std::vector<std::string> revoked_serials;
  std::string hostname;
  std::vector<std::string> addresses;
  /// The TLS settings every TLS end of the node follows (SPEC TLS-1, PKI-6): the dialler's
  /// minimum version, and the CA chain it sends after its identity when offering is on.
  pki::tls_min_version minimum_tls = pki::tls_min_version::tls1_2;
  std::string chain_pem;
  /// CAs replaced by Create New still trusted on lines while nodes are reissued (SPEC PKI-4).
  std::size_t retiring_cas = 0;
};

/// Replica: a replicated settings record to apply when newer. Reply: the version held.
struct apply_replicated {
  std::uint64_t version = 0;
  std::string settings;
  std::vector<std::string> revoked_serials;
  std::string directory;
};

/// Primary: a login another node checked, counted here so lockout is cluster-wide.
struct login_report {
  std::string node;
  std::string name;
  bool success = false;
  std::string source;
  /// When the other node checked it: the lockout window runs from then.
  std::chrono::system_clock::time_point time{};
};

/// Primary: a node's enrolment request, verified by the line's password proof. Reply:
/// enrol_result.
struct enrol_sign {
  std::string node;
  std::string csr_pem;
  std::vector<std::string> addresses;
};

struct enrol_result {
  std::string certificate_pem;
  std::string ca_pem;
  std::string server_identity_pem;
  std::string error;
};

/// Replica: the CA-signed identity that enrolment returned. Reply: transaction_reply.
struct install_enrolment {
  std::string certificate_pem;
  std::string ca_pem;
  std::string server_identity_pem;
};

/// Primary: every enrolled node now holds an identity of the current CA, so the CAs that
/// Create New or an import replaced are no longer trusted on lines (SPEC PKI-4).
struct retire_replaced_cas {};

/// An alarm the cluster layer raises (line refused, line down, certificate refused).
struct cluster_alarm {
  std::string action;
  std::string object;
  std::string reason;
  std::string source;
  /// The condition an earlier alarm reported has ended (e.g. a line is back up).
  bool cleared = false;
};

/// SPEC SIP-3: the registrar took a REGISTER for an unknown extension while auto-create was
/// on; the primary creates the extension (no phone password, force authorization off).
struct auto_create_extension {
  std::string number;
  /// "ip:port" the REGISTER came from, for the audit record.
  std::string source;
};

/// Appserver: an administrative login to refer to the security database. Reply:
/// referral_result.
struct refer_login {
  std::string name;
  std::string password;
  std::string source;
  std::string service;
};

struct referral_result {
  /// False when no line to the primary is up: the local fallback applies.
  bool reached = false;
  bool accepted = false;
  std::string message;
  bool must_change_password = false;
};

/// SPEC TF-10: an outside call started or ended on `node` (this node, or on the primary a
/// node whose line reported it), for the fraud counters.
struct fraud_usage {
  std::string node;
  telephony::metered_call call;
  bool ended = false;
};

/// Not the primary: `usage` for the primary's counters. Reply: bool, whether a line to the
/// primary carried it (false: the node's own counters decide, SPEC TF-10 local cap).
struct fraud_usage_out {
  fraud_usage usage;
};

/// Levels of fraud rules reached. To the primary's security actor, which raises the alarms
/// and carries out the actions (SPEC TF-10); `node` is where the counters ran.
struct fraud_trips {
  std::string node;
  std::vector<telephony::fraud_trip> trips;
  /// Counted by `node` alone while its line to the primary was down.
  bool local_cap = false;
};

/// Not the primary: trips its own counters reached while the line was down, for the
/// primary to carry out. Reply: bool, whether a line to the primary carried them (an
/// empty list probes the line).
struct fraud_trips_out {
  fraud_trips trips;
};

/// Primary: `node`'s line went down. The ends of its calls may never arrive, so the fraud
/// counters end them now rather than keep them up for a day (SPEC TF-10).
struct fraud_node_down {
  std::string node;
};

/// The security actor appended to the audit trail; the forwarder looks for new records.
using audit_appended_atom = caf::atom_constant<caf::atom("auditadd")>;

} // namespace ward::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::actors::cluster_link)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::actors::settings_changed)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::actors::pki_facts)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::actors::apply_replicated)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::actors::login_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::actors::enrol_sign)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::actors::enrol_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::actors::install_enrolment)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::actors::cluster_alarm)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::actors::retire_replaced_cas)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::actors::auto_create_extension)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::actors::refer_login)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::actors::fraud_usage)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::actors::fraud_usage_out)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::actors::fraud_trips)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::actors::fraud_trips_out)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::actors::fraud_node_down)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::actors::referral_result)
