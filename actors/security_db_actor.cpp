#include "actors/security_db_actor.hpp"

#include "actors/security_db_state.hpp"
#include "core/net_address.hpp"
#include "pki/enrolment_reply.hpp"
#include "pki/expiry.hpp"
#include "pki/identity_store.hpp"
#include "security/commit_or_roll_back.hpp"
#include "security/settings_codec.hpp"

#include <caf/actor_pool.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include <map>
#include <nlohmann/json.hpp>

namespace ward::actors::security_db {

/// Checks one secret against an Argon2id hash. Runs detached: hashing takes tens of
/// milliseconds and must not hold up the actor that owns the settings. A class, not a
/// function: CAF 0.17 spawns an argument-less function actor through a null argument tuple
/// it dereferences (undefined behaviour that UBSan reports).
class hasher final : public caf::event_based_actor {
public:
  using caf::event_based_actor::event_based_actor;

  caf::behavior make_behavior() override {
    return {[](verify_atom, const std::string& hash, const std::string& secret) {
      return security::verify_secret(hash, secret);
    }};
  }
};

std::string service_text(const request_origin& origin) {
  return origin.service ? std::string(security::to_string(*origin.service)) : std::string{};
}

/// Appends to the audit trail; a trail that cannot be written is reported, never ignored.
std::optional<security_error> audit(self_pointer self, security::audit_record record) {
  if (const auto& counters = self->state.deps->counters)
    counters->count(record);
  auto appended = self->state.deps->audit->append(std::move(record));
  if (!appended)
    return security_error{security_errc::storage_failure, "audit",
                          "audit trail unavailable: " + appended.error().detail};
  if (auto anchored = self->state.deps->security_store->put(
          audit_anchor_record, std::to_string(appended->sequence) + " " + appended->hash);
      !anchored)
    return security_error{security_errc::storage_failure, "audit",
                          "audit anchor not written: " + anchored.error().detail};
  if (self->state.line_actor)
    self->send(self->state.line_actor, audit_appended_atom::value);
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

pki_facts facts_of(const security::security_settings& settings, const pki_state& pki) {
  pki_facts facts;
  facts.minimum_tls = settings.certificates.minimum_tls;
  if (settings.certificates.offer_chain && pki.record.ca &&
      pki.identity.issuer() == pki.record.ca->signing_certificate().subject())
    facts.chain_pem = pki.record.ca->chain_pem();
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
  for (const auto& retiring : pki.record.retiring_cas)
    facts.anchors_pem.push_back(retiring.to_pem().value_or(""));
  facts.retiring_cas = pki.record.retiring_cas.size();
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
  if (replicated && self->state.line_actor)
    self->send(self->state.line_actor, snapshot_of(deps, deps.time->now()));
  return std::nullopt;
}

/// Persists like `persist`, with a failure as the text its alarm or refusal carries.
std::optional<std::string> persist_or_reason(self_pointer self, transaction_writes writes) {
  if (auto failed = persist(self, writes))
    return failed->message;
  return std::nullopt;
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
  if (request.required && !principal.rights.contains(*request.required) &&
      !(request.waived_while_password_due && database.own_password_due(principal)))
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
                       : self->state.sessions->resolve(request.token, deps.database);
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

  // Work on the live objects: a refused or unpersisted change leaves nothing half-written.
  bool nothing_to_persist = request.writes == transaction_writes::nothing && !request.audited;
  security_context context{deps.database, deps.directory,      deps.pki, now, deps.random,
                           &*principal,   &self->state.sources};
  security::security_result<transaction_effect> effect = transaction_effect{};
  std::optional<security::security_database> counted;
  auto failed = security::commit_or_roll_back(
      std::tie(deps.database, deps.directory, deps.pki),
      [&]() -> std::optional<security_error> {
        effect = request.apply(context);
        if (effect)
          return std::nullopt;
        if (security::failure_counted(effect.error()))
          counted = deps.database;
        return effect.error();
      },
      [&]() -> std::optional<security_error> {
        return nothing_to_persist ? std::nullopt : persist(self, request.writes);
      });
  if (counted) {
    // Keep the counted failure (and any lock it caused); nothing else of the call stays.
    deps.database = std::move(*counted);
    (void)persist(self, transaction_writes::security_settings);
    audit(self, record_of(audit_kind::change, audit_outcome::failure, principal->user,
                          request.origin, request.action, "", effect.error().message));
    return {effect.error()};
  }
  if (failed) {
    // Listener changes made inside the call (levels, TLS material) follow the state back.
    if (self->state.reload_tls &&
        writes_any(request.writes, transaction_writes::security_settings | transaction_writes::pki))
      (void)self->state.reload_tls(deps.database.settings(), deps.pki);
    if (!effect && request.writes != transaction_writes::nothing)
      audit(self, record_of(audit_kind::change, audit_outcome::failure, principal->user,
                            request.origin, request.action, "", effect.error().message));
    return {failed};
  }
  if (nothing_to_persist)
    return {};
  auto record = record_of(effect->kind, audit_outcome::success, principal->user, request.origin,
                          request.action, effect->object, effect->detail);
  record.before = effect->before;
  record.after = effect->after;
  if (auto failed = audit(self, std::move(record)))
    return {failed};
  if (request.after_commit)
    request.after_commit(deps.database.settings(), deps.pki);
  if (self->state.line_actor &&
      writes_any(request.writes, transaction_writes::pki | transaction_writes::security_settings))
    self->send(self->state.line_actor, facts_of(deps.database.settings(), deps.pki));
  return {};
}

/// On a node hosting the CA, reissues the node identity before it expires (SPEC PKI-5),
/// persists it and reloads the listeners; audited either way.
void renew_identity_if_due(self_pointer self) {
  auto& deps = *self->state.deps;
  auto& pki_state = deps.pki;
  auto now = deps.time->now();
  if (!pki_state.record.ca || pki_state.identity.days_until_expiry(now) > identity_renewal_days)
    return;
  auto failure = security::commit_or_roll_back(
      std::tie(deps.pki),
      [&]() -> std::optional<std::string> {
        auto issued = pki_state.record.ca->issue_node_identity(
            pki_state.identity_key, pki_state.hostname, pki_state.addresses, now);
        if (!issued)
          return issued.error().detail;
        pki_state.identity = *issued;
        pki_state.record.issued.push_back(
            pki::record_of(*issued, pki::issued_purpose::node_identity));
        return std::nullopt;
      },
      [&]() -> std::optional<std::string> {
        if (auto failed = persist_or_reason(self, transaction_writes::pki))
          return failed;
        if (self->state.reload_tls)
          if (auto reloaded = self->state.reload_tls(deps.database.settings(), pki_state);
              !reloaded)
            return reloaded.error();
        return std::nullopt;
      });
  // The store may hold the new identity the listeners refused: write the old one back.
  if (failure)
    (void)persist(self, transaction_writes::pki);
  if (!failure && self->state.line_actor)
    self->send(self->state.line_actor, facts_of(deps.database.settings(), deps.pki));
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
    if (auto warning = pki::expiry_warning_for(cert, role, now))
      audit(self,
            record_of(audit_kind::alarm, audit_outcome::failure, "", request_origin{},
                      "certificate_expiring", "certificate/" + cert.subject(), warning->text));
  };
  renew_identity_if_due(self);
  warn(deps.pki.identity, "node identity");
  if (deps.pki.record.ca)
    warn(deps.pki.record.ca->signing_certificate(), "certificate authority");
  for (const auto& entry : deps.pki.record.trust.entries())
    warn(entry.cert, "trusted certificate");
}

/// Raises the alarm for a part (`object`) of replicated `version` that this replica cannot
/// read; the replica keeps what it holds.
void refuse_replication(self_pointer self, const char* object, std::uint64_t version,
                        const std::string& why) {
  audit(self,
        record_of(audit_kind::alarm, audit_outcome::failure, "", request_origin{},
                  "replication_refused", object,
                  "replicated version " + std::to_string(version) + " cannot be read: " + why));
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
    refuse_replication(self, "security_settings", record.version, decoded.error().detail);
    return deps.settings_version;
  }
  auto now = deps.time->now();
  std::optional<telephony::telephony_directory_data> directory;
  if (!record.directory.empty()) {
    auto decoded_directory = telephony::decode_directory(record.directory);
    if (!decoded_directory) {
      refuse_replication(self, "telephony_directory", record.version,
                         decoded_directory.error().detail);
      return deps.settings_version;
    }
    directory = std::move(*decoded_directory);
  }
  bool listeners_change = decoded->service_levels != deps.database.settings().service_levels ||
                          !(decoded->certificates == deps.database.settings().certificates);
  bool revocations_change = false;
  auto failed = security::commit_or_roll_back(
      std::tie(deps.database, deps.pki.record.revoked),
      [&]() -> std::optional<std::string> {
        deps.database.replace_settings(std::move(*decoded));
        for (const auto& serial : record.revoked_serials)
          revocations_change =
              deps.pki.record.revoked.emplace(serial, now).second || revocations_change;
        return std::nullopt;
      },
      [&]() -> std::optional<std::string> {
        std::vector<std::pair<std::string, std::string>> batch{
            {std::string(settings_record), security::encode_settings(deps.database.settings())},
            {std::string(settings_version_record), std::to_string(record.version)}};
        if (revocations_change) {
          auto encoded = security::encode_pki(deps.pki.record);
          if (encoded)
            batch.emplace_back(pki_record_name, std::move(*encoded));
        }
        // The directory goes first: a crash before the versioned batch leaves the old
        // version, and the record is applied again.
        if (directory)
          if (auto written = deps.config_store->put(directory_record, record.directory); !written)
            return written.error().detail;
        if (auto written = deps.security_store->put_all(batch); !written)
          return written.error().detail;
        return std::nullopt;
      });
  if (failed)
    return deps.settings_version;
  if (directory) {
    deps.directory.replace_data(std::move(*directory));
    if (deps.publish_directory)
      deps.publish_directory(deps.directory.data());
  }
  deps.settings_version = record.version;
  // A secondary relays what it holds to the nodes that dialled it (SPEC TOP-3).
  if (self->state.line_actor)
    self->send(self->state.line_actor, snapshot_of(deps, now));
  if ((listeners_change || revocations_change) && self->state.reload_tls)
    (void)self->state.reload_tls(deps.database.settings(), deps.pki);
  if ((listeners_change || revocations_change) && self->state.line_actor)
    self->send(self->state.line_actor, facts_of(deps.database.settings(), deps.pki));
  return deps.settings_version;
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
  std::optional<pki::certificate> issued;
  auto failed = security::commit_or_roll_back(
      std::tie(deps.pki),
      [&]() -> std::optional<std::string> {
        auto signed_csr =
            deps.pki.record.ca->sign_node_csr(request.csr_pem, request.addresses, deps.time->now());
        if (!signed_csr)
          return signed_csr.error().detail;
        deps.pki.record.issued.push_back(
            pki::record_of(*signed_csr, pki::issued_purpose::node_identity));
        issued = std::move(*signed_csr);
        return std::nullopt;
      },
      [&] { return persist_or_reason(self, transaction_writes::pki); });
  if (failed)
    return refuse(*failed);
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
/// Removes from `trust` the cluster CA that `current` replaced (the one that issued
/// `previous`, or one of the cluster CA's name with another key, as a node enrolling afresh
/// after Create New still holds) and every entry that CA issued, such as the line server
/// identity pinned at enrolment.
void drop_replaced_ca(pki::trust_store& trust, const pki::certificate& previous,
                      const pki::certificate& current) {
  std::vector<std::string> replaced;
  for (const auto& entry : trust.entries())
    if (!entry.is_default && entry.cert.is_ca() && !entry.cert.same_key_as(current) &&
        (previous.issued_by(entry.cert) || entry.cert.subject() == current.subject()))
      replaced.push_back(entry.cert.sha256_fingerprint());
  for (const auto& ca_fingerprint : replaced) {
    auto ca = std::ranges::find_if(trust.entries(), [&](const pki::trust_entry& entry) {
      return entry.cert.sha256_fingerprint() == ca_fingerprint;
    });
    if (ca == trust.entries().end())
      continue;
    auto old_ca = ca->cert;
    std::vector<std::string> issued;
    for (const auto& entry : trust.entries())
      if (!entry.is_default && !entry.cert.is_ca() && entry.cert.issued_by(old_ca))
        issued.push_back(entry.cert.sha256_fingerprint());
    for (const auto& fingerprint : issued)
      (void)trust.remove(fingerprint);
    (void)trust.remove(ca_fingerprint);
  }
}

transaction_reply install_enrolled_identity(self_pointer self, const install_enrolment& enrolment) {
  auto& deps = *self->state.deps;
  auto now = deps.time->now();
  auto invalid = [](std::string why) {
    return transaction_reply{security_error{security_errc::invalid_argument, "enrolment", why}};
  };
  if (deps.pki.record.ca || deps.settings_writer)
    return invalid("a node hosting the certificate authority does not enrol with another");
  auto checked = pki::check_enrolment_reply(
      {enrolment.certificate_pem, enrolment.ca_pem, enrolment.server_identity_pem},
      deps.pki.identity_key, now);
  if (!checked)
    return invalid(checked.error().detail);
  auto failed = security::commit_or_roll_back(
      std::tie(deps.pki),
      [&]() -> std::optional<security_error> {
        // Reissued under a new CA (SPEC PKI-4): the replaced CA and what it issued leave
        // the TCS, so nothing signed by it opens a line here any more.
        drop_replaced_ca(deps.pki.record.trust, deps.pki.identity, checked->ca);
        // Already present after an earlier enrolment: that is fine.
        (void)deps.pki.record.trust.add(checked->ca);
        (void)deps.pki.record.trust.add(checked->server_identity);
        deps.pki.identity = checked->identity;
        return std::nullopt;
      },
      [&] { return persist(self, transaction_writes::pki); });
  if (failed)
    return {failed};
  audit(self, record_of(audit_kind::change, audit_outcome::success, "", request_origin{},
                        "Enrolled", "identity",
                        "identity issued by " + checked->ca.subject() + ", serial " +
                            checked->identity.serial_hex()));
  if (self->state.reload_tls)
    (void)self->state.reload_tls(deps.database.settings(), deps.pki);
  if (self->state.line_actor)
    self->send(self->state.line_actor, facts_of(deps.database.settings(), deps.pki));
  return {};
}

/// Primary: drops the replaced CAs once every node was reissued (SPEC PKI-4).
void retire_replaced_authorities(self_pointer self) {
  auto& deps = *self->state.deps;
  if (!deps.settings_writer || deps.pki.record.retiring_cas.empty())
    return;
  std::string retired;
  for (const auto& cert : deps.pki.record.retiring_cas)
    retired += (retired.empty() ? "" : ", ") + cert.sha256_fingerprint();
  auto failed = security::commit_or_roll_back(
      std::tie(deps.pki),
      [&]() -> std::optional<security_error> {
        deps.pki.record.retiring_cas.clear();
        return std::nullopt;
      },
      [&] { return persist(self, transaction_writes::pki); });
  if (failed) {
    audit(self, record_of(audit_kind::alarm, audit_outcome::failure, "", request_origin{},
                          "ca_retirement_failed", "certificate_authority", failed->message));
    return;
  }
  audit(self, record_of(audit_kind::change, audit_outcome::success, "", request_origin{},
                        "RetireReplacedCa", "certificate_authority",
                        "every enrolled node holds an identity of the current CA; no longer "
                        "trusted on lines: " +
                            retired));
  if (self->state.reload_tls)
    (void)self->state.reload_tls(deps.database.settings(), deps.pki);
  if (self->state.line_actor)
    self->send(self->state.line_actor, facts_of(deps.database.settings(), deps.pki));
}

caf::behavior security_behavior(self_pointer self, security_actor_deps deps) {
  self->state.deps.emplace(std::move(deps));
  self->state.sessions.emplace(*self->state.deps->time, self->state.deps->random, session_lifetime);
  auto& system = self->system();
  self->state.hashers = caf::actor_pool::make(
      system.dummy_execution_unit(), 2, [&system] { return system.spawn<hasher, caf::detached>(); },
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
      [self](login_request& request) { return login(self, std::move(request)); },
      [self](reloader_message& message) { self->state.reload_tls = std::move(message.reload); },
      [self](cluster_link& link) {
        self->state.line_actor = link.line_actor;
        auto& deps = *self->state.deps;
        self->send(link.line_actor, facts_of(deps.database.settings(), deps.pki));
        self->send(link.line_actor, snapshot_of(deps, deps.time->now()));
      },
      [self](apply_replicated& record) { return apply_replicated_settings(self, record); },
      [self](login_report& report) { count_remote_login(self, report); },
      [self](fraud_trips& report) { handle_fraud_trips(self, report); },
      [self](enrol_sign& request) { return sign_enrolment(self, request); },
      [self](install_enrolment& enrolment) { return install_enrolled_identity(self, enrolment); },
      [self](retire_replaced_cas&) { retire_replaced_authorities(self); },
      [self](auto_create_extension& request) {
        auto& deps = *self->state.deps;
        auto now = deps.time->now();
        // Only the primary writes the directory; on the other nodes the binding stands
        // until it expires, and the extension appears once made on the primary.
        if (!deps.settings_writer || deps.directory.data().extensions.contains(request.number) ||
            !telephony::auto_create_active(deps.directory.data().policy, now))
          return;
        telephony::extension_fields fields;
        fields.force_authorization = false;
        bool refused = false;
        auto failed = security::commit_or_roll_back(
            std::tie(deps.directory),
            [&]() -> std::optional<security_error> {
              auto created =
                  deps.directory.create_extension(request.number, fields, deps.database.settings());
              refused = !created;
              return created ? std::nullopt : std::optional(created.error());
            },
            [&] { return persist(self, transaction_writes::directory); });
        request_origin origin{request.source, security::service_name::system_status};
        if (refused)
          audit(self,
                record_of(audit_kind::change, audit_outcome::failure, "sip-registrar", origin,
                          "AutoCreateExtension", "extension/" + request.number, failed->message));
        if (failed)
          return;
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
        // Capped per address, not per address and port: every new connection has a new
        // source port, so a cap per port would cap nothing and grow the map without bound.
        auto split = split_host_port(report.peer_address);
        auto& raised = state.tls_alarms[split ? std::string(split->host) : report.peer_address];
        if (++raised > tls_alarms_per_address_per_minute)
          return;
        auto reason = report.cause;
        if (raised == tls_alarms_per_address_per_minute)
          reason += " (further TLS failures from this address in this minute are not recorded)";
        request_origin origin{report.peer_address, security::parse_service_name(report.service)};
        audit(self, record_of(audit_kind::alarm, audit_outcome::failure, "", origin,
                              "tls_handshake_failed", "service/" + report.service, reason));
      },
      [self](logout_request& request) { return logout(self, request); },
      [self](user_login_request& request) { return user_login(self, request); },
  };
}

} // namespace ward::actors::security_db

namespace ward::actors {

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
  return system.spawn(security_db::security_behavior, std::move(deps));
}

} // namespace ward::actors
