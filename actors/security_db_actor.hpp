#pragma once

#include "actors/cluster_messages.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"
#include "pki/certificate_check.hpp"
#include "security/audit_log.hpp"
#include "security/pki_record.hpp"
#include "security/sealed_store.hpp"
#include "security/security_counters.hpp"
#include "security/security_database.hpp"
#include "telephony/directory.hpp"

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace ward::actors {

/// Where a request came from: the connection's peer address and the service (listener)
/// it arrived on.
struct request_origin {
  std::string source;
  /// The service whose listener accepted the connection; nullopt when the connection
  /// could not be identified, which refuses every call bound to a service.
  std::optional<security::service_name> service;
  bool tls = false;
  /// A client certificate was presented and accepted in the handshake.
  bool client_certificate = false;
  /// A call the primary proxied over a line (SPEC TOP-2): the user it authenticated, acted
  /// for without a session here. Set only for calls from the node's in-process channel.
  std::string proxied_user;
};

/// The node's own identity and the certificate state the security actor owns.
struct pki_state {
  security::pki_record record;
  pki::private_key identity_key;
  pki::certificate identity;
  /// Where identity.key and identity.pem live; rewritten when the identity changes.
  std::filesystem::path identity_dir;
  /// Names the identity certificate must carry (SPEC PKI-2).
  std::string hostname;
  std::vector<std::string> addresses;
  /// Subject fields for a CA created anew (SPEC PKI-1, PKI-4 "Create New").
  pki::organisation organisation;

  /// The revoked serials as the certificate check wants them.
  std::vector<std::string> revoked_serials() const;
  /// Anchors for received certificates: the TCS plus, on a CA node, the CA itself.
  std::vector<pki::certificate> anchors() const;
};

/// What a transaction may touch while it runs inside the security actor.
struct security_context {
  security::security_database& security;
  telephony::telephony_directory& directory;
  pki_state& pki;
  clock::time_point now;
  const random_source& random;
  /// The caller; null only for transactions that need no session.
  const security::session_principal* principal;
  /// Failed logins counted per source address (SPEC POL-7), for the status view of
  /// lockouts (MON-5).
  const std::map<std::string, security::lock_state>* source_locks = nullptr;
};

/// What a transaction did, for the audit trail. Before/after are JSON, secrets redacted.
struct transaction_effect {
  std::string object;
  std::string before;
  std::string after;
  std::string detail;
  security::audit_kind kind = security::audit_kind::change;
};

using transaction_fn =
    std::function<security::security_result<transaction_effect>(security_context&)>;

/// Which records a transaction writes; combine with |.
enum class transaction_writes : std::uint8_t {
  nothing = 0,
  security_settings = 1,
  directory = 2,
  /// The CA, issued register, TCS and the node identity files.
  pki = 4,
};

constexpr transaction_writes operator|(transaction_writes a, transaction_writes b) {
  return static_cast<transaction_writes>(static_cast<std::uint8_t>(a) |
                                         static_cast<std::uint8_t>(b));
}

constexpr bool writes_any(transaction_writes set, transaction_writes which) {
  return (static_cast<std::uint8_t>(set) & static_cast<std::uint8_t>(which)) != 0;
}

/// One administrative call. Every RPC becomes one of these, so the session check, the
/// first-start gate, `authorize(right)`, persistence and the audit record happen in one
/// place for all of them.
struct security_transaction {
  std::string token;
  request_origin origin;
  /// The RPC's name, e.g. "CreateServiceUser".
  std::string action;
  /// The service the RPC belongs to; nullopt for session calls offered on every service.
  std::optional<security::service_name> service;
  /// The right the caller needs; nullopt = any valid session.
  std::optional<security::right> required;
  /// Allowed while first-start passwords are still at their defaults (SPEC SEC-6).
  bool allowed_before_ignition = false;
  /// `required` is waived while the caller must change its own password (SPEC SEC-6).
  bool waived_while_password_due = false;
  /// Audited even though it writes nothing (e.g. exporting the CA's key).
  bool audited = false;
  transaction_writes writes = transaction_writes::nothing;
  /// Runs after the change is persisted and audited, e.g. to reload TLS material.
  std::function<void(const security::security_settings&, const pki_state&)> after_commit;
  transaction_fn apply;
};

struct transaction_reply {
  std::optional<security::security_error> error;
};

struct login_request {
  std::string name;
  std::string password;
  request_origin origin;
};

struct login_grant {
  std::string token;
  std::chrono::seconds expires_in{0};
  bool must_change_password = false;
  std::optional<std::int64_t> password_expires_in_days;
  std::vector<std::string> ignition_pending;
  std::set<security::right> rights;
  /// Days until the node identity expires (SPEC PKI-10).
  std::int64_t identity_days_left = 0;
};

struct login_reply {
  std::optional<security::security_error> error;
  login_grant grant;
};

struct logout_request {
  std::string token;
  request_origin origin;
};

/// A telephony user's password checked for an application, under the caller's session.
struct user_login_request {
  std::string token;
  request_origin origin;
  std::string name;
  std::string password;
};

struct user_login_reply {
  std::optional<security::security_error> error;
  bool accepted = false;
  bool locked = false;
};

/// A TLS handshake a listener refused (SPEC TLS-3): becomes an alarm record.
struct tls_failure_report {
  std::string service;
  std::string peer_address;
  std::string cause;
};

/// Alarms for TLS failures from one address are capped per minute, so a scanner cannot
/// flood the audit trail; the cap is reported in the last alarm of the minute.
inline constexpr std::size_t tls_alarms_per_address_per_minute = 10;

/// How long a session token is honoured.
inline constexpr std::chrono::minutes session_lifetime{15};

/// What the security actor owns.
struct security_actor_deps {
  security::security_database database;
  telephony::telephony_directory directory;
  pki_state pki;
  std::shared_ptr<security::sealed_store> security_store;
  std::shared_ptr<security::sealed_store> config_store;
  std::shared_ptr<security::audit_log> audit;
  const clock* time;
  random_source random;
  /// Whether this node writes the cluster's security settings (SPEC LINE-3): the primary,
  /// or a node that belongs to no cluster. Elsewhere they arrive over lines and local
  /// changes to them are refused.
  bool settings_writer = true;
  /// This node's name, for what it reports of itself (SPEC TF-10 fraud alarms).
  std::string node_name;
  /// The replicated version of the settings held, persisted beside them.
  std::uint64_t settings_version = 0;
  /// Appserver (SPEC SEC-10): administrative logins are referred to the primary; while no
  /// line to it is up, only `fallback_account` may log in, against the local copy.
  bool refer_logins = false;
  std::string fallback_account;
  /// Told of the telephony directory after every persisted change (the registrar reads
  /// it); called on the actor's thread, must not block.
  std::function<void(const telephony::telephony_directory_data&)> publish_directory;
  /// Counts what is audited for /metrics (SPEC MON-4); may be null.
  std::shared_ptr<security::security_counters> counters;
};

/// Record names in the sealed stores.
inline constexpr std::string_view settings_record = "security/settings";
inline constexpr std::string_view directory_record = "config/telephony_directory";
inline constexpr std::string_view pki_record_name = "security/pki";
/// The replicated version of the settings record (SPEC LINE-3), written in its batch.
inline constexpr std::string_view settings_version_record = "cluster/settings_version";
/// The sequence and hash of the newest audit record, sealed under the node key: a trail
/// cut short or rewritten whole no longer matches it (SPEC MON-1).
inline constexpr std::string_view audit_anchor_record = "security/audit_anchor";

/// A node hosting the CA reissues its own identity this many days before it expires.
inline constexpr int identity_renewal_days = 30;

/// Runs the daily certificate sweep now (it also runs at start and every 24 h).
using check_expiry_atom = caf::atom_constant<caf::atom("expiry")>;

/// Applies new TLS material to the node's listeners; an error means they kept the old.
using tls_reloader = std::function<std::expected<void, std::string>(
    const security::security_settings&, const pki_state&)>;

/// Hands the security actor the way to reload TLS material once the listeners exist.
struct reloader_message {
  tls_reloader reload;
};

/// Spawns the security database actor (DESIGN §4 "Admin login"): it owns the security
/// settings and the telephony directory, checks every session and right, persists every
/// change before answering, and writes the audit trail.
caf::actor spawn_security_db_actor(caf::actor_system& system, security_actor_deps deps);

} // namespace ward::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::actors::security_transaction)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::actors::transaction_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::actors::login_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::actors::login_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::actors::logout_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::actors::user_login_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::actors::user_login_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::actors::tls_failure_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ward::actors::reloader_message)
