#include "pki/certificate_authority.hpp"

#include "core/hex.hpp"
#include "pki/bundle.hpp"
#include "pki/csr.hpp"
#include "pki/loggable.hpp"
#include "pki/openssl_output.hpp"
#include "pki/openssl_ptr.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>

namespace ward::pki {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view root_prefix = "ward-root-";
/// X.520's upper bound for a common name (ub-common-name).
constexpr std::size_t max_common_name = 64;
/// Attempts at a renewal serial that collides with nothing already issued.
constexpr int serial_attempts = 8;

std::optional<error> check_hostname(std::string_view hostname, std::size_t max_size) {
  if (hostname.empty() || hostname.size() > max_size)
    return error{errc::invalid_argument,
                 "hostname must be 1 to " + std::to_string(max_size) + " characters"};
  if (hostname.starts_with("*.") ||
      !validate(subject_alt_name{subject_alt_name::kind::dns, std::string(hostname)}))
    return error{errc::invalid_argument, "hostname '" + loggable(hostname) +
                                             "' is not a host name (letters, digits, '-', '.')"};
  return std::nullopt;
}

bool is_plain_text(std::string_view text) {
  return std::ranges::none_of(text, [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

std::optional<error> check_organisation(const organisation& fields) {
  for (const std::string* field : {&fields.organization, &fields.organizational_unit,
                                   &fields.locality, &fields.state, &fields.email})
    if (field->size() > max_common_name || !is_plain_text(*field))
      return error{errc::invalid_argument,
                   "subject field '" + loggable(*field) +
                       "' must be at most 64 characters without control characters"};
  bool two_letters = fields.country.size() == 2 && std::ranges::all_of(fields.country, [](char c) {
                       return std::isalpha(static_cast<unsigned char>(c)) != 0;
                     });
  if (!fields.country.empty() && !two_letters)
    return error{errc::invalid_argument, "country must be a two-letter code"};
  return std::nullopt;
}

/// Subject in the usual DER order (country first), which Windows shows reversed as the
/// guide's tables do.
void add_subject(certificate_builder& builder, const organisation& fields,
                 const std::string& common_name) {
  auto add = [&](const char* field, const std::string& value) {
    if (!value.empty())
      builder.subject_attribute(field, value);
  };
  add("C", fields.country);
  add("ST", fields.state);
  add("L", fields.locality);
  add("O", fields.organization);
  add("OU", fields.organizational_unit);
  add("CN", common_name);
  add("emailAddress", fields.email);
}

/// The CA's own subject with its CN replaced by `common_name`, so identities carry the
/// organisation of the CA that issued them (the guide's identity table).
std::expected<void, error> add_subject_like(certificate_builder& builder, const certificate& model,
                                            const std::string& common_name) {
  const X509_NAME* name = X509_get_subject_name(model.native());
  bool has_common_name = false;
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
    const ASN1_OBJECT* field = X509_NAME_ENTRY_get_object(entry);
    if (OBJ_obj2nid(field) == NID_commonName) {
      if (!has_common_name)
        builder.subject_attribute("CN", common_name);
      has_common_name = true;
      continue;
    }
    char oid[80];
    if (OBJ_obj2txt(oid, sizeof(oid), field, 1) <= 0)
      return std::unexpected(openssl_failure(errc::wrong_format, "CA subject is unreadable"));
    auto value = utf8_of(X509_NAME_ENTRY_get_data(entry));
    if (!value)
      return std::unexpected(openssl_failure(errc::wrong_format, "CA subject is unreadable"));
    builder.subject_attribute(oid, *value);
  }
  if (!has_common_name)
    builder.subject_attribute("CN", common_name);
  return {};
}

/// A certificate may sign others only with basicConstraints CA:TRUE and keyCertSign.
std::optional<error> check_signing_capable(const certificate& cert) {
  std::uint32_t flags = X509_get_extension_flags(cert.native());
  if (flags & EXFLAG_INVALID)
    return error{errc::wrong_format, "certificate extensions are malformed"};
  if (!(flags & EXFLAG_CA))
    return error{errc::not_a_ca, "'" + cert.subject() + "' is not a CA (no CA:TRUE)"};
  if (!(flags & EXFLAG_KUSAGE) || !(X509_get_key_usage(cert.native()) & KU_KEY_CERT_SIGN))
    return error{errc::not_a_ca, "'" + cert.subject() +
                                     "' may not sign certificates (no "
                                     "keyCertSign)"};
  return std::nullopt;
}

std::optional<error> check_signing_key(const private_key& key) {
  if (EVP_PKEY_get_base_id(key.native()) != EVP_PKEY_RSA)
    return error{errc::invalid_argument, "CA keys must be RSA"};
  if (key.bits() < 2048)
    return error{errc::weak_key,
                 "a CA key needs at least 2048 bits, not " + std::to_string(key.bits())};
  return std::nullopt;
}

/// Puts the certificates above `signing` into path order (nearest first), checking that
/// each one issued and signed the one below. Certificates off the path are dropped.
std::expected<std::vector<certificate>, error> order_chain(const certificate& signing,
                                                           std::vector<certificate> pool) {
  std::vector<certificate> path;
  const certificate* current = &signing;
  while (!pool.empty() && !current->is_self_signed()) {
    auto issuer = std::ranges::find_if(pool, [&](const certificate& candidate) {
      return X509_check_issued(candidate.native(), current->native()) == X509_V_OK;
    });
    if (issuer == pool.end())
      break;
    EVP_PKEY* issuer_key = X509_get0_pubkey(issuer->native());
    if (!issuer_key || X509_verify(current->native(), issuer_key) != 1)
      return std::unexpected(openssl_failure(
          errc::bad_signature, "'" + current->subject() + "' is not signed by '" +
                                   issuer->subject() + "' although it names it as issuer"));
    path.push_back(*issuer);
    pool.erase(issuer);
    current = &path.back();
  }
  drain_openssl_errors();
  return path;
}

bignum_ptr bignum_from_hex(const std::string& hex) {
  BIGNUM* raw = nullptr;
  if (hex.empty() || hex.size() > 64 || !std::ranges::all_of(hex, is_hex_digit))
    return nullptr;
  if (BN_hex2bn(&raw, hex.c_str()) != static_cast<int>(hex.size())) {
    BN_free(raw);
    drain_openssl_errors();
    return nullptr;
  }
  return bignum_ptr(raw);
}

std::string bignum_to_hex(const BIGNUM* number) {
  char* text = BN_bn2hex(number);
  if (!text)
    return {};
  std::string hex(text);
  OPENSSL_free(text);
  return hex;
}

/// `hex` as a positive serial in certificate::serial_hex()'s spelling.
std::expected<std::string, error> canonical_serial(const std::string& hex) {
  auto number = bignum_from_hex(hex);
  if (!number || BN_is_zero(number.get()) || BN_num_bits(number.get()) > 159)
    return std::unexpected(
        error{errc::invalid_argument, "serial '" + hex + "' is not a positive 20-octet number"});
  return bignum_to_hex(number.get());
}

std::expected<std::string, error> successor(const std::string& hex) {
  auto number = bignum_from_hex(hex);
  if (!number || BN_add_word(number.get(), 1) != 1)
    return std::unexpected(error{errc::invalid_argument, "last serial '" + hex + "' is unusable"});
  if (BN_num_bits(number.get()) > 159)
    return std::unexpected(
        error{errc::invalid_argument, "sequential serials exhausted (20 octets)"});
  return bignum_to_hex(number.get());
}

std::optional<error> check_node_key(const public_key& key) {
  if (!key.native())
    return error{errc::invalid_argument, "no public key to certify"};
  if (!key.is_rsa())
    return error{errc::invalid_argument, "node identity keys must be RSA"};
  if (key.bits() < 2048)
    return error{errc::weak_key,
                 "a node identity key needs at least 2048 bits, not " + std::to_string(key.bits())};
  if (key.bits() > private_key::max_bits)
    return error{errc::invalid_argument, "node identity keys are at most 4096 bits"};
  return std::nullopt;
}

std::optional<error> check_usable(const certificate& signing, time_point now) {
  if (!signing.is_valid_at(now))
    return error{errc::expired, "the CA certificate is outside its validity period; renew it "
                                "first"};
  return std::nullopt;
}

std::string key_usage_of_identities() {
  return "digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment,keyAgreement";
}

std::expected<certificate, error> reencode(const x509_ptr& cert) {
  auto der = der_of<i2d_X509>(cert.get());
  if (!der)
    return std::unexpected(openssl_failure(errc::crypto_failure, "cannot encode certificate"));
  return certificate::from_der(*der);
}

std::vector<unsigned char> random_serial_bytes(const random_source& random) {
  std::vector<unsigned char> bytes(20, 0);
  random(std::as_writable_bytes(std::span(bytes)));
  bytes[0] &= 0x7f;
  if (bytes[0] == 0)
    bytes[0] = 0x01;
  return bytes;
}

} // namespace

issued_certificate record_of(const certificate& cert, issued_purpose purpose) {
  return {cert.serial_hex(), cert.subject(), cert.not_before(), cert.not_after(), purpose};
}

std::expected<certificate_authority, error>
certificate_authority::create_root(const std::string& hostname, const organisation& fields,
                                   time_point now, const random_source& random) {
  if (auto bad = check_hostname(hostname, max_common_name - root_prefix.size()))
    return std::unexpected(*bad);
  if (auto bad = check_organisation(fields))
    return std::unexpected(*bad);
  auto key = private_key::generate_rsa(2048);
  if (!key)
    return std::unexpected(key.error());
  std::string name = std::string(root_prefix) + hostname;
  certificate_builder builder;
  add_subject(builder, fields, name);
  auto not_before = now - ca_backdating;
  auto cert = builder.validity(not_before, not_before + ca_validity)
                  .random_serial(random)
                  .extension(NID_basic_constraints, "critical,CA:TRUE")
                  .extension(NID_key_usage, "digitalSignature,keyCertSign")
                  .extension(NID_ext_key_usage, "serverAuth,clientAuth")
                  .extension(NID_subject_key_identifier, "hash")
                  .subject_alt_names({{subject_alt_name::kind::uri, name}})
                  .hash(signature_hash::sha256)
                  .self_sign(*key);
  if (!cert)
    return std::unexpected(cert.error());
  auto serial = cert->serial_hex();
  return certificate_authority(std::move(*key), std::move(*cert), {}, std::move(serial));
}

std::expected<certificate_authority, error>
certificate_authority::load(std::string_view certificate_pem, std::string_view key_pem,
                            std::string_view chain_pem, std::string_view last_serial_hex) {
  auto cert = certificate::from_pem(certificate_pem);
  if (!cert)
    return std::unexpected(cert.error());
  auto key = private_key::from_pem(key_pem);
  if (!key)
    return std::unexpected(key.error());
  if (!cert->matches(*key))
    return std::unexpected(
        error{errc::key_mismatch, "the CA key does not belong to the CA certificate"});
  if (auto bad = check_signing_capable(*cert))
    return std::unexpected(*bad);
  if (auto bad = check_signing_key(*key))
    return std::unexpected(*bad);
  std::vector<certificate> chain;
  bool has_chain = std::ranges::any_of(
      chain_pem, [](char c) { return std::isspace(static_cast<unsigned char>(c)) == 0; });
  if (has_chain) {
    auto loaded = load_certificates(chain_pem);
    if (!loaded)
      return std::unexpected(loaded.error());
    auto ordered = order_chain(*cert, std::move(*loaded));
    if (!ordered)
      return std::unexpected(ordered.error());
    chain = std::move(*ordered);
  }
  auto serial =
      canonical_serial(last_serial_hex.empty() ? cert->serial_hex() : std::string(last_serial_hex));
  if (!serial)
    return std::unexpected(serial.error());
  return certificate_authority(std::move(*key), std::move(*cert), std::move(chain),
                               std::move(*serial));
}

std::expected<certificate_authority, error>
certificate_authority::import_pkcs12(std::string_view der, std::string_view password,
                                     time_point now) {
  auto contents = parse_pkcs12(der, password);
  if (!contents)
    return std::unexpected(contents.error());
  if (auto bad = check_signing_capable(contents->cert))
    return std::unexpected(*bad);
  if (auto bad = check_signing_key(contents->key))
    return std::unexpected(*bad);
  auto chain = order_chain(contents->cert, std::move(contents->chain));
  if (!chain)
    return std::unexpected(chain.error());
  if (!contents->cert.is_valid_at(now))
    return std::unexpected(error{errc::expired, "the signing certificate '" +
                                                    contents->cert.subject() +
                                                    "' is outside its validity period"});
  for (const auto& link : *chain)
    if (!link.is_valid_at(now))
      return std::unexpected(error{errc::expired, "chain certificate '" + link.subject() +
                                                      "' is outside its validity period"});
  auto serial = contents->cert.serial_hex();
  return certificate_authority(std::move(contents->key), std::move(contents->cert),
                               std::move(*chain), std::move(serial));
}

std::expected<certificate, error> certificate_authority::issue_node_identity(
    const public_key& subject_key, const std::string& hostname,
    const std::vector<std::string>& ip_addresses, time_point now) {
  if (auto bad = check_usable(signing_, now))
    return std::unexpected(*bad);
  if (auto bad = check_node_key(subject_key))
    return std::unexpected(*bad);
  if (auto bad = check_hostname(hostname, max_common_name))
    return std::unexpected(*bad);
  std::vector<subject_alt_name> names{{subject_alt_name::kind::dns, hostname}};
  for (const auto& address : ip_addresses) {
    subject_alt_name name{subject_alt_name::kind::ip, address};
    if (auto valid = validate(name); !valid)
      return std::unexpected(valid.error());
    names.push_back(std::move(name));
  }
  auto serial = successor(last_serial_hex_);
  if (!serial)
    return std::unexpected(serial.error());

  certificate_builder builder;
  if (auto added = add_subject_like(builder, signing_, hostname); !added)
    return std::unexpected(added.error());
  // An identity never outlives the CA that vouches for it.
  auto not_after = std::min(now + node_identity_validity, signing_.not_after());
  auto cert = builder.validity(now, not_after)
                  .serial_hex(*serial)
                  .extension(NID_basic_constraints, "critical,CA:FALSE")
                  .extension(NID_key_usage, key_usage_of_identities())
                  .extension(NID_ext_key_usage, "serverAuth,clientAuth")
                  .extension(NID_subject_key_identifier, "hash")
                  .subject_alt_names(names)
                  .hash(signature_hash::sha256)
                  .sign(subject_key, signing_, key_);
  if (!cert)
    return std::unexpected(cert.error());
  last_serial_hex_ = std::move(*serial);
  return cert;
}

std::expected<certificate, error>
certificate_authority::sign_node_csr(std::string_view csr,
                                     const std::vector<std::string>& ip_addresses, time_point now) {
  auto request = parse_csr(csr);
  if (!request)
    return std::unexpected(request.error());
  if (request->common_name.empty())
    return std::unexpected(
        error{errc::invalid_argument, "the request names no host (its subject has no CN)"});
  return issue_node_identity(request->public_key, request->common_name, ip_addresses, now);
}

std::expected<device_issue, error>
certificate_authority::issue_device(const device_request& request, time_point now,
                                    const random_source& random) {
  if (request.pkcs12_password.empty())
    return std::unexpected(
        error{errc::invalid_argument, "a password to protect the PKCS#12 file is required"});
  if (request.common_name.empty() || request.common_name.size() > max_common_name ||
      !is_plain_text(request.common_name))
    return std::unexpected(error{errc::invalid_argument,
                                 "subject name must be 1 to 64 characters without control "
                                 "characters"});
  if (auto bad = check_organisation(request.subject_fields))
    return std::unexpected(*bad);
  if (request.sans.size() > max_device_alt_names)
    return std::unexpected(
        error{errc::invalid_argument,
              "at most " + std::to_string(max_device_alt_names) + " subject alternative names"});
  for (const auto& name : request.sans)
    if (auto valid = validate(name); !valid)
      return std::unexpected(valid.error());
  if (request.validity_days < 1 || request.validity_days > device_validity_max_days)
    return std::unexpected(
        error{errc::invalid_argument,
              "validity must be 1 to " + std::to_string(device_validity_max_days) + " days"});
  if (request.key_bits != 1024 && request.key_bits != 2048 && request.key_bits != 4096)
    return std::unexpected(
        error{errc::invalid_argument, "device keys are RSA 1024, 2048 or 4096 bits"});
  if (request.key_bits == 1024 && !request.legacy)
    return std::unexpected(error{errc::weak_key, "RSA-1024 is only issued with the legacy flag"});
  if (request.hash == signature_hash::sha1 && !request.legacy)
    return std::unexpected(error{errc::weak_hash, "SHA-1 is only issued with the legacy flag"});
  if (auto bad = check_usable(signing_, now))
    return std::unexpected(*bad);

  std::vector<std::string> warnings;
  if (request.validity_days > device_validity_warning_days)
    warnings.push_back("validity of " + std::to_string(request.validity_days) +
                       " days is above the recommended " +
                       std::to_string(device_validity_warning_days) +
                       " (3 years): the longer a key is in use, the greater the risk of "
                       "compromise");
  if (request.key_bits == 1024)
    warnings.push_back("RSA-1024 is weak: use it only for a legacy device that cannot do "
                       "RSA-2048");
  if (request.hash == signature_hash::sha1)
    warnings.push_back("SHA-1 is weak: use it only for a legacy device that cannot do SHA-256");
  auto not_after = now + std::chrono::days(request.validity_days);
  if (not_after > signing_.not_after()) {
    not_after = signing_.not_after();
    warnings.push_back("validity shortened to the CA's own expiry");
  }

  auto key = private_key::generate_rsa(request.key_bits);
  if (!key)
    return std::unexpected(key.error());
  certificate_builder builder;
  add_subject(builder, request.subject_fields, request.common_name);
  auto cert = builder.validity(now, not_after)
                  .random_serial(random)
                  .extension(NID_basic_constraints, "critical,CA:FALSE")
                  .extension(NID_key_usage, key_usage_of_identities())
                  .extension(NID_ext_key_usage, "serverAuth,clientAuth")
                  .extension(NID_subject_key_identifier, "hash")
                  .subject_alt_names(request.sans)
                  .hash(request.hash)
                  .sign(*key, signing_, key_);
  if (!cert)
    return std::unexpected(cert.error());
  std::vector<certificate> chain{signing_};
  chain.insert(chain.end(), chain_.begin(), chain_.end());
  auto bundle = make_pkcs12(*key, *cert, chain, request.pkcs12_password, request.common_name);
  if (!bundle)
    return std::unexpected(bundle.error());
  return device_issue{std::move(*bundle), record_of(*cert, issued_purpose::device_identity),
                      std::move(warnings)};
}

std::expected<void, error> certificate_authority::renew_existing(time_point now,
                                                                 const random_source& random) {
  if (!chain_.empty() || !signing_.is_self_signed())
    return std::unexpected(error{errc::invalid_argument,
                                 "only a self-signed root is renewed here; an intermediate is "
                                 "renewed by the CA above it"});
  auto current = bignum_from_hex(signing_.serial_hex());
  auto last = bignum_from_hex(last_serial_hex_);
  if (!current || !last)
    return std::unexpected(error{errc::invalid_argument, "CA serials are unusable"});
  // The issuer name stays the same, so the new serial must differ from the old one and
  // from every sequential serial issued under it.
  bignum_ptr serial;
  for (int attempt = 0; attempt < serial_attempts && !serial; ++attempt) {
    auto bytes = random_serial_bytes(random);
    bignum_ptr candidate(BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), nullptr));
    if (!candidate)
      return std::unexpected(openssl_failure(errc::crypto_failure, "out of memory"));
    bool issued =
        BN_cmp(candidate.get(), current.get()) >= 0 && BN_cmp(candidate.get(), last.get()) <= 0;
    if (BN_cmp(candidate.get(), current.get()) != 0 && !issued)
      serial = std::move(candidate);
  }
  if (!serial)
    return std::unexpected(
        error{errc::crypto_failure, "the random source keeps repeating serials already used"});

