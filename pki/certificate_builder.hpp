#pragma once

#include "core/random.hpp"
#include "pki/certificate.hpp"
#include "pki/error.hpp"
#include "pki/private_key.hpp"

#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ward::pki {

/// Digest used to sign a certificate. SHA-1 exists only for legacy devices (SPEC PKI-3).
enum class signature_hash { sha1, sha224, sha256, sha384, sha512 };

/// The public half of a key pair: what a CSR carries, or what a private key implies. It
/// never holds private material, so it can be handed to whoever issues a certificate.
class public_key {
public:
  /// The public half of `key`. Implicit, so a private key serves wherever a public one is
  /// asked for. Only the public parameters are copied; should that copy fail (out of
  /// memory), the result is empty and every use of it reports an error.
  public_key(const private_key& key);
  /// Takes a key already known to be public (e.g. from a verified CSR).
  explicit public_key(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {}

  /// Key size in bits; 0 for an empty key.
  int bits() const;
  bool is_rsa() const;
  /// The SubjectPublicKeyInfo as PEM ("-----BEGIN PUBLIC KEY-----").
  std::expected<std::string, error> to_pem() const;
  EVP_PKEY* native() const { return key_.get(); }

private:
  std::shared_ptr<EVP_PKEY> key_;
};

/// One subjectAltName entry (SPEC PKI-2, PKI-3).
struct subject_alt_name {
  enum class kind { dns, uri, ip, email } type;
  std::string value;

  bool operator==(const subject_alt_name&) const = default;
};

/// Parses the OpenSSL-style spelling "DNS:pbx.example.com", "IP:192.0.2.1", "IP:::1",
/// "URI:sip:example.com" or "email:a@example.com" (type case-insensitive). The value must
/// fit its type: an LDH host name (optionally "*." first), an IPv4/IPv6 address, or
/// printable ASCII without spaces; anything else is errc::invalid_argument.
std::expected<subject_alt_name, error> parse_subject_alt_name(std::string_view text);
/// The spelling parse_subject_alt_name reads, e.g. "DNS:pbx.example.com".
std::string to_string(const subject_alt_name& name);
/// The same check parse_subject_alt_name applies to the value of an entry built directly.
std::expected<void, error> validate(const subject_alt_name& name);

/// Assembles an X.509 v3 certificate field by field and signs it. The one place where
/// Ward builds certificates: the node's self-signed identity and everything the CA issues.
class certificate_builder {
public:
  /// Adds a subject attribute, e.g. {"CN", "ward-root-host"} or {"O", "Example"}.
  certificate_builder& subject_attribute(std::string field, std::string value);
  certificate_builder& validity(time_point not_before, time_point not_after);
  /// A random positive serial of `bytes` bytes (1–20; RFC 5280 allows at most 20 octets).
  certificate_builder& random_serial(const random_source& random, int bytes = 20);
  /// An explicit serial in hex, e.g. the CA's next sequential serial. It must be positive
  /// and fit the 20 octets RFC 5280 allows (at most 159 bits once DER adds a sign bit).
  certificate_builder& serial_hex(std::string_view hex);
  /// Adds an extension in OpenSSL's configuration syntax, e.g.
  /// (NID_basic_constraints, "critical,CA:FALSE"). Subject/authority key identifiers use
  /// "hash" and "keyid:always".
  certificate_builder& extension(int nid, std::string value);
  certificate_builder& hash(signature_hash digest);
  /// Adds subjectAltName entries; all of them end up in one extension. They are encoded
  /// entry by entry rather than through OpenSSL's configuration syntax, so a value holding
  /// a comma cannot smuggle in a second name.
  certificate_builder& subject_alt_names(const std::vector<subject_alt_name>& names);

  /// Signs a self-signed certificate for `key`.
  std::expected<certificate, error> self_sign(const private_key& key) const;
  /// Signs a certificate for `subject_key` with `issuer_key`, the key of `issuer`. The
  /// issuer name is copied from `issuer` and the authority key identifier is set to the
  /// issuer's subject key identifier (or, when it has none, the SHA-1 of its public key as
  /// RFC 5280 4.2.1.2 method 1 computes it), so do not add one with extension().
  std::expected<certificate, error> sign(const public_key& subject_key, const certificate& issuer,
                                         const private_key& issuer_key) const;

private:
  std::expected<certificate, error> build(EVP_PKEY* subject_key, const certificate* issuer,
                                          const private_key& signer) const;

  std::vector<std::pair<std::string, std::string>> subject_;
  time_point not_before_{};
  time_point not_after_{};
  std::vector<unsigned char> serial_;
  std::string serial_error_;
  std::vector<std::pair<int, std::string>> extensions_;
  std::vector<subject_alt_name> alt_names_;
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
