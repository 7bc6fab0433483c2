#pragma once

#include "actors/security_db_actor.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"
#include "node/config.hpp"
#include "pki/identity_store.hpp"
#include "security/audit_log.hpp"
#include "security/sealed_store.hpp"
#include "security/security_database.hpp"
#include "telephony/directory.hpp"

#include <expected>
#include <filesystem>
#include <memory>
#include <string>

namespace ward::node {

/// What the stores held at start, handed to the security actor once it is spawned.
struct stored_state {
  security::security_database database;
  telephony::telephony_directory directory;
  actors::pki_state pki;
};

/// Appends to the audit trail and seals the new end as its anchor (SPEC MON-1), as the
/// security actor does for every record it writes.
std::expected<security::audit_record, security::audit_error>
append_anchored(security::audit_log& audit, security::sealed_store& store,
                security::audit_record record);

/// Checks, before anything is appended, that the trail still reaches the anchor sealed
/// when its newest record was written; a trail cut short while the node was down raises
/// an alarm record (SPEC MON-1).
void check_audit_anchor(security::audit_log& audit_trail, security::sealed_store& security_store);

/// Loads the security settings, creating the factory defaults at first start and bringing
/// an existing store up to this release (SPEC SEC-3, SEC-8).
std::expected<security::security_database, std::string> load_security(security::sealed_store& store,
                                                                      security::audit_log& audit,
                                                                      clock::time_point now,
                                                                      const random_source& random);

/// Loads the telephony users and extensions; empty at first start.
std::expected<telephony::telephony_directory, std::string>
load_directory(security::sealed_store& store, const node_config& config);

/// The certificate state at start (SPEC PKI-1, PKI-2, PKI-7): the CA on a primary, created
/// at first start; the TCS with its drop directories processed; the node identity issued
/// by the CA when it is not already (or no longer names the node).
std::expected<actors::pki_state, std::string>
bootstrap_pki(const node_config& config, security::sealed_store& store,
              const pki::node_identity& identity, const security::security_settings& settings,
              security::audit_log& audit, clock::time_point now, const random_source& random);

/// Reads a secret from a file only its owner may read; trailing newlines are not part of it.
std::expected<std::string, std::string> read_secret_file(const std::filesystem::path& path);

/// Opens a store sealed under the node key; null with `error` set when it cannot.
std::shared_ptr<security::sealed_store> open_sealed(const std::filesystem::path& directory,
                                                    const security::node_key& key,
                                                    const random_source& random,
                                                    std::string& error);

} // namespace ward::node
