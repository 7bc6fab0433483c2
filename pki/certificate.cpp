#include "pki/certificate.hpp"

#include <algorithm>

#include "core/hex.hpp"
#include "pki/openssl_output.hpp"
#include "pki/openssl_ptr.hpp"
#include "pki/x509_name.hpp"

#include <openssl/pem.h>

namespace ward::pki {
namespace {

std::shared_ptr<X509> share(X509* cert) {
  return std::shared_ptr<X509>(cert, X509_free);
}

time_point to_time_point(const ASN1_TIME* time) {
  struct tm parts {};
  if (ASN1_TIME_to_tm(time, &parts) != 1)
    return time_point{};
  return std::chrono::system_clock::from_time_t(timegm(&parts));
}

} // namespace

std::expected<certificate, error> certificate::from_pem(std::string_view pem) {
  auto bio = read_only_bio(pem.data(), pem.size());
  X509* raw = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  if (!raw)
    return std::unexpected(openssl_failure(errc::wrong_format, "not a PEM certificate"));
  return certificate(share(raw));
}

std::expected<certificate, error> certificate::from_der(std::string_view der) {
  auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  X509* raw = d2i_X509(nullptr, &cursor, static_cast<long>(der.size()));
  if (!raw)
    return std::unexpected(openssl_failure(errc::wrong_format, "not a DER certificate"));
  return certificate(share(raw));
}

std::expected<std::string, error> certificate::to_pem() const {
  auto pem =
      write_to_string([this](BIO* bio) { return PEM_write_bio_X509(bio, cert_.get()) == 1; });
  if (!pem)
    return std::unexpected(openssl_failure(errc::crypto_failure, "cannot encode certificate"));
  return *pem;
}

std::expected<std::string, error> certificate::to_der() const {
  auto der = der_of<i2d_X509>(cert_.get());
  if (!der)
    return std::unexpected(openssl_failure(errc::crypto_failure, "cannot encode certificate"));
  return *der;
}

std::string certificate::subject_common_name() const {
  return common_name_of(X509_get_subject_name(cert_.get()));
}

std::string certificate::subject() const {
  return name_to_string(X509_get_subject_name(cert_.get()));
}

std::string certificate::issuer() const {
  return name_to_string(X509_get_issuer_name(cert_.get()));
}

bool certificate::issued_by(const certificate& issuer) const {
  EVP_PKEY* key = X509_get0_pubkey(issuer.native());
  return key && cert_ && X509_check_issued(issuer.native(), cert_.get()) == X509_V_OK &&
         X509_verify(cert_.get(), key) == 1;
}

bool certificate::same_key_as(const certificate& other) const {
  const EVP_PKEY* mine = cert_ ? X509_get0_pubkey(cert_.get()) : nullptr;
  const EVP_PKEY* theirs = other.native() ? X509_get0_pubkey(other.native()) : nullptr;
  return mine && theirs && EVP_PKEY_eq(mine, theirs) == 1;
}

std::string certificate::issuer_key_id() const {
  const ASN1_OCTET_STRING* id = nullptr;
  if (!cert_ || X509_get0_authority_key_id(cert_.get()) == nullptr)
    return {};
  id = X509_get0_authority_key_id(cert_.get());
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string text;
  const int length = std::min(ASN1_STRING_length(id), 8);
  const unsigned char* bytes = ASN1_STRING_get0_data(id);
  for (int i = 0; i < length; ++i) {
    if (i > 0)
      text += ':';
    text += digits[bytes[i] >> 4];
    text += digits[bytes[i] & 0x0F];
  }
  return text;
}

std::string certificate::issuer_label() const {
  auto key = issuer_key_id();
  return key.empty() ? issuer() : issuer() + " [key " + key + "]";
}

std::string certificate::serial_hex() const {
  bignum_ptr number(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert_.get()), nullptr));
  if (!number)
    return {};
  char* text = BN_bn2hex(number.get());
  std::string serial(text);
  OPENSSL_free(text);
  return serial;
}

time_point certificate::not_before() const {
  return to_time_point(X509_get0_notBefore(cert_.get()));
}

time_point certificate::not_after() const {
  return to_time_point(X509_get0_notAfter(cert_.get()));
}

std::int64_t certificate::days_until_expiry(time_point now) const {
  auto left = not_after() - now;
  return std::chrono::floor<std::chrono::days>(left).count();
}

bool certificate::is_valid_at(time_point now) const {
  return not_before() <= now && now <= not_after();
}

bool certificate::is_self_signed() const {
  // X509_self_signed(…, 1) also verifies the signature with the certificate's own key.
  return X509_self_signed(cert_.get(), 1) == 1;
}

bool certificate::is_ca() const {
  return X509_check_ca(cert_.get()) != 0;
}

int certificate::public_key_bits() const {
  EVP_PKEY* key = X509_get0_pubkey(cert_.get());
  return key ? EVP_PKEY_get_bits(key) : 0;
}

std::string certificate::sha256_fingerprint() const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (X509_digest(cert_.get(), EVP_sha256(), digest, &size) != 1)
    return {};
  return to_hex(std::span(digest, size), hex_case::upper, ":");
}

bool certificate::matches(const private_key& key) const {
  EVP_PKEY* public_key = X509_get0_pubkey(cert_.get());
  return public_key && EVP_PKEY_eq(public_key, key.native()) == 1;
}

} // namespace ward::pki
