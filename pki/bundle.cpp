#include "pki/bundle.hpp"

#include "pki/openssl_output.hpp"
#include "pki/openssl_ptr.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>

#include <optional>

namespace ward::pki {
namespace {

using pkcs12_ptr = std::unique_ptr<PKCS12, openssl_deleter<PKCS12_free>>;
using pkcs7_ptr = std::unique_ptr<PKCS7, openssl_deleter<PKCS7_free>>;
using pbe_param_ptr = std::unique_ptr<PBEPARAM, openssl_deleter<PBEPARAM_free>>;
using pbe2_param_ptr = std::unique_ptr<PBE2PARAM, openssl_deleter<PBE2PARAM_free>>;
using pbkdf2_param_ptr = std::unique_ptr<PBKDF2PARAM, openssl_deleter<PBKDF2PARAM_free>>;
using p8_info_ptr = std::unique_ptr<PKCS8_PRIV_KEY_INFO, openssl_deleter<PKCS8_PRIV_KEY_INFO_free>>;

// The stack "free" functions are macros in OpenSSL 3, so they get deleters of their own.
struct x509_view_stack_deleter {
  // Frees the stack only: the certificates in it belong to `certificate` objects.
  void operator()(STACK_OF(X509) * stack) const noexcept { sk_X509_free(stack); }
};
struct pkcs7_stack_deleter {
  void operator()(STACK_OF(PKCS7) * stack) const noexcept { sk_PKCS7_pop_free(stack, PKCS7_free); }
};
struct safebag_stack_deleter {
  void operator()(STACK_OF(PKCS12_SAFEBAG) * stack) const noexcept {
    sk_PKCS12_SAFEBAG_pop_free(stack, PKCS12_SAFEBAG_free);
  }
};
using x509_view_stack_ptr = std::unique_ptr<STACK_OF(X509), x509_view_stack_deleter>;
using pkcs7_stack_ptr = std::unique_ptr<STACK_OF(PKCS7), pkcs7_stack_deleter>;
using safebag_stack_ptr = std::unique_ptr<STACK_OF(PKCS12_SAFEBAG), safebag_stack_deleter>;

/// Bags read from one file before Ward gives up on it: a key, its certificate and a chain
/// need a handful; thousands only make a parser work for an attacker.
constexpr std::size_t max_pkcs12_bags = 64;
/// Nesting of SafeContents bags inside SafeContents bags.
constexpr int max_pkcs12_depth = 2;
/// Certificates one load_certificates call returns at most.
constexpr std::size_t max_loaded_certificates = 1000;

std::shared_ptr<X509> share(X509* cert) {
  return std::shared_ptr<X509>(cert, X509_free);
}

error format_error(std::string_view what) {
  return openssl_failure(errc::wrong_format, what);
}

bool contains_nul(std::string_view text) {
  return text.find('\0') != std::string_view::npos;
}

/// Decodes the SEQUENCE parameter of an AlgorithmIdentifier with `Decode`.
template <class Ptr, auto Decode> Ptr decode_parameter(const X509_ALGOR* algorithm) {
  const ASN1_OBJECT* oid = nullptr;
  int type = 0;
  const void* value = nullptr;
  X509_ALGOR_get0(&oid, &type, &value, algorithm);
  if (type != V_ASN1_SEQUENCE || !value)
    return nullptr;
  const auto* sequence = static_cast<const ASN1_STRING*>(value);
  const unsigned char* cursor = ASN1_STRING_get0_data(sequence);
  return Ptr(Decode(nullptr, &cursor, ASN1_STRING_length(sequence)));
}

std::optional<error> check_iteration_count(const ASN1_INTEGER* count) {
  std::int64_t iterations = 1;
  if (count && ASN1_INTEGER_get_int64(&iterations, count) != 1)
    return format_error("PKCS#12 iteration count is unreadable");
  if (iterations < 1 || iterations > max_pkcs12_iterations)
    return error{errc::wrong_format, "PKCS#12 asks for " + std::to_string(iterations) +
                                         " iterations; Ward accepts 1 to " +
                                         std::to_string(max_pkcs12_iterations)};
  return std::nullopt;
}

/// Refuses a password-based encryption whose iteration count is out of bounds, before
/// OpenSSL spends that many rounds on it.
std::optional<error> check_encryption(const X509_ALGOR* algorithm) {
  if (!algorithm)
    return format_error("PKCS#12 encryption algorithm missing");
  const ASN1_OBJECT* oid = nullptr;
  X509_ALGOR_get0(&oid, nullptr, nullptr, algorithm);
  if (OBJ_obj2nid(oid) != NID_pbes2) {
    // The PKCS#12 PBE schemes (pbeWithSHAAnd3-KeyTripleDES-CBC and kin).
    auto parameters = decode_parameter<pbe_param_ptr, d2i_PBEPARAM>(algorithm);
    if (!parameters)
      return format_error("PKCS#12 encryption parameters are unreadable");
    return check_iteration_count(parameters->iter);
  }
  auto pbes2 = decode_parameter<pbe2_param_ptr, d2i_PBE2PARAM>(algorithm);
  if (!pbes2 || !pbes2->keyfunc)
    return format_error("PKCS#12 PBES2 parameters are unreadable");
  const ASN1_OBJECT* kdf = nullptr;
  X509_ALGOR_get0(&kdf, nullptr, nullptr, pbes2->keyfunc);
  if (OBJ_obj2nid(kdf) != NID_id_pbkdf2)
    return error{errc::wrong_format, "PKCS#12 key derivation other than PBKDF2 (e.g. scrypt) "
                                     "is not accepted"};
  auto pbkdf2 = decode_parameter<pbkdf2_param_ptr, d2i_PBKDF2PARAM>(pbes2->keyfunc);
  if (!pbkdf2)
    return format_error("PKCS#12 PBKDF2 parameters are unreadable");
  return check_iteration_count(pbkdf2->iter);
}

struct pkcs12_password {
  const char* text;
  int size;
};

struct collected_bags {
  std::vector<evp_pkey_ptr> keys;
  std::vector<x509_ptr> certs;
  std::size_t bags = 0;
};

std::optional<error> collect(const STACK_OF(PKCS12_SAFEBAG) * bags, pkcs12_password password,
                             collected_bags& out, int depth) {
  for (int i = 0; i < sk_PKCS12_SAFEBAG_num(bags); ++i) {
    const PKCS12_SAFEBAG* bag = sk_PKCS12_SAFEBAG_value(bags, i);
    if (++out.bags > max_pkcs12_bags)
      return error{errc::wrong_format,
                   "PKCS#12 holds more than " + std::to_string(max_pkcs12_bags) + " entries"};
    switch (PKCS12_SAFEBAG_get_nid(bag)) {
      case NID_keyBag: {
        const PKCS8_PRIV_KEY_INFO* info = PKCS12_SAFEBAG_get0_p8inf(bag);
        evp_pkey_ptr key(info ? EVP_PKCS82PKEY(info) : nullptr);
        if (!key)
          return format_error("PKCS#12 key is unreadable");
        out.keys.push_back(std::move(key));
        break;
      }
      case NID_pkcs8ShroudedKeyBag: {
        const X509_SIG* shrouded = PKCS12_SAFEBAG_get0_pkcs8(bag);
        if (!shrouded)
          return format_error("PKCS#12 key is unreadable");
        const X509_ALGOR* algorithm = nullptr;
        X509_SIG_get0(shrouded, &algorithm, nullptr);
        if (auto refused = check_encryption(algorithm))
          return refused;
        p8_info_ptr info(PKCS12_decrypt_skey(bag, password.text, password.size));
        evp_pkey_ptr key(info ? EVP_PKCS82PKEY(info.get()) : nullptr);
        if (!key)
          return format_error("PKCS#12 key cannot be decrypted (another password, or an "
                              "algorithm OpenSSL 3 only has in its legacy provider)");
        out.keys.push_back(std::move(key));
        break;
      }
      case NID_certBag: {
        if (PKCS12_SAFEBAG_get_bag_nid(bag) != NID_x509Certificate)
          break;
        x509_ptr cert(PKCS12_SAFEBAG_get1_cert(bag));
        if (!cert)
          return format_error("PKCS#12 certificate is unreadable");
        out.certs.push_back(std::move(cert));
        break;
      }
      case NID_safeContentsBag: {
        if (depth >= max_pkcs12_depth)
          return error{errc::wrong_format, "PKCS#12 nests its contents too deeply"};
        const STACK_OF(PKCS12_SAFEBAG)* inner = PKCS12_SAFEBAG_get0_safes(bag);
        if (!inner)
          return format_error("PKCS#12 nested contents are unreadable");
        if (auto failed = collect(inner, password, out, depth + 1))
          return failed;
        break;
      }
      default:
        // CRLs and secrets: nothing Ward imports.
        break;
    }
  }
  return std::nullopt;
}

/// Verifies the MAC with `password`, and for an empty password also with none, as files
/// made without a password differ in which of the two their MAC used.
std::expected<pkcs12_password, error> verify_mac(PKCS12* p12, const std::string& password) {
  if (!PKCS12_mac_present(p12))
    return std::unexpected(
        error{errc::wrong_format, "PKCS#12 has no MAC: its contents could have been altered"});
  const ASN1_INTEGER* iterations = nullptr;
  PKCS12_get0_mac(nullptr, nullptr, nullptr, &iterations, p12);
  if (auto refused = check_iteration_count(iterations))
    return std::unexpected(*refused);
  std::vector<pkcs12_password> candidates{{password.c_str(), static_cast<int>(password.size())}};
  if (password.empty())
    candidates.push_back({nullptr, 0});
  for (auto candidate : candidates) {
    if (PKCS12_verify_mac(p12, candidate.text, candidate.size) == 1)
      return candidate;
    // A mismatch queues nothing; a queued error means the MAC could not be computed.
    if (ERR_peek_error() != 0)
      return std::unexpected(format_error("PKCS#12 MAC cannot be computed"));
  }
  return std::unexpected(
      error{errc::bad_password, "PKCS#12 password is wrong (or the file was altered)"});
}

std::optional<error> append_pkcs7_certificates(const PKCS7* p7, std::vector<certificate>& out) {
  if (OBJ_obj2nid(p7->type) != NID_pkcs7_signed || !p7->d.sign || !p7->d.sign->cert ||
      sk_X509_num(p7->d.sign->cert) == 0)
    return error{errc::wrong_format, "PKCS#7 holds no certificates"};
  for (int i = 0; i < sk_X509_num(p7->d.sign->cert); ++i) {
    X509* cert = sk_X509_value(p7->d.sign->cert, i);
    if (out.size() >= max_loaded_certificates)
      return error{errc::wrong_format, "too many certificates"};
    if (!cert || X509_up_ref(cert) != 1)
      return format_error("PKCS#7 certificate is unreadable");
    out.emplace_back(share(cert));
  }
  return std::nullopt;
}

/// Decodes exactly `size` bytes as a `T`; trailing bytes mean it is something else.
template <class Ptr, auto Decode> Ptr decode_whole(const unsigned char* data, long size) {
  const unsigned char* cursor = data;
  Ptr value(Decode(nullptr, &cursor, size));
  if (value && cursor != data + size)
    return nullptr;
  return value;
}

std::expected<std::vector<certificate>, error> load_pem(std::string_view bytes) {
  auto bio = read_only_bio(bytes.data(), bytes.size());
  if (!bio)
    return std::unexpected(openssl_failure(errc::crypto_failure, "out of memory"));
  std::vector<certificate> certs;
  while (true) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long size = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &size) != 1) {
      // Running out of blocks ends the input; anything else is a damaged block.
      if (ERR_GET_REASON(ERR_peek_last_error()) == PEM_R_NO_START_LINE) {
        drain_openssl_errors();
        break;
      }
      return std::unexpected(format_error("damaged PEM block"));
    }
    struct block_memory {
      char* name;
      char* header;
      unsigned char* data;
      ~block_memory() {
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
      }
    } memory{name, header, data};
    std::string_view type(name);
    if (certs.size() >= max_loaded_certificates)
      return std::unexpected(error{errc::wrong_format, "too many certificates"});
    if (type == PEM_STRING_X509 || type == PEM_STRING_X509_OLD) {
      auto cert = decode_whole<x509_ptr, d2i_X509>(data, size);
      if (!cert)
        return std::unexpected(format_error("damaged PEM certificate"));
      certs.emplace_back(share(cert.release()));
    } else if (type == PEM_STRING_X509_TRUSTED) {
      auto cert = decode_whole<x509_ptr, d2i_X509_AUX>(data, size);
      if (!cert)
        return std::unexpected(format_error("damaged PEM trusted certificate"));
      certs.emplace_back(share(cert.release()));
    } else if (type == PEM_STRING_PKCS7 || type == PEM_STRING_PKCS7_SIGNED) {
      auto p7 = decode_whole<pkcs7_ptr, d2i_PKCS7>(data, size);
      if (!p7)
        return std::unexpected(format_error("damaged PEM PKCS#7"));
      if (auto failed = append_pkcs7_certificates(p7.get(), certs))
        return std::unexpected(*failed);
    }
    // Other blocks (a private key beside its certificate, a CSR) carry no certificate.
  }
  if (certs.empty())
    return std::unexpected(error{errc::wrong_format, "no certificate in the PEM input"});
  return certs;
}