  x509_ptr renewed(X509_dup(signing_.native()));
  if (!renewed || !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(renewed.get())))
    return std::unexpected(openssl_failure(errc::crypto_failure, "cannot copy the CA"));
  auto not_before = now - ca_backdating;
  auto to_time = [](time_point when) { return std::chrono::system_clock::to_time_t(when); };
  if (!ASN1_TIME_set(X509_getm_notBefore(renewed.get()), to_time(not_before)) ||
      !ASN1_TIME_set(X509_getm_notAfter(renewed.get()), to_time(not_before + ca_validity)))
    return std::unexpected(openssl_failure(errc::invalid_argument, "cannot set validity"));
  // Keep the digest the old certificate used unless it was weaker than SHA-256.
  int digest = NID_undef;
  OBJ_find_sigid_algs(X509_get_signature_nid(renewed.get()), &digest, nullptr);
  const EVP_MD* md = digest == NID_sha384   ? EVP_sha384()
                     : digest == NID_sha512 ? EVP_sha512()
                                            : EVP_sha256();
  if (X509_sign(renewed.get(), key_.native(), md) <= 0)
    return std::unexpected(openssl_failure(errc::crypto_failure, "signing failed"));
  // A fresh parse, so no value OpenSSL cached from the old certificate survives.
  auto cert = reencode(renewed);
  if (!cert)
    return std::unexpected(cert.error());
  signing_ = std::move(*cert);
  return {};
}

std::expected<std::string, error>
certificate_authority::export_pkcs12(std::string_view password) const {
  return make_pkcs12(key_, signing_, chain_, password, signing_.subject_common_name());
}

std::string certificate_authority::chain_pem() const {
  std::string pem;
  if (auto own = signing_.to_pem())
    pem += *own;
  for (const auto& link : chain_)
    if (auto text = link.to_pem())
      pem += *text;
  return pem;
}

} // namespace ward::pki
