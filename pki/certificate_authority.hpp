#pragma once

#include "core/enum_names.hpp"
#include "core/random.hpp"
#include "pki/certificate.hpp"
#include "pki/certificate_builder.hpp"
#include "pki/error.hpp"
#include "pki/private_key.hpp"

#include <chrono>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace ward::pki {

/// The subject fields besides the common name that the root CA and device certificates
/// carry. Empty fields are left out; `country` is two letters when set.
struct organisation {
  std::string organization = "Ward";
  std::string organizational_unit;
  std::string locality;
  std::string state;
  std::string country;
  std::string email;
};

/// What an issued certificate was for, as kept in the CA's issued-certificate list.
enum class issued_purpose { node_identity, device_identity };

inline constexpr auto issued_purpose_names =
    name_table(enum_name{issued_purpose::node_identity, "node_identity"},
               enum_name{issued_purpose::device_identity, "device_identity"});

constexpr std::string_view to_string(issued_purpose purpose) {
  return name_of(issued_purpose_names, purpose);
}

/// The one thing the CA keeps of a certificate it issued (SPEC PKI-3, PKI-12).
struct issued_certificate {
  std::string serial_hex;
  std::string subject;
  time_point not_before;
  time_point not_after;
  issued_purpose purpose;
};

/// The issued-certificate record of `cert`.
issued_certificate record_of(const certificate& cert, issued_purpose purpose);

/// An identity certificate for another device (SPEC PKI-3).
struct device_request {
  std::string common_name;
  organisation subject_fields;
  /// At most max_device_alt_names entries.
  std::vector<subject_alt_name> sans;
  int validity_days = 730;
  /// 2048 or 4096; 1024 only with `legacy`.
  int key_bits = 2048;
  /// SHA-1 only with `legacy`.
  signature_hash hash = signature_hash::sha256;
  /// Admits RSA-1024 and SHA-1 for devices that cannot do better.
  bool legacy = false;
  /// Protects the returned PKCS#12; required.
  std::string pkcs12_password;
};

struct device_issue {
  /// Certificate, key and CA chain; the only copy of the key (the CA keeps none).
  std::string pkcs12_der;
  issued_certificate record;
  /// Advice the administrator should see (long validity, legacy algorithms, shortened
  /// validity); none of it stopped the issue.
  std::vector<std::string> warnings;
};

/// The root CA's validity: ~10 years, starting 24 h before creation so that a peer whose
/// clock lags still accepts it (SPEC PKI-1).
inline constexpr auto ca_validity = std::chrono::days(3652);
inline constexpr auto ca_backdating = std::chrono::hours(24);
/// Validity of a node identity the CA issues (SPEC PKI-2: ~2 years).
inline constexpr auto node_identity_validity = std::chrono::days(730);
inline constexpr std::size_t max_device_alt_names = 8;
/// Device validity above which the administrator is warned (the guide's three years)
/// and above which Ward refuses (SPEC PKI-3).
inline constexpr int device_validity_warning_days = 1095;
inline constexpr int device_validity_max_days = 3650;

/// Ward's certificate authority (SPEC PKI-1 to PKI-4): a signing certificate with its key,
/// the chain above it (empty for a root) and the last sequential serial. A pure value:
/// persisting it, and keeping the issued-certificate records, is the caller's business.
class certificate_authority {
public:
  /// PKI-1: a new root. RSA 2048, SHA-256, a random positive serial of up to 20 bytes,
  /// subject `organisation` plus CN ward-root-<hostname>, valid from now - 24 h for ~10
  /// years, basicConstraints critical CA:TRUE without a path length, keyUsage
  /// digitalSignature + keyCertSign and EKU serverAuth + clientAuth (both non-critical, as
  /// in the guide's table), SAN URI:ward-root-<hostname>, and a SKI. Also PKI-4 "Create
  /// New": a new key pair means every identity must be issued again.
  static std::expected<certificate_authority, error> create_root(const std::string& hostname,
                                                                 const organisation& fields,
                                                                 time_point now,
                                                                 const random_source& random);

