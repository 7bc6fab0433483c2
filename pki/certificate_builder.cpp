#include "pki/certificate_builder.hpp"

#include "core/hex.hpp"
#include "pki/loggable.hpp"
#include "pki/openssl_output.hpp"
#include "pki/openssl_ptr.hpp"

#include <openssl/pem.h>

#include <algorithm>
#include <cctype>
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

using general_names_ptr = std::unique_ptr<GENERAL_NAMES, openssl_deleter<GENERAL_NAMES_free>>;
using general_name_ptr = std::unique_ptr<GENERAL_NAME, openssl_deleter<GENERAL_NAME_free>>;
using asn1_octet_string_ptr =
    std::unique_ptr<ASN1_OCTET_STRING, openssl_deleter<ASN1_OCTET_STRING_free>>;
using authority_key_id_ptr =
    std::unique_ptr<AUTHORITY_KEYID, openssl_deleter<AUTHORITY_KEYID_free>>;

error bad_name(const subject_alt_name& name, std::string_view why) {
  return {errc::invalid_argument,
          "subject alternative name '" + loggable(to_string(name)) + "' " + std::string(why)};
}

/// Printable ASCII without spaces: what an IA5String SAN value may carry here. Control
/// characters and spaces are refused because they end up in logs and in peers' name
/// comparisons.
bool is_printable_token(std::string_view text) {
  return std::ranges::all_of(text, [](char c) { return c > 0x20 && c < 0x7f; });
}

bool is_ldh_label(std::string_view label) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
    return false;
  return std::ranges::all_of(
      label, [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-'; });
}

bool is_dns_name(std::string_view name) {
  if (name.starts_with("*."))
    name.remove_prefix(2);
  if (name.empty() || name.size() > 253)
    return false;
  while (true) {
    auto dot = name.find('.');
    if (!is_ldh_label(name.substr(0, dot)))
      return false;
    if (dot == std::string_view::npos)
      return true;
    name.remove_prefix(dot + 1);
  }
}

std::expected<asn1_octet_string_ptr, error> ip_octets(const subject_alt_name& name) {
  // a2i_IPADDRESS wants a C string; an embedded NUL would otherwise cut the text short.
  if (name.value.find('\0') != std::string::npos)
    return std::unexpected(bad_name(name, "is not an IP address"));
  asn1_octet_string_ptr octets(a2i_IPADDRESS(name.value.c_str()));
  if (!octets) {
    drain_openssl_errors();
    return std::unexpected(bad_name(name, "is not an IPv4 or IPv6 address"));
  }
  return octets;
}

std::expected<general_name_ptr, error> to_general_name(const subject_alt_name& name) {
  if (auto valid = validate(name); !valid)
    return std::unexpected(valid.error());
  general_name_ptr entry(GENERAL_NAME_new());
  if (!entry)
    return std::unexpected(openssl_failure(errc::crypto_failure, "out of memory"));
  if (name.type == subject_alt_name::kind::ip) {
    auto octets = ip_octets(name);
    if (!octets)
      return std::unexpected(octets.error());
    GENERAL_NAME_set0_value(entry.get(), GEN_IPADD, octets->release());
    return entry;
  }
  ASN1_IA5STRING* text = ASN1_IA5STRING_new();
  if (!text || ASN1_STRING_set(text, name.value.data(), static_cast<int>(name.value.size())) != 1) {
    ASN1_IA5STRING_free(text);
    return std::unexpected(openssl_failure(errc::crypto_failure, "out of memory"));
  }
  int type = name.type == subject_alt_name::kind::dns   ? GEN_DNS
             : name.type == subject_alt_name::kind::uri ? GEN_URI
                                                        : GEN_EMAIL;
  GENERAL_NAME_set0_value(entry.get(), type, text);
  return entry;
}

/// The key identifier an issued certificate's AKI carries: the issuer's SKI, or the SHA-1
/// of the issuer's public key when the issuer (an imported CA) has no SKI.
std::expected<asn1_octet_string_ptr, error> issuer_key_id(X509* issuer) {
  if (const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(issuer))
    return asn1_octet_string_ptr(ASN1_OCTET_STRING_dup(ski));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  asn1_octet_string_ptr id(ASN1_OCTET_STRING_new());
  if (!id || X509_pubkey_digest(issuer, EVP_sha1(), digest, &size) != 1 ||
      ASN1_OCTET_STRING_set(id.get(), digest, static_cast<int>(size)) != 1)
    return std::unexpected(
        openssl_failure(errc::crypto_failure, "cannot compute the issuer key identifier"));
  return id;
}

} // namespace

