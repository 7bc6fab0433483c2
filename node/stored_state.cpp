#include "node/stored_state.hpp"

#include "node/logging.hpp"
#include "node/tls_material.hpp"
#include "pki/identity_store.hpp"
#include "security/settings_codec.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace ward::node {

/// Appends to the audit trail and seals the new end as its anchor (SPEC MON-1), as the
/// security actor does for every record it writes.
std::expected<security::audit_record, security::audit_error>
append_anchored(security::audit_log& audit, security::sealed_store& store,
                security::audit_record record) {
  auto appended = audit.append(std::move(record));
  if (appended)
    if (auto anchored = store.put(actors::audit_anchor_record,
                                  std::to_string(appended->sequence) + " " + appended->hash);
        !anchored)
      return std::unexpected(
          security::audit_error{security::audit_errc::io_error, anchored.error().detail});
  return appended;
}

/// Loads the security settings, creating the factory defaults at first start and bringing
/// an existing store up to this release (SPEC SEC-3, SEC-8).
std::expected<security::security_database, std::string> load_security(security::sealed_store& store,
                                                                      security::audit_log& audit,
                                                                      clock::time_point now,
                                                                      const random_source& random) {
  auto cost = security::production_argon2_cost;
  auto stored = store.get(actors::settings_record);
  if (!stored)
    return std::unexpected(stored.error().detail);
  if (!*stored) {
    auto defaults = security::security_database::factory_defaults(cost, now, random);
    if (!defaults)
      return std::unexpected(defaults.error().message);
    security::security_database database(std::move(*defaults), cost);
    if (auto written =
            store.put(actors::settings_record, security::encode_settings(database.settings()));
        !written)
      return std::unexpected(written.error().detail);
    security::audit_record record;
    record.kind = security::audit_kind::security_reset;
    record.action = "FirstStart";
    record.object = "security_settings";
    record.reason = "factory defaults created";
    if (auto appended = append_anchored(audit, store, record); !appended)
      return std::unexpected(appended.error().detail);
    return database;
  }
  auto settings = security::decode_settings(**stored);
  if (!settings)
    return std::unexpected(settings.error().detail);
  security::security_database database(std::move(*settings), cost);
  if (database.apply_release_defaults(now, random))
    if (auto written =
            store.put(actors::settings_record, security::encode_settings(database.settings()));
        !written)
      return std::unexpected(written.error().detail);
  return database;
}

std::expected<telephony::telephony_directory, std::string>
load_directory(security::sealed_store& store, const node_config& config) {
  auto stored = store.get(actors::directory_record);
  if (!stored)
    return std::unexpected(stored.error().detail);
  telephony::telephony_directory_data data;
  if (*stored) {
    auto decoded = telephony::decode_directory(**stored);
    if (!decoded)
      return std::unexpected(decoded.error().detail);
    data = std::move(*decoded);
  }
  return telephony::telephony_directory(std::move(data), config.sip_realm,
                                        security::production_argon2_cost);
}