  /// Loads a persisted CA: signing certificate and key (PEM), the chain above it (PEM,
  /// possibly empty) and the last sequential serial (empty: the signing certificate's own
  /// serial, so the first identity gets serial + 1). An expired CA still loads, so that it
  /// can be renewed; issuing with it is refused.
  static std::expected<certificate_authority, error> load(std::string_view certificate_pem,
                                                          std::string_view key_pem,
                                                          std::string_view chain_pem,
                                                          std::string_view last_serial_hex);

  /// PKI-4 approach 2: a signing certificate (root or intermediate) with its key and the
  /// chain above it from a PKCS#12. Refused: wrong password (errc::bad_password), a
  /// certificate without CA:TRUE or without keyCertSign (errc::not_a_ca), one outside its
  /// validity, or a chain certificate that is (errc::expired), a key that is not the
  /// certificate's (errc::key_mismatch) or below 2048 bits (errc::weak_key), a chain whose
  /// links do not verify (errc::bad_signature).
  static std::expected<certificate_authority, error>
  import_pkcs12(std::string_view der, std::string_view password, time_point now);

  /// PKI-2: a node identity for `subject_key` (a node's own private key converts
  /// implicitly). Serial = last sequential serial + 1, SHA-256, valid from now for 730
  /// days (never beyond the CA itself), subject = the CA's subject with CN = `hostname`,
  /// SAN DNS:<hostname> plus IP:<address> for each of `ip_addresses`, keyUsage
  /// digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment, keyAgreement
  /// (non-critical), EKU serverAuth + clientAuth, basicConstraints critical CA:FALSE, AKI =
  /// the CA's SKI. The key must be RSA of 2048 to 4096 bits. Advances the serial only on
  /// success.
  std::expected<certificate, error>
  issue_node_identity(const public_key& subject_key, const std::string& hostname,
                      const std::vector<std::string>& ip_addresses, time_point now);

  /// PKI-5 enrolment: verifies the PKCS#10 request (PEM or DER) and issues a node identity
  /// for its key, with the request's CN as hostname. Nothing else of the request is used.
  std::expected<certificate, error>
  sign_node_csr(std::string_view csr, const std::vector<std::string>& ip_addresses, time_point now);

  /// PKI-3: a new key pair and an end-entity certificate for another device, returned as a
  /// password-protected PKCS#12 with the CA chain. Random serial, EKU serverAuth +
  /// clientAuth, the node identity's key usage, validity from now. Refused: no password,
  /// more than 8 SANs, validity below 1 or above 3650 days (invalid_argument), RSA-1024
  /// without the legacy flag (weak_key), SHA-1 without it (weak_hash), sizes other than
  /// 1024/2048/4096. Warned: validity above 1095 days, legacy algorithms, validity cut
  /// short by the CA's own expiry.
  std::expected<device_issue, error> issue_device(const device_request& request, time_point now,
                                                  const random_source& random);

  /// PKI-4 Renew Existing: the same key pair, subject and extensions with a new random
  /// serial and dates (now - 24 h for ~10 years), so identities issued before still
  /// verify. Only for a self-signed root: an intermediate is renewed by its own issuer.
  /// The sequential serial is not reset, so serials under this issuer name never repeat.
  std::expected<void, error> renew_existing(time_point now, const random_source& random);

  /// PKI-4 backup: signing certificate, key and chain as a password-protected PKCS#12.
  std::expected<std::string, error> export_pkcs12(std::string_view password) const;

  const certificate& signing_certificate() const { return signing_; }
  /// The certificates above the signing certificate, nearest first; empty for a root.
  const std::vector<certificate>& chain() const { return chain_; }
  std::expected<std::string, error> key_pem() const { return key_.to_pem(); }
  /// The serial of the last node identity issued (or of the signing certificate before
  /// the first), upper-case hex.
  std::string last_serial_hex() const { return last_serial_hex_; }
  /// What a node offers in handshakes when "offer ID certificate chain" is on (PKI-6):
  /// the signing certificate followed by its chain, PEM concatenated.
  std::string chain_pem() const;

private:
  certificate_authority(private_key key, certificate signing, std::vector<certificate> chain,
                        std::string last_serial_hex)
      : key_(std::move(key)), signing_(std::move(signing)), chain_(std::move(chain)),
        last_serial_hex_(std::move(last_serial_hex)) {}

  private_key key_;
  certificate signing_;
  std::vector<certificate> chain_;
  std::string last_serial_hex_;
};

} // namespace ward::pki
