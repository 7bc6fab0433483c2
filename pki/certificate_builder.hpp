#pragma once

#include "core/random.hpp"
#include "pki/certificate.hpp"
#include "pki/error.hpp"
#include "pki/private_key.hpp"

#include <expected>
#include <string>
#include <utility>
#include <vector>

namespace ward::pki {

/// Digest used to sign a certificate. SHA-1 exists only for legacy devices (SPEC PKI-3).
enum class signature_hash { sha1, sha224, sha256, sha384, sha512 };

/// Assembles an X.509 v3 certificate field by field and signs it. The one place where
/// Ward builds certificates: the node's self-signed identity now, the CA's issuance later.
class certificate_builder {
public:
  /// Adds a subject attribute, e.g. {"CN", "ward-root-host"} or {"O", "Example"}.
  certificate_builder& subject_attribute(std::string field, std::string value);
  certificate_builder& validity(time_point not_before, time_point not_after);
  /// A random positive serial of `bytes` bytes (1–20; RFC 5280 allows at most 20 octets).
  certificate_builder& random_serial(const random_source& random, int bytes = 20);
  /// Adds an extension in OpenSSL's configuration syntax, e.g.
  /// (NID_basic_constraints, "critical,CA:FALSE"). Subject/authority key identifiers use
  /// "hash" and "keyid:always".
  certificate_builder& extension(int nid, std::string value);
  certificate_builder& hash(signature_hash digest);

  /// Signs a self-signed certificate for `key`.
  std::expected<certificate, error> self_sign(const private_key& key) const;

private:
  std::vector<std::pair<std::string, std::string>> subject_;
  time_point not_before_{};
  time_point not_after_{};
  std::vector<unsigned char> serial_;
  std::string serial_error_;
  std::vector<std::pair<int, std::string>> extensions_;
  signature_hash hash_ = signature_hash::sha256;
};

/// Validity of the self-signed identity a node makes for itself (SPEC PKI-5: 2 years).
inline constexpr auto self_signed_identity_validity = std::chrono::days(2 * 365);

/// The self-signed identity a node creates at first start or when its identity is lost
/// (SPEC PKI-5, PKI-11): CN = hostname, 2 years, end entity, no SAN and no EKU.
std::expected<certificate, error> make_self_signed_identity(const private_key& key,
                                                            const std::string& hostname,
                                                            time_point now,
                                                            const random_source& random);

} // namespace ward::pki