public_key::public_key(const private_key& key) {
  // A DER round trip of the SubjectPublicKeyInfo keeps only the public parameters.
  unsigned char* der = nullptr;
  int size = key.native() ? i2d_PUBKEY(key.native(), &der) : -1;
  if (size <= 0) {
    drain_openssl_errors();
    return;
  }
  const unsigned char* cursor = der;
  EVP_PKEY* raw = d2i_PUBKEY(nullptr, &cursor, size);
  OPENSSL_free(der);
  if (!raw) {
    drain_openssl_errors();
    return;
  }
  key_ = std::shared_ptr<EVP_PKEY>(raw, EVP_PKEY_free);
}

int public_key::bits() const {
  return key_ ? EVP_PKEY_get_bits(key_.get()) : 0;
}

bool public_key::is_rsa() const {
  return key_ && EVP_PKEY_get_base_id(key_.get()) == EVP_PKEY_RSA;
}

std::expected<std::string, error> public_key::to_pem() const {
  auto pem = write_to_string(
      [this](BIO* bio) { return key_ && PEM_write_bio_PUBKEY(bio, key_.get()) == 1; });
  if (!pem)
    return std::unexpected(openssl_failure(errc::crypto_failure, "cannot encode public key"));
  return *pem;
}

std::expected<void, error> validate(const subject_alt_name& name) {
  const std::string& value = name.value;
  switch (name.type) {
    case subject_alt_name::kind::dns:
      if (!is_dns_name(value))
        return std::unexpected(bad_name(name, "is not a host name (letters, digits, '-', '.')"));
      return {};
    case subject_alt_name::kind::ip:
      if (auto octets = ip_octets(name); !octets)
        return std::unexpected(octets.error());
      return {};
    case subject_alt_name::kind::uri:
      if (value.empty() || value.size() > 2048 || !is_printable_token(value))
        return std::unexpected(
            bad_name(name, "must be 1 to 2048 printable ASCII characters without spaces"));
      return {};
    case subject_alt_name::kind::email: {
      auto at = value.find('@');
      if (value.size() > 254 || !is_printable_token(value) || at == 0 || at == std::string::npos ||
          at + 1 == value.size() || value.find('@', at + 1) != std::string::npos)
        return std::unexpected(bad_name(name, "is not an address of the form local@domain"));
      return {};
    }
  }
  return std::unexpected(error{errc::invalid_argument, "unknown subject alternative name type"});
}

std::expected<subject_alt_name, error> parse_subject_alt_name(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos)
    return std::unexpected(
        error{errc::invalid_argument,
              "subject alternative name must be TYPE:value with TYPE one of DNS, IP, URI, email"});
  std::string type(text.substr(0, colon));
  std::ranges::transform(type, type.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  subject_alt_name name{subject_alt_name::kind::dns, std::string(text.substr(colon + 1))};
  if (type == "dns")
    name.type = subject_alt_name::kind::dns;
  else if (type == "ip")
    name.type = subject_alt_name::kind::ip;
  else if (type == "uri")
    name.type = subject_alt_name::kind::uri;
  else if (type == "email")
    name.type = subject_alt_name::kind::email;
  else
    return std::unexpected(error{errc::invalid_argument,
                                 "subject alternative name type must be DNS, IP, URI or email"});
  if (auto valid = validate(name); !valid)
    return std::unexpected(valid.error());
  return name;
}

std::string to_string(const subject_alt_name& name) {
  switch (name.type) {
    case subject_alt_name::kind::dns:
      return "DNS:" + name.value;
    case subject_alt_name::kind::ip:
      return "IP:" + name.value;
    case subject_alt_name::kind::uri:
      return "URI:" + name.value;
    case subject_alt_name::kind::email:
      return "email:" + name.value;
  }
  return name.value;
}

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