/// The certificate state at start (SPEC PKI-1, PKI-2, PKI-7): the CA on a primary, created
/// at first start; the TCS with its drop directories processed; the node identity issued
/// by the CA when it is not already (or no longer names the node).
std::expected<actors::pki_state, std::string>
bootstrap_pki(const node_config& config, security::sealed_store& store,
              const pki::node_identity& identity, const security::security_settings& settings,
              security::audit_log& audit, clock::time_point now, const random_source& random) {
  auto pki_log = logger("pki");
  auto stored = store.get(actors::pki_record_name);
  if (!stored)
    return std::unexpected(stored.error().detail);
  pki::organisation fields{config.ca_organization, config.ca_organizational_unit,
                           config.ca_locality,     config.ca_state,
                           config.ca_country,      config.ca_email};
  actors::pki_state state{
      security::pki_record{}, identity.key, identity.cert, config.data_dir / "certificates",
      config.hostname,        {},           fields};
  if (config.listen_address != "0.0.0.0" && config.listen_address != "::")
    state.addresses.push_back(config.listen_address);
  for (const auto& address : config.identity_addresses)
    if (std::find(state.addresses.begin(), state.addresses.end(), address) == state.addresses.end())
      state.addresses.push_back(address);

  bool changed = !*stored;
  if (*stored) {
    auto decoded = security::decode_pki(**stored);
    if (!decoded)
      return std::unexpected(decoded.error().detail);
    state.record = std::move(*decoded);
  }
  if (config.role == node_role::primary && !state.record.ca) {
    auto ca = pki::certificate_authority::create_root(config.hostname, fields, now, random);
    if (!ca)
      return std::unexpected("cannot create the certificate authority: " + ca.error().detail);
    pki_log->info("event=ca_created subject={} serial={}",
                  log_value(ca->signing_certificate().subject()),
                  ca->signing_certificate().serial_hex());
    security::audit_record record;
    record.kind = security::audit_kind::change;
    record.action = "CreateCa";
    record.object = "certificate/" + ca->signing_certificate().subject();
    record.reason = "certificate authority created at first start";
    (void)append_anchored(audit, store, record);
    state.record.ca = std::move(*ca);
    changed = true;
  }

  auto tcs_dir = config.data_dir / "certificates" / "tcs";
  std::error_code ec;
  std::filesystem::create_directories(tcs_dir / "add", ec);
  std::filesystem::create_directories(tcs_dir / "delete", ec);
  auto report = state.record.trust.process_drop_directories(tcs_dir / "add", tcs_dir / "delete");
  // Changes at start are administrative changes too (SPEC MON-1): a file dropped into the
  // add directory adds a trust anchor.
  auto audit_start_change = [&](std::string action, std::string object, std::string reason) {
    security::audit_record record;
    record.kind = security::audit_kind::change;
    record.action = std::move(action);
    record.object = std::move(object);
    record.reason = std::move(reason);
    (void)append_anchored(audit, store, record);
  };
  for (const auto& file : report.added) {
    pki_log->info("event=tcs_added source={}", log_value(file));
    audit_start_change("AddTcs", "tcs", "added from drop directory: " + file);
  }
  for (const auto& file : report.removed) {
    pki_log->info("event=tcs_removed source={}", log_value(file));
    audit_start_change("RemoveTcs", "tcs", "removed by drop directory: " + file);
  }
  for (const auto& [file, why] : report.rejected)
    pki_log->warn("event=tcs_drop_rejected file={} reason={}", log_value(file), log_value(why));
  changed = changed || !report.added.empty() || !report.removed.empty();

  auto& ca = state.record.ca;
  bool ours = ca && issued_by(state.identity, ca->signing_certificate());
  bool names_ok = names_match(state.identity, state.hostname, state.addresses);
  bool due = state.identity.days_until_expiry(now) <= actors::identity_renewal_days;
  if (ca && (!ours || due || (!names_ok && settings.certificates.renew_identity_automatically))) {
    auto issued = ca->issue_node_identity(state.identity_key, state.hostname, state.addresses, now);
    if (!issued)
      return std::unexpected("cannot issue the node identity: " + issued.error().detail);
    pki_log->info("event=identity_issued subject={} serial={} reason={}",
                  log_value(issued->subject()), issued->serial_hex(),
                  !ours ? "not issued by this node's CA"
                  : due ? "renewal before expiry"
                        : "hostname or addresses changed");
    audit_start_change("RenewIdentity", "identity",
                       "issued at start, serial " + issued->serial_hex());
    state.identity = *issued;
    state.record.issued.push_back(pki::record_of(*issued, pki::issued_purpose::node_identity));
    changed = true;
  }
  if (changed) {
    auto encoded = security::encode_pki(state.record);
    if (!encoded)
      return std::unexpected(encoded.error().detail);
    if (auto written = store.put(actors::pki_record_name, *encoded); !written)
      return std::unexpected(written.error().detail);
    if (auto written = pki::write_file_atomically(state.identity_dir / "identity.pem",
                                                  state.identity.to_pem().value_or(""), 0644);
        !written)
      return std::unexpected(written.error().detail);
  }
  if (ca)
    (void)pki::write_file_atomically(state.identity_dir / "root-ca.pem",
                                     ca->signing_certificate().to_pem().value_or(""), 0644);
  return state;
}

/// Before anything is appended: the trail must still reach the anchor sealed when its
/// newest record was written; records cut from its end while the node was down show here.
void check_audit_anchor(security::audit_log& audit_trail, security::sealed_store& security_store) {
  if (auto anchor = security_store.get(actors::audit_anchor_record); anchor && *anchor) {
    std::istringstream fields(**anchor);
    std::uint64_t sequence = 0;
    std::string hash;
    fields >> sequence >> hash;
    if (audit_trail.last_sequence() != sequence || audit_trail.last_hash() != hash) {
      logger("node")->error("event=audit_trail_truncated anchored_sequence={} trail_sequence={}",
                            sequence, audit_trail.last_sequence());
      security::audit_record alarm;
      alarm.kind = security::audit_kind::alarm;
      alarm.outcome = security::audit_outcome::failure;
      alarm.action = "audit_trail_truncated";
      alarm.object = "audit";
      alarm.reason = "the trail ends at record " + std::to_string(audit_trail.last_sequence()) +
                     " but record " + std::to_string(sequence) +
                     " was sealed: records were removed or the trail was replaced";
      (void)append_anchored(audit_trail, security_store, alarm);
    }
  }
}

/// Reads a secret from a file only its owner may read; trailing newlines are not part of it.
std::expected<std::string, std::string> read_secret_file(const std::filesystem::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0)
    return std::unexpected("cannot read " + path.string());
  if ((info.st_mode & 077) != 0)
    return std::unexpected(path.string() +
                           " must not be readable by group or others (chmod 600 it)");
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  auto secret = text.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r'))
    secret.pop_back();
  // The proofs let an active attacker test guesses offline, so the secret must be one no
  // dictionary holds: a generated one (e.g. openssl rand -base64 24).
  if (secret.size() < 16)
    return std::unexpected(path.string() +
                           " must hold a line password of at least 16 characters; generate one "
                           "(openssl rand -base64 24)");
  return secret;
}

std::shared_ptr<security::sealed_store> open_sealed(const std::filesystem::path& directory,
                                                    const security::node_key& key,
                                                    const random_source& random,
                                                    std::string& error) {
  auto store = storage::kv_store::open(directory);
  if (!store) {
    error = store.error().detail;
    return nullptr;
  }
  return std::make_shared<security::sealed_store>(std::move(*store), key, random);
}

} // namespace ward::node
