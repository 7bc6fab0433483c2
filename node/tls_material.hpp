#pragma once

#include "actors/security_db_actor.hpp"
#include "core/clock.hpp"
#include "pki/tls_policy.hpp"

namespace ward::node {

/// Grades a received chain (leaf first, possibly empty) from `peer_address` ("ip:port"):
/// why it is refused, or nothing.
using received_certificate_check = pki::client_certificate_check_fn;

/// The host part of "ip:port" or "[v6]:port", unbracketed; the text itself otherwise.
std::string peer_host(const std::string& peer_address);

/// The node identity as a TLS server presents it, with the CA chain when "offer ID
/// certificate chain" is on (SPEC PKI-6).
pki::tls_server_material identity_material(const security::security_settings& settings,
                                           const actors::pki_state& pki);

/// What the management listeners serve and demand (SPEC PKI-6, PKI-8): the node identity,
/// the chain when "offer ID certificate chain" is on, the TCS (and the node's own CA) as
/// anchors for client certificates, and the management check level applied to them.
pki::tls_server_material management_material(const security::security_settings& settings,
                                             const actors::pki_state& pki, const clock& time);

/// What SIP over TLS serves and asks of phones and trunks (SPEC PKI-6, PKI-8 telephony
/// checks): the node identity and chain as for management, a certificate requested whenever
/// the telephony check level is above None and graded at that level, required at High.
pki::tls_server_material telephony_material(const security::security_settings& settings,
                                            const actors::pki_state& pki, const clock& time);

/// Whether `cert` names `hostname` and every one of `addresses` (SPEC PKI-2).
bool names_match(const pki::certificate& cert, const std::string& hostname,
                 const std::vector<std::string>& addresses);

/// Whether `cert` was signed by `issuer`.
bool issued_by(const pki::certificate& cert, const pki::certificate& issuer);

} // namespace ward::node
