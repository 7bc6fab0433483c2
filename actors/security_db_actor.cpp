#include "actors/security_db_actor.hpp"

#include "pki/identity_store.hpp"
#include "security/settings_codec.hpp"

#include <caf/actor_pool.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include <map>
#include <nlohmann/json.hpp>

namespace ward::actors {
namespace {

using security::audit_kind;
using security::audit_outcome;
using security::security_errc;
using security::security_error;

using verify_atom = caf::atom_constant<caf::atom("verify")>;

constexpr std::size_t session_sweep_threshold = 1024;
constexpr std::size_t source_sweep_threshold = 4096;

/// The address part of "127.0.0.1:5555" or "[::1]:5555".
std::string address_of(const std::string& source) {
  if (source.starts_with("["))
    return source.substr(0, source.find(']') + 1);
  auto colon = source.rfind(':');
  return colon == std::string::npos ? source : source.substr(0, colon);
}

security::lockout_rule source_rule(const security::security_settings& settings) {
  auto rule = settings.service_policy.source_lockout;
  // An address cannot be "disabled until an administrator unlocks it".
  if (rule.action == security::reject_action::log_and_disable_account)
    rule.action = security::reject_action::log_and_temporary_disable;
  return rule;
}

/// Checks one secret against an Argon2id hash. Runs detached: hashing takes tens of
/// milliseconds and must not hold up the actor that owns the settings.
caf::behavior hasher() {
  return {[](verify_atom, const std::string& hash, const std::string& secret) {
    return security::verify_secret(hash, secret);
  }};
}

struct session {
  std::string user;
  std::uint64_t credential_version = 0;
  clock::time_point expires_at;
};

struct security_state {
  std::optional<security_actor_deps> deps;
  caf::actor hashers;
  std::map<std::string, session> sessions;
  /// Failed logins per source address (SPEC POL-7). Kept in memory: a restart forgives
  /// addresses, never accounts, whose locks are persisted.
  std::map<std::string, security::lock_state> sources;
  /// TLS failure alarms raised per address in the current minute.
  std::map<std::string, std::size_t> tls_alarms;
  tls_reloader reload_tls;
  clock::time_point tls_alarm_minute{};
  /// The node's cluster actor, once linked; told of new audit records, settings and
  /// certificate changes.
  caf::actor hub;
  static inline const char* name = "ward.security_db";
};

using self_pointer = caf::stateful_actor<security_state>*;

std::string to_hex(std::span<const std::byte> bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (auto b : bytes) {
    out += digits[std::to_integer<unsigned>(b) >> 4];
    out += digits[std::to_integer<unsigned>(b) & 0xf];
  }
  return out;
}

std::string service_text(const request_origin& origin) {
  return origin.service ? std::string(security::to_string(*origin.service)) : std::string{};
}

/// Appends to the audit trail; a trail that cannot be written is reported, never ignored.
std::optional<security_error> audit(self_pointer self, security::audit_record record) {
  auto appended = self->state.deps->audit->append(std::move(record));
  if (!appended)
    return security_error{security_errc::storage_failure, "audit",
                          "audit trail unavailable: " + appended.error().detail};
  if (auto anchored = self->state.deps->security_store->put(
          audit_anchor_record, std::to_string(appended->sequence) + " " + appended->hash);
      !anchored)
    return security_error{security_errc::storage_failure, "audit",
                          "audit anchor not written: " + anchored.error()};
  if (self->state.hub)
    self->send(self->state.hub, audit_appended_atom::value);
  return std::nullopt;
}

security::audit_record record_of(audit_kind kind, audit_outcome outcome, std::string actor,
                                 const request_origin& origin, std::string action,
                                 std::string object, std::string reason) {
  security::audit_record record;
  record.kind = kind;
  record.outcome = outcome;
  record.actor = std::move(actor);
  record.source = origin.source;
  record.service = service_text(origin);
  record.action = std::move(action);
  record.object = std::move(object);
  record.reason = std::move(reason);
  return record;
}

settings_changed snapshot_of(const security_actor_deps& deps, clock::time_point now) {
  settings_changed snapshot;
  snapshot.version = deps.settings_version;
  snapshot.settings = security::encode_settings(deps.database.settings());
  snapshot.revoked_serials = deps.pki.revoked_serials();
  snapshot.written_unix_us =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  snapshot.directory = telephony::encode_directory(deps.directory.data());
  return snapshot;
}

pki_facts facts_of(const pki_state& pki) {
  pki_facts facts;
  facts.identity_key_pem = pki.identity_key.to_pem().value_or("");
  facts.identity_pem = pki.identity.to_pem().value_or("");
  if (pki.record.ca)
    facts.ca_pem = pki.record.ca->signing_certificate().to_pem().value_or("");
  // Lines trust what an administrator or enrolment put in the TCS and the node's own CA,
  // never the default public web CAs.
  for (const auto& entry : pki.record.trust.entries())
    if (!entry.is_default)
      facts.anchors_pem.push_back(entry.cert.to_pem().value_or(""));
  if (pki.record.ca)
    facts.anchors_pem.push_back(pki.record.ca->signing_certificate().to_pem().value_or(""));
  facts.revoked_serials = pki.revoked_serials();
  facts.hostname = pki.hostname;
  facts.addresses = pki.addresses;
  return facts;
}

std::optional<security_error> persist(self_pointer self, transaction_writes writes) {
  auto& deps = *self->state.deps;
  // The writer numbers every change of what it replicates (SPEC LINE-3); the number is
  // written in the same batch, so a persisted change always has its version.
  bool replicated = deps.settings_writer &&
                    writes_any(writes, transaction_writes::security_settings |
                                           transaction_writes::pki | transaction_writes::directory);
  auto next_version = deps.settings_version + (replicated ? 1 : 0);
  auto failed = [](const std::string& why) {
    return security_error{security_errc::storage_failure, "",
                          "could not persist the change: " + why};
  };
  // Settings and certificate state share the security store: one batch, all or nothing.
  std::vector<std::pair<std::string, std::string>> security_records;
  if (writes_any(writes, transaction_writes::security_settings))
    security_records.emplace_back(settings_record,
                                  security::encode_settings(deps.database.settings()));
  if (writes_any(writes, transaction_writes::pki)) {
    auto encoded = security::encode_pki(deps.pki.record);
    if (!encoded)
      return failed(encoded.error().detail);
    security_records.emplace_back(pki_record_name, std::move(*encoded));
  }
  if (replicated)
    security_records.emplace_back(settings_version_record, std::to_string(next_version));
  if (!security_records.empty())
    if (auto written = deps.security_store->put_all(security_records); !written)
      return failed(written.error().detail);
  if (replicated)
    deps.settings_version = next_version;
  if (writes_any(writes, transaction_writes::directory))
    if (auto written = deps.config_store->put(directory_record,
                                              telephony::encode_directory(deps.directory.data()));
        !written)
      return failed(written.error().detail);
  if (writes_any(writes, transaction_writes::pki)) {
    auto key_pem = deps.pki.identity_key.to_pem();
    auto cert_pem = deps.pki.identity.to_pem();
    if (!key_pem || !cert_pem)
      return failed("cannot encode the node identity");
    // Key first, as the identity store does: a crash in between leaves a mismatch that the
    // next start repairs.
    if (auto written =
            pki::write_file_atomically(deps.pki.identity_dir / "identity.key", *key_pem, 0600);
        !written)
      return failed(written.error().detail);
    if (auto written =
            pki::write_file_atomically(deps.pki.identity_dir / "identity.pem", *cert_pem, 0644);
        !written)
      return failed(written.error().detail);
    if (const auto& ca = deps.pki.record.ca)
      if (auto written =
              pki::write_file_atomically(deps.pki.identity_dir / "root-ca.pem",
                                         ca->signing_certificate().to_pem().value_or(""), 0644);
          !written)
        return failed(written.error().detail);
  }
  if (writes_any(writes, transaction_writes::directory) && deps.publish_directory)
    deps.publish_directory(deps.directory.data());
  // Replicas hear of a change only once every part of it is written.
  if (replicated && self->state.hub)
    self->send(self->state.hub, snapshot_of(deps, deps.time->now()));
  return std::nullopt;
}

/// Resolves a token into the principal behind it, or says why it cannot.
security::security_result<security::session_principal>
resolve(self_pointer self, const std::string& token, clock::time_point now) {
  auto& state = self->state;
  auto it = state.sessions.find(token);
  if (token.empty() || it == state.sessions.end())
    return std::unexpected(security_error{security_errc::unauthenticated, "session",
                                          "no valid session: log in first"});
  if (now >= it->second.expires_at) {
    state.sessions.erase(it);
    return std::unexpected(
        security_error{security_errc::unauthenticated, "session", "session expired: log in again"});
  }
  auto principal =
      state.deps->database.principal(it->second.user, it->second.credential_version, now);
  if (!principal)
    state.sessions.erase(it);
  return principal;
}

std::string issue_token(self_pointer self) {
  std::array<std::byte, 32> bytes{};
  self->state.deps->random(bytes);
  return to_hex(bytes);
}

/// Whether the connection a call came on is still one the service's current level admits
/// (SPEC SVC-1): a level raised after the connection opened applies to its next call.
std::optional<security_error> admit_connection(const request_origin& origin,
                                               const security::security_settings& settings) {
  if (!origin.service)
    return std::nullopt;
  auto it = settings.service_levels.find(*origin.service);
  if (it == settings.service_levels.end())
    return std::nullopt;
  auto level = it->second;
  auto refuse = [&](const std::string& why) {
    return security_error{security_errc::permission_denied, "service",
                          std::string(security::to_string(*origin.service)) + " is at " +
                              std::string(pki::to_string(level)) + ": " + why};
  };
  if (level == pki::service_security_level::disabled)
    return refuse("the service is disabled");
  if (!origin.tls && !pki::offers_plaintext(level))
    return refuse("plaintext connections are no longer admitted");
  if (origin.tls && !pki::offers_tls(level))
    return refuse("TLS connections are not admitted");
  if (pki::requires_client_certificate(level) && !origin.client_certificate)
    return refuse("a client certificate is required");
  return std::nullopt;
}

/// The one authorization decision for every administrative call (SPEC SEC-4, SEC-6).
std::optional<security_error> authorize(const security_transaction& request,
                                        const security::session_principal& principal,
                                        const security::security_database& database) {
  if (auto refused = admit_connection(request.origin, database.settings()))
    return refused;
  if (request.service && !request.origin.service)
    return security_error{security_errc::permission_denied, "service",
                          request.action + " needs a connection identified as the " +
                              std::string(security::to_string(*request.service)) + " service"};
  if (request.service && *request.service != *request.origin.service)
    return security_error{
        security_errc::permission_denied, "service",
        request.action + " is served by the " + std::string(security::to_string(*request.service)) +
            " service, not by " + std::string(security::to_string(*request.origin.service))};
  if (!request.allowed_before_ignition) {
    auto pending = database.ignition_pending();
    if (!pending.empty()) {
      std::string list;
      for (const auto& item : pending)
        list += (list.empty() ? "" : ", ") + item;
      return security_error{security_errc::failed_precondition, "ignition",
                            "first start: change " + list +
                                " before any other administrative work"};
    }
    if (principal.status == security::account_status::force_new_password)
      return security_error{security_errc::failed_precondition, "password",
                            "the account must change its password first"};
  }
  if (request.required && !principal.rights.contains(*request.required))
    return security_error{security_errc::permission_denied, "right",
                          principal.user + " lacks the right " +
                              std::string(security::to_string(*request.required))};
  return std::nullopt;
}

transaction_reply run_transaction(self_pointer self, security_transaction& request) {
  auto& deps = *self->state.deps;
  auto now = deps.time->now();
  // A proxied call acts as the user the primary authenticated, with that user's rights as
  // this node holds them; everything else (levels, rights, audit) is decided here as usual.
  auto principal = request.token.empty() && !request.origin.proxied_user.empty()
                       ? deps.database.principal(
                             request.origin.proxied_user,
                             deps.database.login_material_for(request.origin.proxied_user, now)
                                 .credential_version,
                             now)
                       : resolve(self, request.token, now);
  if (!principal) {
    audit(self, record_of(audit_kind::access_denied, audit_outcome::failure, "", request.origin,
                          request.action, "", principal.error().message));
    return {principal.error()};
  }
  auto denied = authorize(request, *principal, deps.database);
  if (!denied && !deps.settings_writer &&
      writes_any(request.writes,
                 transaction_writes::security_settings | transaction_writes::directory))
    denied = security_error{security_errc::unavailable, "cluster",
                            request.action +
                                ": security settings and telephony users and extensions are "
                                "written on the primary and replicated to this node; make the "
                                "change through the primary"};
  if (denied) {
    if (auto failed = audit(self, record_of(audit_kind::access_denied, audit_outcome::failure,
                                            principal->user, request.origin, request.action, "",
                                            denied->message)))
      return {failed};
    return {denied};
  }

  // Work on the live objects, keeping copies to restore: a refused or unpersisted change
  // leaves nothing half-written.
  auto saved_security = deps.database;
  auto saved_directory = deps.directory;
  auto saved_pki = deps.pki;
  auto restore = [&] {
    deps.database = std::move(saved_security);
    deps.directory = std::move(saved_directory);
    deps.pki = std::move(saved_pki);
  };
  security_context context{deps.database, deps.directory, deps.pki, now, deps.random, &*principal};
  auto effect = request.apply(context);
  if (!effect && security::failure_counted(effect.error())) {
    // Keep the counted failure (and any lock it caused); nothing else of the call stays.
    deps.directory = std::move(saved_directory);
    deps.pki = std::move(saved_pki);
    (void)persist(self, transaction_writes::security_settings);
    audit(self, record_of(audit_kind::change, audit_outcome::failure, principal->user,
                          request.origin, request.action, "", effect.error().message));
    return {effect.error()};
  }
  // Listener changes made inside the call (levels, TLS material) follow the state back.
  auto reapply_listeners = [&] {
    if (self->state.reload_tls &&
        writes_any(request.writes, transaction_writes::security_settings | transaction_writes::pki))
      (void)self->state.reload_tls(deps.database.settings(), deps.pki);
  };
  if (!effect) {
    restore();
    reapply_listeners();
    if (request.writes != transaction_writes::nothing)
      audit(self, record_of(audit_kind::change, audit_outcome::failure, principal->user,
                            request.origin, request.action, "", effect.error().message));
    return {effect.error()};
  }
  if (request.writes == transaction_writes::nothing && !request.audited)
    return {};
  if (auto failed = persist(self, request.writes)) {
    restore();
    reapply_listeners();
    return {failed};
  }
  auto record = record_of(effect->kind, audit_outcome::success, principal->user, request.origin,
                          request.action, effect->object, effect->detail);
  record.before = effect->before;
  record.after = effect->after;
  if (auto failed = audit(self, std::move(record)))
    return {failed};
  if (request.after_commit)
    request.after_commit(deps.database.settings(), deps.pki);
  if (self->state.hub && writes_any(request.writes, transaction_writes::pki))
    self->send(self->state.hub, facts_of(deps.pki));
  return {};
}

void audit_login(self_pointer self, const login_request& request, audit_outcome outcome,
                 const std::string& reason, security::lockout_event lock_event,
                 std::string action = "Login") {
  audit(self, record_of(audit_kind::login, outcome, request.name, request.origin, std::move(action),
                        "service_user/" + request.name, reason));
  if (outcome == audit_outcome::failure)
    audit(self, record_of(audit_kind::alarm, audit_outcome::failure, request.name, request.origin,
                          "login_failure", "service_user/" + request.name, reason));
  if (lock_event != security::lockout_event::none)
    audit(self, record_of(audit_kind::alarm, audit_outcome::failure, request.name, request.origin,
                          "account_locked", "service_user/" + request.name,
                          lock_event == security::lockout_event::locked_permanently
                              ? "locked until an administrator unlocks it"
                              : "locked temporarily"));
}

/// Counts a failed login against its source address, or clears the address's history on
/// success; a new block raises an alarm.
void count_source(self_pointer self, const login_request& request, bool failed,
                  clock::time_point now) {
  auto& sources = self->state.sources;
  auto source = address_of(request.origin.source);
  if (!failed) {
    if (auto it = sources.find(source); it != sources.end())
      security::record_success(it->second);
    return;
  }
  if (sources.size() >= source_sweep_threshold)
    std::erase_if(sources, [now](const auto& entry) {
      return !security::is_locked(entry.second, now) && entry.second.recent_failures.empty();
    });
  auto event = security::record_failure(sources[source],
                                        source_rule(self->state.deps->database.settings()), now);
  if (event != security::lockout_event::none)
    audit(self, record_of(audit_kind::alarm, audit_outcome::failure, request.name, request.origin,
                          "source_blocked", "source/" + source,
                          "address blocked after repeated failed logins"));
}

security_error login_refusal(security::login_outcome outcome) {
  switch (outcome) {
    case security::login_outcome::locked:
      return {security_errc::unauthenticated, "name", "account locked"};
    case security::login_outcome::disabled:
      return {security_errc::unauthenticated, "name", "account disabled"};
    case security::login_outcome::expired:
      return {security_errc::unauthenticated, "name", "account expired"};
    default:
      // Wrong password and unknown name read the same: no hint which accounts exist.
      return {security_errc::unauthenticated, "name", "login failed"};
  }
}

/// On a node hosting the CA, reissues the node identity before it expires (SPEC PKI-5),
/// persists it and reloads the listeners; audited either way.
void renew_identity_if_due(self_pointer self) {
  auto& deps = *self->state.deps;
  auto& pki_state = deps.pki;
  auto now = deps.time->now();
  if (!pki_state.record.ca || pki_state.identity.days_until_expiry(now) > identity_renewal_days)
    return;
  auto saved = pki_state;
  auto issued = pki_state.record.ca->issue_node_identity(pki_state.identity_key, pki_state.hostname,
                                                         pki_state.addresses, now);
  std::optional<std::string> failure;
  if (!issued) {
    failure = issued.error().detail;
  } else {
    pki_state.identity = *issued;
    pki_state.record.issued.push_back(pki::record_of(*issued, pki::issued_purpose::node_identity));
    if (auto failed = persist(self, transaction_writes::pki))
      failure = failed->message;
    else if (self->state.reload_tls)
      if (auto reloaded = self->state.reload_tls(deps.database.settings(), pki_state); !reloaded)
        failure = reloaded.error();
  }
  if (failure) {
    deps.pki = std::move(saved);
    (void)persist(self, transaction_writes::pki);
  }
  if (!failure && self->state.hub)
    self->send(self->state.hub, facts_of(deps.pki));
  audit(self, record_of(failure ? audit_kind::alarm : audit_kind::change,
                        failure ? audit_outcome::failure : audit_outcome::success, "",
                        request_origin{}, "RenewIdentity", "identity",
                        failure ? "automatic renewal failed: " + *failure
                                : "renewed automatically before expiry, serial " +
                                      deps.pki.identity.serial_hex()));
}

/// The daily certificate expiry sweep (SPEC PKI-10): every certificate in use or in the
/// TCS within the warning window raises an alarm record.
void check_expiry(self_pointer self) {
  auto& deps = *self->state.deps;
  auto now = deps.time->now();
  auto warn = [&](const pki::certificate& cert, const std::string& role) {
    auto days = cert.days_until_expiry(now);
    if (days > expiry_warning_days)
      return;
    audit(self, record_of(audit_kind::alarm, audit_outcome::failure, "", request_origin{},
                          "certificate_expiring", "certificate/" + cert.subject(),
                          role + (days < 0 ? " expired " + std::to_string(-days) + " days ago"
                                           : " expires in " + std::to_string(days) + " days")));
  };
  renew_identity_if_due(self);
  warn(deps.pki.identity, "node identity");
  if (deps.pki.record.ca)
    warn(deps.pki.record.ca->signing_certificate(), "certificate authority");
  for (const auto& entry : deps.pki.record.trust.entries())
    warn(entry.cert, "trusted certificate");
}

/// Replica: applies a replicated settings record when it is newer than the one held
/// (SPEC LINE-3), persisting it with its version before the acknowledgement; returns the
/// version held afterwards.
std::uint64_t apply_replicated_settings(self_pointer self, const apply_replicated& record) {
  auto& deps = *self->state.deps;
  if (deps.settings_writer || record.version <= deps.settings_version)
    return deps.settings_version;
  auto decoded = security::decode_settings(record.settings);
  if (!decoded) {
    audit(self, record_of(audit_kind::alarm, audit_outcome::failure, "", request_origin{},
                          "replication_refused", "security_settings",
                          "replicated version " + std::to_string(record.version) +
                              " cannot be read: " + decoded.error().detail));
    return deps.settings_version;
  }
  auto now = deps.time->now();
  std::optional<telephony::telephony_directory_data> directory;
  if (!record.directory.empty()) {
    auto decoded_directory = telephony::decode_directory(record.directory);
    if (!decoded_directory) {
      audit(self, record_of(audit_kind::alarm, audit_outcome::failure, "", request_origin{},
                            "replication_refused", "telephony_directory",
                            "replicated version " + std::to_string(record.version) +
                                " cannot be read: " + decoded_directory.error().detail));
      return deps.settings_version;
    }
    directory = std::move(*decoded_directory);
  }
  auto saved_database = deps.database;
  auto saved_revoked = deps.pki.record.revoked;
  bool listeners_change = decoded->service_levels != deps.database.settings().service_levels ||
                          !(decoded->certificates == deps.database.settings().certificates);
  deps.database.replace_settings(std::move(*decoded));
  bool revocations_change = false;
  for (const auto& serial : record.revoked_serials)
    revocations_change = deps.pki.record.revoked.emplace(serial, now).second || revocations_change;
  std::vector<std::pair<std::string, std::string>> batch{
      {std::string(settings_record), security::encode_settings(deps.database.settings())},
      {std::string(settings_version_record), std::to_string(record.version)}};
  if (revocations_change) {
    auto encoded = security::encode_pki(deps.pki.record);
    if (encoded)
      batch.emplace_back(pki_record_name, std::move(*encoded));
  }
  // The directory goes first: a crash before the versioned batch leaves the old version,
  // and the record is applied again.
  if (directory) {
    if (auto written = deps.config_store->put(directory_record, record.directory); !written) {
      deps.database = std::move(saved_database);
      deps.pki.record.revoked = std::move(saved_revoked);
      return deps.settings_version;
    }
  }
  if (auto written = deps.security_store->put_all(batch); !written) {
    deps.database = std::move(saved_database);
    deps.pki.record.revoked = std::move(saved_revoked);
    return deps.settings_version;
  }
  if (directory) {
    deps.directory.replace_data(std::move(*directory));
    if (deps.publish_directory)
      deps.publish_directory(deps.directory.data());
  }
  deps.settings_version = record.version;
  // A secondary relays what it holds to the nodes that dialled it (SPEC TOP-3).
  if (self->state.hub)
    self->send(self->state.hub, snapshot_of(deps, now));
  if ((listeners_change || revocations_change) && self->state.reload_tls)
    (void)self->state.reload_tls(deps.database.settings(), deps.pki);
  if (revocations_change && self->state.hub)
    self->send(self->state.hub, facts_of(deps.pki));
  return deps.settings_version;
}

/// Writer: a login another node checked counts here too, so the account's lockout state
/// is one for the whole cluster (SPEC POL-7); the change replicates like any other.
void count_remote_login(self_pointer self, const login_report& report) {
  auto& deps = *self->state.deps;
  if (!deps.settings_writer)
    return;
  auto now = deps.time->now();
  // Counted when it happened (never in the future), so a failure forwarded late after an
  // outage falls out of the lockout window as it would have on the primary itself.
  auto at = report.time == clock::time_point{} ? now : std::min(report.time, now);
  auto material = deps.database.login_material_for(report.name, now);
  if (!material.known_user)
    return;
  auto result =
      deps.database.complete_login(report.name, report.success, material.credential_version, at);
  if (persist(self, transaction_writes::security_settings))
    return;
  if (result.lock_event != security::lockout_event::none)
    audit(self, record_of(audit_kind::alarm, audit_outcome::failure, report.name,
                          request_origin{report.node + "/" + report.source, std::nullopt},
                          "account_locked", "service_user/" + report.name,
                          "locked after failed logins on node " + report.node));
}

/// Primary: issues a node identity for an enrolling node's CSR (SPEC PKI-5).
enrol_result sign_enrolment(self_pointer self, const enrol_sign& request) {
  auto& deps = *self->state.deps;
  enrol_result out;
  auto refuse = [&](std::string why) {
    out.error = why;
    audit(self, record_of(audit_kind::alarm, audit_outcome::failure, "",
                          request_origin{"node/" + request.node, std::nullopt}, "EnrolNode",
                          "node/" + request.node, "enrolment refused: " + why));
    return out;
  };
  if (!deps.pki.record.ca)
    return refuse("this node hosts no certificate authority");
  auto saved = deps.pki;
  auto issued =
      deps.pki.record.ca->sign_node_csr(request.csr_pem, request.addresses, deps.time->now());
  if (!issued)
    return refuse(issued.error().detail);
  deps.pki.record.issued.push_back(pki::record_of(*issued, pki::issued_purpose::node_identity));
  if (auto failed = persist(self, transaction_writes::pki)) {
    deps.pki = std::move(saved);
    return refuse(failed->message);
  }
  out.certificate_pem = issued->to_pem().value_or("");
  out.ca_pem = deps.pki.record.ca->signing_certificate().to_pem().value_or("");
  out.server_identity_pem = deps.pki.identity.to_pem().value_or("");
  audit(self,
        record_of(audit_kind::change, audit_outcome::success, "",
                  request_origin{"node/" + request.node, std::nullopt}, "EnrolNode",
                  "node/" + request.node,
                  "identity issued, serial " + issued->serial_hex() + ", " + issued->subject()));
  return out;
}

/// Replica: installs the CA-signed identity enrolment returned and trusts the CA and the
/// line server's identity from then on (SPEC PKI-5).
transaction_reply install_enrolled_identity(self_pointer self, const install_enrolment& enrolment) {
  auto& deps = *self->state.deps;
  auto now = deps.time->now();
  auto invalid = [](std::string why) {
    return transaction_reply{security_error{security_errc::invalid_argument, "enrolment", why}};
  };
  if (deps.pki.record.ca || deps.settings_writer)
    return invalid("a node hosting the certificate authority does not enrol with another");
  auto cert = pki::certificate::from_pem(enrolment.certificate_pem);
  auto ca = pki::certificate::from_pem(enrolment.ca_pem);
  auto server = pki::certificate::from_pem(enrolment.server_identity_pem);
  if (!cert || !ca || !server)
    return invalid("the enrolment reply holds an unreadable certificate");
  if (!cert->matches(deps.pki.identity_key))
    return invalid("the issued certificate is not for this node's key");
  pki::trust_store issuer;
  if (!issuer.add(*ca))
    return invalid("the CA certificate cannot be trusted");
  pki::check_context context{now, pki::certificate_purpose::tls_client, &issuer, {}, {}, {}};
  if (auto graded = pki::check_received_certificate({*cert}, pki::check_level::medium, context);
      !graded.ok())
    return invalid("the issued certificate does not check against its CA: " + graded.detail);
  auto saved = deps.pki;
  // Already present after an earlier enrolment: that is fine.
  (void)deps.pki.record.trust.add(*ca);
  (void)deps.pki.record.trust.add(*server);
  deps.pki.identity = *cert;
  if (auto failed = persist(self, transaction_writes::pki)) {
    deps.pki = std::move(saved);
    return {failed};
  }
  audit(self, record_of(audit_kind::change, audit_outcome::success, "", request_origin{},
                        "Enrolled", "identity",
                        "identity issued by " + ca->subject() + ", serial " + cert->serial_hex()));
  if (self->state.reload_tls)
    (void)self->state.reload_tls(deps.database.settings(), deps.pki);
  if (self->state.hub)
    self->send(self->state.hub, facts_of(deps.pki));
  return {};
}

/// A new session for `name`, whose password was just proven (here or by the security
/// database a login was referred to).
login_grant open_session(self_pointer self, const std::string& name,
                         std::uint64_t credential_version, bool must_change_password,
                         std::optional<std::int64_t> password_expires_in_days,
                         clock::time_point now) {
  auto& deps = *self->state.deps;
  login_grant grant;
  grant.token = issue_token(self);
  grant.expires_in = session_lifetime;
  grant.must_change_password = must_change_password;
  grant.password_expires_in_days = password_expires_in_days;
  grant.ignition_pending = deps.database.ignition_pending();
  grant.identity_days_left = deps.pki.identity.days_until_expiry(now);
  if (auto principal = deps.database.principal(name, credential_version, now))
    grant.rights = principal->rights;
  auto& sessions = self->state.sessions;
  // Expired sessions are only found when used; sweep them before the map can grow with
  // every login of a busy node.
  if (sessions.size() >= session_sweep_threshold)
    std::erase_if(sessions, [now](const auto& entry) { return now >= entry.second.expires_at; });
  sessions[grant.token] = session{name, credential_version, now + session_lifetime};
  return grant;
}

/// Refuses a login from an address blocked after repeated failures (SPEC POL-7), with its
/// audit record; false when the address may try.
bool refused_for_source(self_pointer self, const login_request& request,
                        caf::typed_response_promise<login_reply>& promise, clock::time_point now) {
  auto source = address_of(request.origin.source);
  auto it = self->state.sources.find(source);
  if (it == self->state.sources.end() || !security::is_locked(it->second, now))
    return false;
  audit_login(self, request, audit_outcome::failure,
              "source address " + source + " is blocked after repeated failures",
              security::lockout_event::none);
  promise.deliver(login_reply{security_error{security_errc::unauthenticated, "source",
                                             "too many failed logins from this address; try later"},
                              {}});
  return true;
}

/// Checks a login against this node's copy of the security settings.
void local_login(self_pointer self, login_request request,
                 caf::typed_response_promise<login_reply> promise) {
  auto& deps = *self->state.deps;
  auto now = deps.time->now();
  if (refused_for_source(self, request, promise, now))
    return;
  // Every attempt pays for the hash, whatever the account's state: neither the answer
  // nor its timing tells an unauthenticated caller which accounts exist or are locked.
  auto material = deps.database.login_material_for(request.name, now);
  self->request(self->state.hashers, caf::infinite, verify_atom::value, material.password_hash,
                request.password)
      .then([self, promise, request, material](bool matched) mutable {
        auto& deps = *self->state.deps;
        auto now = deps.time->now();
        // Attempts in flight when the address got blocked are refused too.
        if (refused_for_source(self, request, promise, now))
          return;
        if (!material.known_user) {
          count_source(self, request, true, now);
          audit_login(self, request, audit_outcome::failure, "unknown service user",
                      security::lockout_event::none);
          promise.deliver(login_reply{login_refusal(security::login_outcome::bad_credentials), {}});
          return;
        }
        auto result =
            deps.database.complete_login(request.name, matched, material.credential_version, now);
        if (auto failed = persist(self, transaction_writes::security_settings)) {
          promise.deliver(login_reply{failed, {}});
          return;
        }
        using enum security::login_outcome;
        count_source(self, request,
                     result.outcome != success && result.outcome != must_change_password, now);
        if (result.outcome != success && result.outcome != must_change_password) {
          audit_login(self, request, audit_outcome::failure,
                      std::string(security::to_string(result.outcome)), result.lock_event);
          // The account's state is told only to a caller who knew its password.
          promise.deliver(login_reply{
              login_refusal(matched ? result.outcome : security::login_outcome::bad_credentials),
              {}});
          return;
        }
        auto grant = open_session(self, request.name, result.credential_version,
                                  result.outcome == must_change_password,
                                  result.password_expires_in_days, now);
        audit_login(self, request, audit_outcome::success,
                    grant.must_change_password ? "password change required" : "",
                    security::lockout_event::none);
        promise.deliver(login_reply{std::nullopt, std::move(grant)});
      });
}

caf::behavior security_behavior(self_pointer self, security_actor_deps deps) {
  self->state.deps.emplace(std::move(deps));
  auto& system = self->system();
  self->state.hashers = caf::actor_pool::make(
      system.dummy_execution_unit(), 2, [&system] { return system.spawn<caf::detached>(hasher); },
      caf::actor_pool::round_robin());
  self->attach_functor([hashers = self->state.hashers](const caf::error&) {
    caf::anon_send_exit(hashers, caf::exit_reason::user_shutdown);
  });

  self->send(self, check_expiry_atom::value);
  return {
      [self](check_expiry_atom) {
        check_expiry(self);
        self->delayed_send(self, std::chrono::hours(24), check_expiry_atom::value);
      },
      [self](security_transaction& request) { return run_transaction(self, request); },
      [self](login_request& request) -> caf::result<login_reply> {
        auto promise = self->make_response_promise<login_reply>();
        auto& deps = *self->state.deps;
        if (!deps.refer_logins || !self->state.hub) {
          local_login(self, std::move(request), promise);
          return promise;
        }
        // SPEC SEC-10: the security database decides, over the line; the local copy only
        // serves the fallback account while no line reaches it.
        auto fallback = [self, promise, request]() mutable {
          auto& deps = *self->state.deps;
          if (!deps.fallback_account.empty() && request.name == deps.fallback_account) {
            local_login(self, std::move(request), promise);
            return;
          }
          audit_login(self, request, audit_outcome::failure,
                      "security database unreachable; not the fallback account",
                      security::lockout_event::none, "ReferredLogin");
          promise.deliver(login_reply{
              security_error{security_errc::unavailable, "cluster",
                             "the security database cannot be reached over the line; only "
                             "the fallback account may log in now"},
              {}});
        };
        self->request(self->state.hub, std::chrono::seconds(10),
                      refer_login{request.name, request.password, request.origin.source,
                                  service_text(request.origin)})
            .then(
                [self, promise, request, fallback](const referral_result& result) mutable {
                  if (!result.reached) {
                    fallback();
                    return;
                  }
                  auto& deps = *self->state.deps;
                  auto now = deps.time->now();
                  if (!result.accepted) {
                    audit_login(self, request, audit_outcome::failure,
                                "refused by the security database: " + result.message,
                                security::lockout_event::none, "ReferredLogin");
                    promise.deliver(login_reply{
                        security_error{security_errc::unauthenticated, "name", result.message},
                        {}});
                    return;
                  }
                  auto material = deps.database.login_material_for(request.name, now);
                  if (!material.known_user) {
                    promise.deliver(login_reply{
                        security_error{security_errc::unavailable, "cluster",
                                       "the account is not yet replicated to this node"},
                        {}});
                    return;
                  }
                  auto grant = open_session(self, request.name, material.credential_version,
                                            result.must_change_password, std::nullopt, now);
                  audit_login(self, request, audit_outcome::success,
                              "referred to the security database", security::lockout_event::none,
                              "ReferredLogin");
                  promise.deliver(login_reply{std::nullopt, std::move(grant)});
                },
                [fallback](const caf::error&) mutable { fallback(); });
        return promise;
      },
      [self](reloader_message& message) { self->state.reload_tls = std::move(message.reload); },
      [self](cluster_link& link) {
        self->state.hub = link.hub;
        auto& deps = *self->state.deps;
        self->send(link.hub, facts_of(deps.pki));
        self->send(link.hub, snapshot_of(deps, deps.time->now()));
      },
      [self](apply_replicated& record) { return apply_replicated_settings(self, record); },
      [self](login_report& report) { count_remote_login(self, report); },
      [self](enrol_sign& request) { return sign_enrolment(self, request); },
      [self](install_enrolment& enrolment) { return install_enrolled_identity(self, enrolment); },
      [self](auto_create_extension& request) {
        auto& deps = *self->state.deps;
        auto now = deps.time->now();
        // Only the primary writes the directory; on the other nodes the binding stands
        // until it expires, and the extension appears once made on the primary.
        if (!deps.settings_writer || deps.directory.data().extensions.contains(request.number) ||
            !telephony::auto_create_active(deps.directory.data().policy, now))
          return;
        auto saved = deps.directory;
        telephony::extension_fields fields;
        fields.force_authorization = false;
        auto created =
            deps.directory.create_extension(request.number, fields, deps.database.settings());
        request_origin origin{request.source, security::service_name::system_status};
        if (!created) {
          audit(self, record_of(audit_kind::change, audit_outcome::failure, "sip-registrar", origin,
                                "AutoCreateExtension", "extension/" + request.number,
                                created.error().message));
          return;
        }
        if (auto failed = persist(self, transaction_writes::directory)) {
          deps.directory = std::move(saved);
          return;
        }
        auto record = record_of(audit_kind::change, audit_outcome::success, "sip-registrar", origin,
                                "AutoCreateExtension", "extension/" + request.number,
                                "auto-create is on: registered without a password");
        record.after = "{\"number\":\"" + request.number + "\",\"force_authorization\":false}";
        audit(self, std::move(record));
      },
      [self](cluster_alarm& alarm) {
        audit(self, record_of(audit_kind::alarm,
                              alarm.cleared ? audit_outcome::success : audit_outcome::failure, "",
                              request_origin{alarm.source, std::nullopt}, alarm.action,
                              alarm.object, alarm.reason));
      },
      [self](tls_failure_report& report) {
        auto& state = self->state;
        auto now = state.deps->time->now();
        if (now - state.tls_alarm_minute >= std::chrono::minutes(1)) {
          state.tls_alarms.clear();
          state.tls_alarm_minute = now;
        }
        auto& raised = state.tls_alarms[report.peer_address];
        if (++raised > tls_alarms_per_address_per_minute)
          return;
        auto reason = report.cause;
        if (raised == tls_alarms_per_address_per_minute)
          reason += " (further TLS failures from this address in this minute are not recorded)";
        request_origin origin{report.peer_address, security::parse_service_name(report.service)};
        audit(self, record_of(audit_kind::alarm, audit_outcome::failure, "", origin,
                              "tls_handshake_failed", "service/" + report.service, reason));
      },
      [self](logout_request& request) {
        auto it = self->state.sessions.find(request.token);
        if (it != self->state.sessions.end()) {
          audit(self, record_of(audit_kind::logout, audit_outcome::success, it->second.user,
                                request.origin, "Logout", "", ""));
          self->state.sessions.erase(it);
        }
        return transaction_reply{};
      },
      [self](user_login_request& request) -> caf::result<user_login_reply> {
        auto& deps = *self->state.deps;
        auto now = deps.time->now();
        auto principal = resolve(self, request.token, now);
        if (!principal)
          return user_login_reply{principal.error(), false, false};
        security_transaction probe;
        probe.origin = request.origin;
        probe.action = "UserLogin";
        probe.required = security::right::auth_module_admin;
        if (auto denied = authorize(probe, *principal, deps.database)) {
          audit(self, record_of(audit_kind::access_denied, audit_outcome::failure, principal->user,
                                request.origin, "UserLogin", "", denied->message));
          return user_login_reply{denied, false, false};
        }
        auto object = "telephony_user/" + request.name;
        if (deps.directory.is_locked(request.name, now)) {
          audit(self, record_of(audit_kind::login, audit_outcome::failure, request.name,
                                request.origin, "UserLogin", object, "account locked"));
          return user_login_reply{std::nullopt, false, true};
        }
        auto hash = deps.directory.password_hash_for(request.name);
        auto promise = self->make_response_promise<user_login_reply>();
        self->request(self->state.hashers, caf::infinite, verify_atom::value,
                      hash.empty() ? deps.database.login_material_for("", now).password_hash : hash,
                      request.password)
            .then([self, promise, request, object, hash](bool matched) mutable {
              auto& deps = *self->state.deps;
              auto now = deps.time->now();
              // A password changed while this one was being checked proves nothing.
              bool current = deps.directory.password_hash_for(request.name) == hash;
              auto result = deps.directory.complete_login(
                  request.name, matched && current && !hash.empty(), deps.database.settings(), now);
              if (auto failed = persist(self, transaction_writes::directory)) {
                promise.deliver(user_login_reply{failed, false, false});
                return;
              }
              bool accepted = result.outcome == telephony::user_login_outcome::success;
              audit(self, record_of(audit_kind::login,
                                    accepted ? audit_outcome::success : audit_outcome::failure,
                                    request.name, request.origin, "UserLogin", object,
                                    accepted ? "" : "bad credentials"));
              if (result.lock_event != security::lockout_event::none)
                audit(self, record_of(audit_kind::alarm, audit_outcome::failure, request.name,
                                      request.origin, "account_locked", object,
                                      "telephony user locked until an administrator unlocks it"));
              promise.deliver(user_login_reply{
                  std::nullopt, accepted, result.outcome == telephony::user_login_outcome::locked});
            });
        return promise;
      },
  };
}

} // namespace

std::vector<std::string> pki_state::revoked_serials() const {
  std::vector<std::string> serials;
  for (const auto& [serial, _] : record.revoked)
    serials.push_back(serial);
  return serials;
}

std::vector<pki::certificate> pki_state::anchors() const {
  auto certificates = record.trust.certificates();
  if (record.ca) {
    certificates.push_back(record.ca->signing_certificate());
    for (const auto& link : record.ca->chain())
      certificates.push_back(link);
  }
  return certificates;
}

caf::actor spawn_security_db_actor(caf::actor_system& system, security_actor_deps deps) {
  return system.spawn(security_behavior, std::move(deps));
}

} // namespace ward::actors
