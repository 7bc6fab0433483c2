#pragma once

#include "pki/certificate.hpp"
#include "pki/error.hpp"
#include "pki/private_key.hpp"

#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace ward::pki {

/// PBKDF2 iterations Ward uses for both the encryption and the MAC of a PKCS#12 file.
inline constexpr int pkcs12_iterations = 10'000;
/// The most PBKDF2 (or PKCS#12 KDF) iterations a file Ward reads may ask for. A hostile
/// file could otherwise ask for 2^31 and keep a parser busy for hours; common exporters
/// use 2 000 to 600 000.
inline constexpr long max_pkcs12_iterations = 1L << 20;

/// What a PKCS#12 file holds: one key, the certificate for it, and any further
/// certificates (the chain above it) in file order.
struct pkcs12_contents {
  private_key key;
  certificate cert;
  std::vector<certificate> chain;
};

/// A password-protected PKCS#12 (SPEC PKI-3, PKI-4, PKI-9) holding `key`, `cert` and
/// `chain`: AES-256-CBC under PBKDF2 with HMAC-SHA-256 for key and certificates, and a
/// SHA-256 MAC, so that OpenSSL 3 opens it without its legacy provider. The password must
/// be non-empty and free of NUL characters. Returns the DER bytes.
std::expected<std::string, error> make_pkcs12(const private_key& key, const certificate& cert,
                                              const std::vector<certificate>& chain,
                                              std::string_view password,
                                              std::string_view friendly_name);

/// Opens a PKCS#12 file. errc::bad_password when the MAC does not verify with `password`;
/// errc::wrong_format for anything that is no PKCS#12 with a MAC, exactly one private key
/// and its certificate, or that asks for more than max_pkcs12_iterations; errc::key_mismatch
/// when no certificate in it belongs to the key; errc::invalid_argument for a non-RSA key.
std::expected<pkcs12_contents, error> parse_pkcs12(std::string_view der, std::string_view password);

/// Reads certificates in whatever format they come (SPEC PKI-9): one or many PEM blocks
/// ("CERTIFICATE", "TRUSTED CERTIFICATE", "PKCS7"; other blocks such as a key beside the
/// certificate are skipped), one or several concatenated DER certificates, or a PKCS#7
/// SignedData bundle in DER. At least one certificate, or errc::wrong_format.
std::expected<std::vector<certificate>, error> load_certificates(std::string_view bytes);

/// A certificates-only PKCS#7 SignedData (a ".p7b" chain) holding `certificates` in order,
/// as PEM.
std::expected<std::string, error> make_pkcs7_chain(const std::vector<certificate>& certificates);

} // namespace ward::pki