certificate_builder& certificate_builder::serial_hex(std::string_view hex) {
  serial_.clear();
  serial_error_.clear();
  bool digits_only = std::ranges::all_of(hex, is_hex_digit);
  if (hex.empty() || hex.size() > 64 || !digits_only) {
    serial_error_ = "serial must be 1 to 40 significant hex digits";
    return *this;
  }
  std::string text(hex);
  BIGNUM* raw = nullptr;
  int used = BN_hex2bn(&raw, text.c_str());
  bignum_ptr number(raw);
  if (!number || used != static_cast<int>(text.size())) {
    drain_openssl_errors();
    serial_error_ = "serial is not a hex number";
    return *this;
  }
  // 159 bits: DER adds a sign bit, and RFC 5280 caps the encoding at 20 octets.
  if (BN_is_zero(number.get()) || BN_num_bits(number.get()) > 159) {
    serial_error_ = "serial must be positive and fit 20 octets";
    return *this;
  }
  serial_.assign(static_cast<std::size_t>(BN_num_bytes(number.get())), 0);
  BN_bn2bin(number.get(), serial_.data());
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

certificate_builder&
certificate_builder::subject_alt_names(const std::vector<subject_alt_name>& names) {
  alt_names_.insert(alt_names_.end(), names.begin(), names.end());
  return *this;
}

std::expected<certificate, error> certificate_builder::self_sign(const private_key& key) const {
  return build(key.native(), nullptr, key);
}

std::expected<certificate, error> certificate_builder::sign(const public_key& subject_key,
                                                            const certificate& issuer,
                                                            const private_key& issuer_key) const {
  if (!subject_key.native())
    return std::unexpected(error{errc::invalid_argument, "no public key to certify"});
  if (!issuer.matches(issuer_key))
    return std::unexpected(
        error{errc::key_mismatch, "the signing key does not belong to the issuer certificate"});
  for (const auto& [nid, value] : extensions_)
    if (nid == NID_authority_key_identifier)
      return std::unexpected(error{errc::invalid_argument,
                                   "sign() sets the authority key identifier from the issuer"});
  return build(subject_key.native(), &issuer, issuer_key);
}

std::expected<certificate, error> certificate_builder::build(EVP_PKEY* subject_key,
                                                             const certificate* issuer,
                                                             const private_key& signer) const {
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
  const X509_NAME* issuer_name = issuer ? X509_get_subject_name(issuer->native()) : name;
  if (X509_set_issuer_name(cert.get(), issuer_name) != 1 ||
      X509_set_pubkey(cert.get(), subject_key) != 1)
    return std::unexpected(openssl_failure(errc::crypto_failure, "cannot set names or key"));
  if (!set_time(X509_getm_notBefore(cert.get()), not_before_) ||
      !set_time(X509_getm_notAfter(cert.get()), not_after_))
    return std::unexpected(openssl_failure(errc::invalid_argument, "cannot set validity"));

  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509* issuer_cert = issuer ? issuer->native() : cert.get();
  X509V3_set_ctx(&context, issuer_cert, cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : extensions_) {
    x509_extension_ptr ext(X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str()));
    if (!ext || X509_add_ext(cert.get(), ext.get(), -1) != 1)
      return std::unexpected(openssl_failure(
          errc::invalid_argument, std::string("bad extension ") + OBJ_nid2sn(nid) + "=" + value));
  }

  if (!alt_names_.empty()) {
    general_names_ptr names(GENERAL_NAMES_new());
    if (!names)
      return std::unexpected(openssl_failure(errc::crypto_failure, "out of memory"));
    for (const auto& alt_name : alt_names_) {
      auto entry = to_general_name(alt_name);
      if (!entry)
        return std::unexpected(entry.error());
      if (sk_GENERAL_NAME_push(names.get(), entry->get()) <= 0)
        return std::unexpected(openssl_failure(errc::crypto_failure, "out of memory"));
      entry->release();
    }
    if (X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) !=
        1)
      return std::unexpected(
          openssl_failure(errc::invalid_argument, "cannot add subject alternative names"));
  }

  if (issuer) {
    auto key_id = issuer_key_id(issuer->native());
    if (!key_id)
      return std::unexpected(key_id.error());
    authority_key_id_ptr aki(AUTHORITY_KEYID_new());
    if (!aki)
      return std::unexpected(openssl_failure(errc::crypto_failure, "out of memory"));
    aki->keyid = key_id->release();
    if (X509_add1_ext_i2d(cert.get(), NID_authority_key_identifier, aki.get(), 0,
                          X509V3_ADD_DEFAULT) != 1)
      return std::unexpected(
          openssl_failure(errc::crypto_failure, "cannot add the authority key identifier"));
  }

  if (X509_sign(cert.get(), signer.native(), digest_of(hash_)) <= 0)
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