std::expected<std::vector<certificate>, error> load_der(std::string_view bytes) {
  const auto* begin = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* end = begin + bytes.size();
  std::vector<certificate> certs;
  // One certificate, or several written back to back.
  const unsigned char* cursor = begin;
  while (cursor < end && certs.size() < max_loaded_certificates) {
    X509* cert = d2i_X509(nullptr, &cursor, end - cursor);
    if (!cert)
      break;
    certs.emplace_back(share(cert));
  }
  if (!certs.empty() && cursor == end)
    return certs;
  drain_openssl_errors();
  certs.clear();
  auto p7 = decode_whole<pkcs7_ptr, d2i_PKCS7>(begin, static_cast<long>(bytes.size()));
  if (!p7)
    return std::unexpected(
        format_error("neither PEM, DER certificates nor a PKCS#7 certificate bundle"));
  if (auto failed = append_pkcs7_certificates(p7.get(), certs))
    return std::unexpected(*failed);
  return certs;
}

} // namespace

std::expected<std::string, error> make_pkcs12(const private_key& key, const certificate& cert,
                                              const std::vector<certificate>& chain,
                                              std::string_view password,
                                              std::string_view friendly_name) {
  if (password.empty())
    return std::unexpected(error{errc::invalid_argument, "a PKCS#12 file needs a password"});
  // OpenSSL takes C strings: a NUL would silently shorten the password.
  if (contains_nul(password) || contains_nul(friendly_name))
    return std::unexpected(
        error{errc::invalid_argument, "password and friendly name may not contain NUL"});
  if (!cert.matches(key))
    return std::unexpected(error{errc::key_mismatch, "the key does not belong to the certificate"});
  x509_view_stack_ptr others(sk_X509_new_null());
  if (!others)
    return std::unexpected(openssl_failure(errc::crypto_failure, "out of memory"));
  for (const auto& link : chain)
    if (sk_X509_push(others.get(), link.native()) <= 0)
      return std::unexpected(openssl_failure(errc::crypto_failure, "out of memory"));
  std::string pass(password);
  std::string name(friendly_name);
  // The MAC is added separately below, as PKCS12_create would pick SHA-1 for it.
  pkcs12_ptr p12(PKCS12_create_ex(pass.c_str(), name.empty() ? nullptr : name.c_str(), key.native(),
                                  cert.native(), others.get(), NID_aes_256_cbc, NID_aes_256_cbc,
                                  pkcs12_iterations, -1, 0, nullptr, nullptr));
  if (!p12)
    return std::unexpected(openssl_failure(errc::crypto_failure, "cannot create PKCS#12"));
  if (PKCS12_set_mac(p12.get(), pass.c_str(), -1, nullptr, 0, pkcs12_iterations, EVP_sha256()) != 1)
    return std::unexpected(openssl_failure(errc::crypto_failure, "cannot add the PKCS#12 MAC"));
  auto der = der_of<i2d_PKCS12>(p12.get());
  if (!der)
    return std::unexpected(openssl_failure(errc::crypto_failure, "cannot encode PKCS#12"));
  return *der;
}

