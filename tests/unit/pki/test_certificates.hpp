#pragma once

// Purpose-made certificates for the PKI tests, built with plain OpenSSL calls so that each
// test controls exactly the property it is about (dates, key size, extensions, names)
// independently of Ward's own certificate builder.

#include "pki/certificate.hpp"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace ward::test {

/// An RSA key of `bits`, generated once per size: key generation dominates the cost of
/// these tests, and no test depends on two certificates having different keys unless it
/// asks for a distinct `slot`.
inline std::shared_ptr<EVP_PKEY> rsa_key(unsigned bits, int slot = 0) {
  static std::vector<std::tuple<unsigned, int, std::shared_ptr<EVP_PKEY>>> cache;
  for (const auto& [cached_bits, cached_slot, key] : cache)
    if (cached_bits == bits && cached_slot == slot)
      return key;
  std::shared_ptr<EVP_PKEY> key(EVP_RSA_gen(bits), EVP_PKEY_free);
  if (!key)
    throw std::runtime_error("RSA key generation failed");
  cache.emplace_back(bits, slot, key);
  return key;
}

/// What a test certificate looks like. The defaults describe a good TLS leaf.
struct cert_spec {
  std::string common_name = "pbx.example.test";
  /// Subject alternative names in OpenSSL's config syntax ("DNS:a, IP:1.2.3.4"); empty
  /// for none.
  std::string subject_alt_names = "DNS:pbx.example.test, IP:192.0.2.10";
  std::shared_ptr<EVP_PKEY> key;
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
  long serial = 1;
  bool is_ca = false;
  /// Key usage in config syntax; empty for none.
  std::string key_usage = "critical, digitalSignature, keyEncipherment";
  /// Extended key usage in config syntax; empty for none.
  std::string extended_key_usage = "serverAuth, clientAuth";
  /// Adds a private-OID extension marked critical, which no verifier can know.
  bool unknown_critical_extension = false;
};

/// A certificate and the key that goes with it, able to sign others.
struct test_identity {
  pki::certificate cert;
  std::shared_ptr<EVP_PKEY> key;
};

namespace detail {

inline void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  if (value.empty())
    return;
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!extension)
    throw std::runtime_error("bad test extension " + value);
  X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
}

inline void add_unknown_critical_extension(X509* cert) {
  // A private-enterprise OID under the documentation-style arc 1.3.6.1.4.1.32473 (RFC 5612),
  // its value a DER NULL.
  ASN1_OBJECT* oid = OBJ_txt2obj("1.3.6.1.4.1.32473.1.1", 1);
  ASN1_OCTET_STRING* value = ASN1_OCTET_STRING_new();
  const unsigned char der_null[] = {0x05, 0x00};
  ASN1_OCTET_STRING_set(value, der_null, sizeof(der_null));
  X509_EXTENSION* extension = X509_EXTENSION_create_by_OBJ(nullptr, oid, 1, value);
  X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
  ASN1_OCTET_STRING_free(value);
  ASN1_OBJECT_free(oid);
}

} // namespace detail

/// Builds the certificate `spec` describes, signed by `issuer` (self-signed when null).
inline test_identity make_certificate(const cert_spec& spec,
                                      const test_identity* issuer = nullptr) {
  auto key = spec.key ? spec.key : rsa_key(2048);
  X509* cert = X509_new();
  X509_set_version(cert, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), spec.serial);
  ASN1_TIME_set(X509_getm_notBefore(cert), std::chrono::system_clock::to_time_t(spec.not_before));
  ASN1_TIME_set(X509_getm_notAfter(cert), std::chrono::system_clock::to_time_t(spec.not_after));
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("Ward Test"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer->cert.native()) : name);
  X509_set_pubkey(cert, key.get());

  X509* signer_cert = issuer ? issuer->cert.native() : cert;
  detail::add_extension(cert, signer_cert, NID_basic_constraints,
                        spec.is_ca ? "critical, CA:TRUE" : "critical, CA:FALSE");
  detail::add_extension(cert, signer_cert, NID_key_usage, spec.key_usage);
  detail::add_extension(cert, signer_cert, NID_ext_key_usage, spec.extended_key_usage);
  detail::add_extension(cert, signer_cert, NID_subject_alt_name, spec.subject_alt_names);
  detail::add_extension(cert, signer_cert, NID_subject_key_identifier, "hash");
  if (issuer)
    detail::add_extension(cert, signer_cert, NID_authority_key_identifier, "keyid:always");
  if (spec.unknown_critical_extension)
    detail::add_unknown_critical_extension(cert);

  EVP_PKEY* signer_key = issuer ? issuer->key.get() : key.get();
  if (X509_sign(cert, signer_key, EVP_sha256()) <= 0) {
    X509_free(cert);
    throw std::runtime_error("cannot sign test certificate");
  }
  return {pki::certificate(std::shared_ptr<X509>(cert, X509_free)), key};
}

/// A test PKI: root CA -> intermediate CA -> leaves, all valid around `now`.
class test_pki {
public:
  explicit test_pki(std::chrono::system_clock::time_point now)
      : now_(now), root_(make_certificate(ca_spec("Ward Test Root", 1, 1))),
        intermediate_(make_certificate(ca_spec("Ward Test Intermediate", 2, 2), &root_)) {}

  /// A good leaf spec (issued by the intermediate); tests change one field of it.
  cert_spec leaf_spec(long serial) const {
    cert_spec spec;
    spec.key = rsa_key(2048, 3);
    spec.not_before = now_ - std::chrono::days(1);
    spec.not_after = now_ + std::chrono::days(365);
    spec.serial = serial;
    return spec;
  }

  test_identity issue(const cert_spec& spec) const {
    return make_certificate(spec, &intermediate_);
  }

  const test_identity& root() const { return root_; }
  const test_identity& intermediate() const { return intermediate_; }

private:
  cert_spec ca_spec(const std::string& name, long serial, int slot) const {
    cert_spec spec;
    spec.common_name = name;
    spec.subject_alt_names.clear();
    spec.key = rsa_key(2048, slot);
    spec.not_before = now_ - std::chrono::days(30);
    spec.not_after = now_ + std::chrono::days(3650);
    spec.serial = serial;
    spec.is_ca = true;
    spec.key_usage = "critical, keyCertSign, cRLSign";
    spec.extended_key_usage.clear();
    return spec;
  }

  std::chrono::system_clock::time_point now_;
  test_identity root_;
  test_identity intermediate_;
};

} // namespace ward::test
