#pragma once

#include "pki/certificate.hpp"
#include "pki/error.hpp"

#include <openssl/types.h>

#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ward::pki {

/// How a service may be reached (SPEC SVC-1). The order is the guide's, from closed to
/// strictest; it carries no meaning beyond that.
enum class service_security_level {
  disabled,
  unsecure_only,
  unsecure_and_secure,
  secure_low,
  secure_medium,
  secure_high,
};

/// The configuration spelling: "disabled", "unsecure_only", "unsecure_and_secure",
/// "secure_low", "secure_medium", "secure_high".
std::string_view to_string(service_security_level level);
/// The inverse of to_string; exact spelling only, so a typo never silently picks a level.
std::optional<service_security_level> parse_service_security_level(std::string_view text);

bool offers_plaintext(service_security_level level);
bool offers_tls(service_security_level level);
bool requires_client_certificate(service_security_level level);

/// What a TLS port enforces (SPEC SVC-4). Unsecure + Secure offers TLS at low.
enum class tls_strength { low, medium, high };

/// The strength of the level's TLS port; nullopt when the level has no TLS port.
std::optional<tls_strength> tls_strength_of(service_security_level level);

/// The "minimum TLS version" setting (SPEC TLS-1). Nothing below 1.2 is ever offered.
enum class tls_min_version { tls1_2, tls1_3 };

/// OpenSSL cipher strings of cipher set A (GCM) and set B (CBC), from one table that
/// follows the guide's chapter 29. The guide's static-ECDH suites are absent: OpenSSL 3
/// has none, so listing them would only hide that they can never be negotiated.
std::string_view cipher_set_a();
std::string_view cipher_set_b();

/// The TLS 1.2 cipher list a server offers at `strength` (SPEC TLS-2): low = A + B + the
/// RSA key-exchange AES-CBC suites old clients still offer; medium = A + B; high = the
/// AES-256-GCM suites of A only.
std::string_view cipher_list(tls_strength strength);
/// The TLS 1.3 suites at `strength`: all AEAD suites, except TLS_AES_256_GCM_SHA384 alone
/// at high.
std::string_view tls13_ciphersuites(tls_strength strength);

/// Grades a client certificate chain (leaf first) received from `peer_address` ("ip:port"
/// or "[v6]:port"): why it is refused, or nothing to accept it.
using client_certificate_check_fn = std::function<std::optional<std::string>(
    const std::vector<certificate>& chain, const std::string& peer_address)>;

/// What a TLS server presents and whom it trusts for client certificates.
struct tls_server_material {
  std::string key_pem;
  std::string certificate_pem;
  /// Intermediate certificates sent after the leaf ("offer ID certificate chain",
  /// SPEC PKI-6); may be empty.
  std::string chain_pem;
  /// Trust anchors for client certificates. At high without request_client_certificate
  /// they are required and OpenSSL verifies the client's chain against them; otherwise
  /// they are optional and only named in the CertificateRequest.
  std::vector<std::string> trusted_client_ca_pems;
  /// Grades a client certificate after a successful handshake (SPEC PKI-8); the admin
  /// listeners call it whenever the client sent one.
  client_certificate_check_fn client_certificate_check;
  /// Asks every client for a certificate (a CertificateRequest at any strength) and lets
  /// OpenSSL accept whatever chain is sent: the application grades it
  /// (client_certificate_check, or its own check on the received chain). Used by ports
  /// whose peers are graded at Ward's own check levels, such as node-to-node lines. Below
  /// high a client may send none; at high the handshake refuses a client that sends none
  /// (the chain is still graded by the application, not OpenSSL), and
  /// trusted_client_ca_pems may be empty.
  bool request_client_certificate = false;
};

/// Builds a server SSL_CTX for `strength`: minimum version, TLS 1.2 cipher list, TLS 1.3
/// suites, server cipher preference, no renegotiation or compression, and at high a
/// demanded client certificate verified against `trusted_client_ca_pems` (unless
/// `request_client_certificate` asks for an optional, unverified one instead). Refuses bad
/// material with a typed error (wrong_format, key_mismatch, invalid_argument) instead of
/// producing a context that fails every handshake later.
std::expected<std::shared_ptr<SSL_CTX>, error>
make_server_context(tls_strength strength, tls_min_version min_version,
                    const tls_server_material& material);

/// What a TLS client presents. All empty: no client certificate is offered, and a server
/// that asks for one gets an empty Certificate message.
struct tls_client_material {
  std::string key_pem;
  std::string certificate_pem;
  /// Intermediate certificates sent after the leaf; may be empty.
  std::string chain_pem;
};

/// Builds a client SSL_CTX for `strength` with the same TLS 1.2 cipher list, TLS 1.3 suites
/// and security level as make_server_context, the same minimum version, and no
/// renegotiation or compression.
///
/// OpenSSL's verification of the server certificate is switched off on purpose
/// (SSL_VERIFY_NONE): a handshake succeeds whatever chain the server sends. Ward's check
/// levels (SPEC PKI-8: none, low, medium, high with pinning, *_remote with name matching)
/// are not OpenSSL's, so the caller MUST grade the received chain itself, with
/// pki::check_received_certificate, before trusting the connection. No host name is set
/// either; *_remote levels compare the name in that check.
///
/// Refuses bad material with a typed error: invalid_argument for a key without a
/// certificate (or the reverse) or a chain without a certificate, wrong_format for
/// unreadable PEM, key_mismatch for a key that does not belong to the certificate.
std::expected<std::shared_ptr<SSL_CTX>, error>
make_client_context(tls_strength strength, tls_min_version min_version,
                    const tls_client_material& material);

} // namespace ward::pki
