#pragma once

#include "pki/certificate.hpp"
#include "pki/trust_store.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ward::pki {

/// Received-certificate check levels (SPEC PKI-8, guide "Certificate Check Controls"),
/// configured separately for management interfaces and for telephony endpoints.
enum class check_level { none, low, medium, high, medium_remote, high_remote };

std::string_view to_string(check_level level);
std::optional<check_level> parse_check_level(std::string_view text);

/// The check a received certificate failed; each names the alarm raised for it.
enum class check_failure {
  none,
  /// No certificate, or one whose content cannot be examined.
  malformed,
  not_yet_valid,
  expired,
  /// Below 1024 bits (Low) or 2048 bits (High), or the equivalent strength for non-RSA keys.
  key_too_small,
  /// No chain from the certificate to a trust anchor in the TCS.
  untrusted_chain,
  no_key_usage,
  wrong_extended_key_usage,
  unknown_critical_extension,
  self_signed,
  /// One of our own certificates presented back to us.
  reflected,
  /// High: this exact certificate is not in the TCS.
  not_pinned,
  name_mismatch,
  /// Revoked by our CA (SPEC PKI-12).
  revoked,
};

std::string_view to_string(check_failure failure);

/// What the certificate is being used for, matched against its extended key usage.
enum class certificate_purpose { tls_server, tls_client };

/// How the *_remote levels read the expected name: as a host name or address (RFC 6125,
/// SAN DNS/IP, CN without SAN) or as a SIP domain (RFC 5922: `sip:` URI SAN first, no
/// wildcards).
enum class name_rule { host, sip_domain };

struct check_context {
  /// The instant the certificates must be valid at.
  time_point now;
  certificate_purpose purpose;
  /// Trust anchors for Medium and above; the pinned certificates for High.
  const trust_store* trust = nullptr;
  /// SHA-256 fingerprints of our own certificates (any case, colons optional), for the
  /// reflection check.
  std::vector<std::string> own_fingerprints;
  /// The host name or IP literal the connection was made to, for the *_remote levels.
  std::string expected_name;
  /// Serials revoked by our CA: hex, any case, colons and leading zeros ignored.
  std::vector<std::string> revoked_serials;
  name_rule names = name_rule::host;
};

struct check_result {
  check_failure failure = check_failure::none;
  /// What exactly failed, for the alarm text; empty on success.
  std::string detail;
  bool ok() const { return failure == check_failure::none; }
};

/// Grades `chain` (leaf first, then any intermediates the peer sent) at `level`:
/// - none: the leaf is in date;
/// - low: none + public key of at least 1024 bits;
/// - medium: low + a chain to a trust anchor of the TCS (every certificate of the chain in
///   date, the peer's intermediates used only as untrusted links) + key usage present +
///   extended key usage, if present, allows the purpose + no unknown critical extension +
///   no certificate of the chain revoked;
/// - high: medium + key of at least 2048 bits + not self-signed + not reflected (not one
///   of our own certificates) + the exact leaf in the TCS (pinning);
/// - medium_remote / high_remote: medium / high + `expected_name` matches a SAN DNS or IP
///   entry (the subject CN only when the certificate has no SAN at all); with
///   name_rule::sip_domain, one of the certificate's SIP domain identities (RFC 5922).
/// Returns the first failed check in that order.
check_result check_received_certificate(const std::vector<certificate>& chain, check_level level,
                                        const check_context& context);

} // namespace ward::pki
