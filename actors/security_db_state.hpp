#pragma once

// Internal to the security database actor: its state and the helpers its source files
// (security_db_actor.cpp, security_db_login.cpp) share. Nothing else includes this.

#include "actors/security_db_actor.hpp"
#include "security/session_table.hpp"

#include <caf/stateful_actor.hpp>

#include <map>
#include <optional>
#include <string>

namespace ward::actors::security_db {

using security::audit_kind;
using security::audit_outcome;
using security::security_errc;
using security::security_error;

using verify_atom = caf::atom_constant<caf::atom("verify")>;

struct security_state {
  std::optional<security_actor_deps> deps;
  caf::actor hashers;
  /// Over `deps`' clock and randomness, so emplaced after it.
  std::optional<security::session_table> sessions;
  /// Failed logins per source address (SPEC POL-7). Kept in memory: a restart forgives
  /// addresses, never accounts, whose locks are persisted.
  std::map<std::string, security::lock_state> sources;
  /// TLS failure alarms raised per address in the current minute.
  std::map<std::string, std::size_t> tls_alarms;
  tls_reloader reload_tls;
  clock::time_point tls_alarm_minute{};
  /// The node's cluster actor, once linked; told of new audit records, settings and
  /// certificate changes.
  caf::actor line_actor;
  static inline const char* name = "ward.security_db";
};

using self_pointer = caf::stateful_actor<security_state>*;

std::string service_text(const request_origin& origin);

/// Appends to the audit trail; a trail that cannot be written is reported, never ignored.
std::optional<security_error> audit(self_pointer self, security::audit_record record);

security::audit_record record_of(audit_kind kind, audit_outcome outcome, std::string actor,
                                 const request_origin& origin, std::string action,
                                 std::string object, std::string reason);

/// Writes what `writes` names (settings and certificate state in one batch, the directory,
/// the identity files), numbers a replicated change and tells the cluster actor of it.
std::optional<security_error> persist(self_pointer self, transaction_writes writes);

/// The one authorization decision for every administrative call (SPEC SEC-4, SEC-6).
std::optional<security_error> authorize(const security_transaction& request,
                                        const security::session_principal& principal,
                                        const security::security_database& database);

// Logins and sessions (security_db_login.cpp).

/// A service user's login: checked here, or referred to the security database over the
/// line on an appserver (SPEC SEC-10).
caf::result<login_reply> login(self_pointer self, login_request request);

/// Ends a session; audited when there was one.
transaction_reply logout(self_pointer self, const logout_request& request);

/// A telephony user's password checked for an application, under the caller's session.
caf::result<user_login_reply> user_login(self_pointer self, const user_login_request& request);

/// Writer: a login another node checked counts here too, so the account's lockout state
/// is one for the whole cluster (SPEC POL-7); the change replicates like any other.
void count_remote_login(self_pointer self, const login_report& report);

/// SPEC TF-10: levels of fraud rules reached. Alarmed where counted; on the primary, their
/// actions (bar the user, disable the trunk) change the dial plan, audited and replicated.
void handle_fraud_trips(self_pointer self, const fraud_trips& report);

} // namespace ward::actors::security_db
