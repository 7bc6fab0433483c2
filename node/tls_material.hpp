#pragma once

#include "actors/security_db_actor.hpp"
#include "core/clock.hpp"
#include "pki/tls_policy.hpp"

namespace ward::node {

/// What the management listeners serve and demand (SPEC PKI-6, PKI-8): the node identity,
/// the chain when "offer ID certificate chain" is on, the TCS (and the node's own CA) as
/// anchors for client certificates, and the management check level applied to them.
pki::tls_server_material management_material(const security::security_settings& settings,
                                             const actors::pki_state& pki, const clock& time);

/// Whether `cert` names `hostname` and every one of `addresses` (SPEC PKI-2).
bool names_match(const pki::certificate& cert, const std::string& hostname,
                 const std::vector<std::string>& addresses);

/// Whether `cert` was signed by `issuer`.
bool issued_by(const pki::certificate& cert, const pki::certificate& issuer);

} // namespace ward::node
