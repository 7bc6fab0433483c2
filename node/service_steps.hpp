#pragma once

#include "actors/security_db_actor.hpp"
#include "core/clock.hpp"
#include "pki/tls_policy.hpp"
#include "security/security_settings.hpp"

#include <openssl/types.h>

#include <expected>
#include <memory>
#include <string>
#include <utility>

namespace ward::node {

/// A TLS server context and the check of what its clients present.
using tls_service = std::pair<std::shared_ptr<SSL_CTX>, pki::client_certificate_check_fn>;

/// SIP over TLS (SPEC SIP-1): the node identity under the TLS settings every listener
/// follows (TLS-1 minimum version, PKI-6 chain; the management identity serves while no
/// telephony identity is set), phones and trunks graded at the telephony check level.
std::expected<tls_service, std::string> sip_tls(const security::security_settings& settings,
                                                const actors::pki_state& pki, const clock& time);

/// The syslog receiver's TLS (SPEC TOP-2, MON-2): the node identity under the TLS settings
/// every listener follows; devices are asked for a certificate and graded at the
/// management check level, which at High refuses a device without one.
std::expected<tls_service, std::string>
syslog_intake_tls(const security::security_settings& settings, const actors::pki_state& pki,
                  const clock& time);

} // namespace ward::node
