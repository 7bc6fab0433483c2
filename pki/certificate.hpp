#pragma once

#include "pki/error.hpp"
#include "pki/private_key.hpp"

#include <openssl/types.h>

#include <chrono>
#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ward::pki {

using time_point = std::chrono::system_clock::time_point;

/// An X.509 certificate, immutable once built or parsed.
class certificate {
public:
  static std::expected<certificate, error> from_pem(std::string_view pem);
  static std::expected<certificate, error> from_der(std::string_view der);

  std::expected<std::string, error> to_pem() const;
  std::expected<std::string, error> to_der() const;

  /// The subject's common name, empty when it has none.
  std::string subject_common_name() const;
  /// The subject and issuer as one-line RFC 2253 strings.
  std::string subject() const;
  std::string issuer() const;
  /// The serial number in upper-case hex without separators.
  std::string serial_hex() const;
  time_point not_before() const;
  time_point not_after() const;
  /// Whole days from `now` to expiry; negative once expired.
  std::int64_t days_until_expiry(time_point now) const;
  bool is_valid_at(time_point now) const;
  /// True when issuer equals subject and the certificate's own key verifies its signature.
  bool is_self_signed() const;
  /// True when the certificate carries basic constraints CA:TRUE.
  bool is_ca() const;
  int public_key_bits() const;
  /// SHA-256 over the DER encoding, upper-case hex pairs joined by ':'.
  std::string sha256_fingerprint() const;
  /// Whether `issuer`'s key signed this certificate (and its names and key identifiers
  /// fit): tells two CAs with the same name apart.
  bool issued_by(const certificate& issuer) const;
  /// The first 8 bytes of the authority key identifier, upper-case hex pairs joined by
  /// ':'; empty without one. Names the issuing CA's key where its name may repeat.
  std::string issuer_key_id() const;
  /// The issuer's name followed by " [key <issuer_key_id>]" when there is one.
  std::string issuer_label() const;
  /// Whether `other` carries the same public key.
  bool same_key_as(const certificate& other) const;
  /// Whether `key` is the private half of this certificate's public key.
  bool matches(const private_key& key) const;

  X509* native() const { return cert_.get(); }
  explicit certificate(std::shared_ptr<X509> cert) : cert_(std::move(cert)) {}

private:
  std::shared_ptr<X509> cert_;
};

} // namespace ward::pki
