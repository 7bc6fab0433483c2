#include "pki/certificate_builder.hpp"

#include "pki/openssl_ptr.hpp"

#include <ctime>

namespace ward::pki {
namespace {

const EVP_MD* digest_of(signature_hash digest) {
  switch (digest) {
    case signature_hash::sha1:
      return EVP_sha1();
    case signature_hash::sha224:
      return EVP_sha224();
    case signature_hash::sha256:
      return EVP_sha256();
    case signature_hash::sha384:
      return EVP_sha384();
    case signature_hash::sha512:
      return EVP_sha512();
  }
  return EVP_sha256();
}

bool set_time(ASN1_TIME* field, time_point when) {
  return ASN1_TIME_set(field, std::chrono::system_clock::to_time_t(when)) != nullptr;
}

} // namespace

certificate_builder& certificate_builder::subject_attribute(std::string field, std::string value) {
  subject_.emplace_back(std::move(field), std::move(value));
  return *this;
}

certificate_builder& certificate_builder::validity(time_point not_before, time_point not_after) {
  not_before_ = not_before;
  not_after_ = not_after;
  return *this;
}

certificate_builder& certificate_builder::random_serial(const random_source& random, int bytes) {
  if (bytes < 1 || bytes > 20) {
    serial_error_ = "serial length must be 1 to 20 bytes";
    return *this;
  }
  serial_.assign(static_cast<std::size_t>(bytes), 0);
  random(std::as_writable_bytes(std::span(serial_)));
  // Positive (top bit clear) and never zero, as RFC 5280 requires.
  serial_[0] &= 0x7f;
  if (serial_[0] == 0)
    serial_[0] = 0x01;
  return *this;
}

certificate_builder& certificate_builder::extension(int nid, std::string value) {
  extensions_.emplace_back(nid, std::move(value));
  return *this;
}

certificate_builder& certificate_builder::hash(signature_hash digest) {
  hash_ = digest;
  return *this;
}

std::expected<certificate, error> certificate_builder::self_sign(const private_key& key) const {
  if (!serial_error_.empty())
    return std::unexpected(error{errc::invalid_argument, serial_error_});
  if (serial_.empty())
    return std::unexpected(error{errc::invalid_argument, "certificate has no serial number"});
  if (subject_.empty())
    return std::unexpected(error{errc::invalid_argument, "certificate has no subject"});
  if (not_after_ <= not_before_)
    return std::unexpected(error{errc::invalid_argument, "validity ends before it starts"});

  x509_ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1)
    return std::unexpected(openssl_failure(errc::crypto_failure, "cannot create certificate"));

  bignum_ptr serial_number(BN_bin2bn(serial_.data(), static_cast<int>(serial_.size()), nullptr));
  if (!serial_number || !BN_to_ASN1_INTEGER(serial_number.get(), X509_get_serialNumber(cert.get())))
    return std::unexpected(openssl_failure(errc::crypto_failure, "cannot set serial number"));

  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& [field, value] : subject_) {
    if (X509_NAME_add_entry_by_txt(name, field.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                   0) != 1)
      return std::unexpected(
          openssl_failure(errc::invalid_argument, "bad subject attribute " + field));
  }
  if (X509_set_issuer_name(cert.get(), name) != 1 || X509_set_pubkey(cert.get(), key.native()) != 1)
    return std::unexpected(openssl_failure(errc::crypto_failure, "cannot set names or key"));
  if (!set_time(X509_getm_notBefore(cert.get()), not_before_) ||
      !set_time(X509_getm_notAfter(cert.get()), not_after_))
    return std::unexpected(openssl_failure(errc::invalid_argument, "cannot set validity"));

  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : extensions_) {
    x509_extension_ptr ext(X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str()));
    if (!ext || X509_add_ext(cert.get(), ext.get(), -1) != 1)
      return std::unexpected(openssl_failure(
          errc::invalid_argument, std::string("bad extension ") + OBJ_nid2sn(nid) + "=" + value));
  }

  if (X509_sign(cert.get(), key.native(), digest_of(hash_)) <= 0)
    return std::unexpected(openssl_failure(errc::crypto_failure, "signing failed"));
  return certificate(std::shared_ptr<X509>(cert.release(), X509_free));
}

std::expected<certificate, error> make_self_signed_identity(const private_key& key,
                                                            const std::string& hostname,
                                                            time_point now,
                                                            const random_source& random) {
  if (hostname.empty() || hostname.size() > 64)
    return std::unexpected(
        error{errc::invalid_argument, "hostname must be 1 to 64 characters for a common name"});
  return certificate_builder{}
      .subject_attribute("CN", hostname)
      .validity(now, now + self_signed_identity_validity)
      .random_serial(random)
      .extension(NID_basic_constraints, "critical,CA:FALSE")
      .extension(NID_key_usage, "critical,digitalSignature,keyEncipherment")
      .extension(NID_subject_key_identifier, "hash")
      .hash(signature_hash::sha256)
      .self_sign(key);
}

} // namespace ward::pki