std::expected<pkcs12_contents, error> parse_pkcs12(std::string_view der,
                                                   std::string_view password) {
  if (contains_nul(password))
    return std::unexpected(error{errc::invalid_argument, "password may not contain NUL"});
  auto p12 = decode_whole<pkcs12_ptr, d2i_PKCS12>(
      reinterpret_cast<const unsigned char*>(der.data()), static_cast<long>(der.size()));
  if (!p12)
    return std::unexpected(format_error("not a PKCS#12 file"));
  std::string pass(password);
  auto verified = verify_mac(p12.get(), pass);
  if (!verified)
    return std::unexpected(verified.error());

  pkcs7_stack_ptr safes(PKCS12_unpack_authsafes(p12.get()));
  if (!safes)
    return std::unexpected(format_error("PKCS#12 contents are unreadable"));
  collected_bags found;
  for (int i = 0; i < sk_PKCS7_num(safes.get()); ++i) {
    PKCS7* safe = sk_PKCS7_value(safes.get(), i);
    safebag_stack_ptr bags;
    int type = safe ? OBJ_obj2nid(safe->type) : NID_undef;
    if (type == NID_pkcs7_data) {
      bags.reset(PKCS12_unpack_p7data(safe));
    } else if (type == NID_pkcs7_encrypted) {
      if (!safe->d.encrypted || !safe->d.encrypted->enc_data)
        return std::unexpected(error{errc::wrong_format, "PKCS#12 encrypted part is empty"});
      if (auto refused = check_encryption(safe->d.encrypted->enc_data->algorithm))
        return std::unexpected(*refused);
      bags.reset(PKCS12_unpack_p7encdata(safe, verified->text, verified->size));
    } else {
      return std::unexpected(error{errc::wrong_format,
                                   "PKCS#12 part of a kind Ward does not read (public-key "
                                   "encrypted or unknown)"});
    }
    if (!bags)
      return std::unexpected(
          format_error("PKCS#12 part cannot be read or decrypted (an algorithm such as RC2 "
                       "that OpenSSL 3 only has in its legacy provider?)"));
    if (auto failed = collect(bags.get(), *verified, found, 0))
      return std::unexpected(*failed);
  }

  if (found.keys.size() != 1)
    return std::unexpected(error{errc::wrong_format, "PKCS#12 must hold exactly one private key, "
                                                     "not " +
                                                         std::to_string(found.keys.size())});
  EVP_PKEY* key = found.keys.front().get();
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA)
    return std::unexpected(error{errc::invalid_argument, "identity keys must be RSA"});
  std::optional<certificate> own;
  std::vector<certificate> chain;
  for (auto& cert : found.certs) {
    EVP_PKEY* cert_key = X509_get0_pubkey(cert.get());
    bool mine = !own && cert_key && EVP_PKEY_eq(cert_key, key) == 1;
    if (mine)
      own.emplace(share(cert.release()));
    else
      chain.emplace_back(share(cert.release()));
  }
  drain_openssl_errors();
  if (!own)
    return std::unexpected(
        error{errc::key_mismatch, "PKCS#12 holds no certificate for its private key"});
  return pkcs12_contents{
      private_key(std::shared_ptr<EVP_PKEY>(found.keys.front().release(), EVP_PKEY_free)),
      std::move(*own), std::move(chain)};
}

std::expected<std::vector<certificate>, error> load_certificates(std::string_view bytes) {
  if (bytes.find("-----BEGIN") != std::string_view::npos)
    return load_pem(bytes);
  return load_der(bytes);
}

std::expected<std::string, error> make_pkcs7_chain(const std::vector<certificate>& certificates) {
  if (certificates.empty())
    return std::unexpected(error{errc::invalid_argument, "a chain needs at least one certificate"});
  pkcs7_ptr p7(PKCS7_new());
  if (!p7 || PKCS7_set_type(p7.get(), NID_pkcs7_signed) != 1 ||
      PKCS7_content_new(p7.get(), NID_pkcs7_data) != 1)
    return std::unexpected(openssl_failure(errc::crypto_failure, "cannot create PKCS#7"));
  for (const auto& cert : certificates)
    if (PKCS7_add_certificate(p7.get(), cert.native()) != 1)
      return std::unexpected(openssl_failure(errc::crypto_failure, "cannot add certificate"));
  auto pem = write_to_string([&p7](BIO* bio) { return PEM_write_bio_PKCS7(bio, p7.get()) == 1; });
  if (!pem)
    return std::unexpected(openssl_failure(errc::crypto_failure, "cannot encode PKCS#7"));
  return *pem;
}

} // namespace ward::pki
