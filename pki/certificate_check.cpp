#include "pki/certificate_check.hpp"

#include "core/enum_names.hpp"
#include "core/net_address.hpp"
#include "pki/error.hpp"
#include "pki/openssl_output.hpp"
#include "pki/openssl_ptr.hpp"
#include "pki/sip_domain.hpp"

#include <openssl/x509_vfy.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <utility>

namespace ward::pki {
namespace {

constexpr auto level_names =
    name_table(enum_name{check_level::none, "none"}, enum_name{check_level::low, "low"},
               enum_name{check_level::medium, "medium"}, enum_name{check_level::high, "high"},
               enum_name{check_level::medium_remote, "medium_remote"},
               enum_name{check_level::high_remote, "high_remote"});

bool checks_chain(check_level level) {
  return level != check_level::none && level != check_level::low;
}

bool checks_pinning(check_level level) {
  return level == check_level::high || level == check_level::high_remote;
}

bool checks_name(check_level level) {
  return level == check_level::medium_remote || level == check_level::high_remote;
}

check_result fail(check_failure failure, std::string detail) {
  return {failure, std::move(detail)};
}

certificate share(X509* cert) {
  X509_up_ref(cert);
  return certificate(std::shared_ptr<X509>(cert, X509_free));
}

std::string asn1_time_text(const ASN1_TIME* time) {
  return write_to_string([time](BIO* bio) { return ASN1_TIME_print(bio, time) == 1; })
      .value_or("?");
}

/// Upper-case hex without separators or leading zeros, so that serials written by hand,
/// with colons or zero-padded to full bytes compare equal to OpenSSL's rendering.
std::string normalize_hex(std::string_view text) {
  std::string hex;
  for (char c : text) {
    if (c == ':' || c == ' ')
      continue;
    hex += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  auto first = hex.find_first_not_of('0');
  if (first == std::string::npos)
    return hex.empty() ? hex : "0";
  return hex.substr(first);
}

/// RSA, DSA and DH sizes are compared in bits as the guide states them. Other key types
/// (EC, EdDSA) are compared by equivalent strength — RSA 1024 is 80 security bits, RSA
/// 2048 is 112 — so an ECDSA P-256 peer (SPEC PKI-9) is not refused for "256 bits".
std::optional<std::string> key_weakness(const certificate& leaf, int rsa_bits) {
  EVP_PKEY* key = X509_get0_pubkey(leaf.native());
  int bits = EVP_PKEY_get_bits(key);
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
    case EVP_PKEY_DSA:
    case EVP_PKEY_DH:
    case EVP_PKEY_DHX:
      if (bits >= rsa_bits)
        return std::nullopt;
      return "public key of " + std::to_string(bits) + " bits, at least " +
             std::to_string(rsa_bits) + " required";
    default: {
      int needed = rsa_bits >= 2048 ? 112 : 80;
      int strength = EVP_PKEY_get_security_bits(key);
      if (strength >= needed)
        return std::nullopt;
      return "public key of " + std::to_string(strength) + " security bits, at least " +
             std::to_string(needed) + " (RSA " + std::to_string(rsa_bits) + ") required";
    }
  }
}

/// An unknown critical extension on the leaf is reported by the check that follows the
/// chain check, in the guide's order, rather than as an untrusted chain. On the CAs above
/// it, OpenSSL's refusal stands: such a CA cannot anchor a chain.
int tolerate_leaf_critical_extensions(int ok, X509_STORE_CTX* ctx) {
  if (!ok && X509_STORE_CTX_get_error(ctx) == X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION &&
      X509_STORE_CTX_get_error_depth(ctx) == 0)
    return 1;
  return ok;
}

struct stack_deleter {
  void operator()(STACK_OF(X509) * stack) const noexcept { sk_X509_free(stack); }
};
struct store_deleter {
  void operator()(X509_STORE* store) const noexcept { X509_STORE_free(store); }
};
struct store_ctx_deleter {
  void operator()(X509_STORE_CTX* ctx) const noexcept { X509_STORE_CTX_free(ctx); }
};

/// Verifies `chain` against the TCS at `now`. On success, `verified` holds the chain from
/// the leaf to its trust anchor.
check_result verify_chain(const std::vector<certificate>& chain, const check_context& context,
                          std::vector<certificate>& verified) {
  if (!context.trust)
    return fail(check_failure::untrusted_chain, "no trusted certificate store to check against");
  if (context.trust->entries().empty())
    return fail(check_failure::untrusted_chain, "the trusted certificate store is empty");
  std::unique_ptr<X509_STORE, store_deleter> store(X509_STORE_new());
  std::unique_ptr<STACK_OF(X509), stack_deleter> untrusted(sk_X509_new_null());
  std::unique_ptr<X509_STORE_CTX, store_ctx_deleter> ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx)
    return fail(check_failure::untrusted_chain, "out of memory");
  for (const auto& entry : context.trust->entries())
    X509_STORE_add_cert(store.get(), entry.cert.native());
  // What the peer sent beyond its leaf may only link the leaf to an anchor of ours.
  for (std::size_t i = 1; i < chain.size(); ++i)
    sk_X509_push(untrusted.get(), chain[i].native());
  if (X509_STORE_CTX_init(ctx.get(), store.get(), chain.front().native(), untrusted.get()) != 1)
    return fail(check_failure::untrusted_chain,
                "cannot set up chain verification: " + drain_openssl_errors());
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, std::chrono::system_clock::to_time_t(context.now));
  // Any TCS entry is an anchor, not only self-signed roots: the guide's defaults include
  // intermediates, and High pins leaves.
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  X509_STORE_CTX_set_verify_cb(ctx.get(), tolerate_leaf_critical_extensions);

  int verified_ok = X509_verify_cert(ctx.get());
  if (verified_ok != 1) {
    int code = X509_STORE_CTX_get_error(ctx.get());
    int depth = X509_STORE_CTX_get_error_depth(ctx.get());
    X509* current = X509_STORE_CTX_get_current_cert(ctx.get());
    std::string detail = X509_verify_cert_error_string(code);
    detail += " at depth " + std::to_string(depth) + " (" +
              (current ? share(current).subject() : std::string("?")) + ")";
    drain_openssl_errors();
    return fail(check_failure::untrusted_chain, std::move(detail));
  }
  STACK_OF(X509)* path = X509_STORE_CTX_get0_chain(ctx.get());
  for (int i = 0; i < sk_X509_num(path); ++i)
    verified.push_back(share(sk_X509_value(path, i)));
  return {};
}

bool allows_purpose(const certificate& leaf, certificate_purpose purpose) {
  std::uint32_t usage = X509_get_extended_key_usage(leaf.native());
  std::uint32_t needed =
      purpose == certificate_purpose::tls_server ? XKU_SSL_SERVER : XKU_SSL_CLIENT;
  return (usage & (needed | XKU_ANYEKU)) != 0;
}

std::optional<std::string> unknown_critical_extension(const certificate& leaf) {
  X509* cert = leaf.native();
  for (int i = 0; i < X509_get_ext_count(cert); ++i) {
    X509_EXTENSION* extension = X509_get_ext(cert, i);
    if (!X509_EXTENSION_get_critical(extension) || X509_supported_extension(extension))
      continue;
    char oid[128];
    OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(extension), 1);
    return std::string(oid);
  }
  return std::nullopt;
}

std::optional<std::string> revoked_link(const std::vector<certificate>& verified,
                                        const std::vector<std::string>& revoked_serials) {
  if (revoked_serials.empty())
    return std::nullopt;
  std::vector<std::string> revoked;
  for (const auto& serial : revoked_serials)
    if (auto hex = normalize_hex(serial); !hex.empty())
      revoked.push_back(std::move(hex));
  for (const auto& link : verified) {
    auto serial = normalize_hex(link.serial_hex());
    if (!serial.empty() && std::ranges::find(revoked, serial) != revoked.end())
      return "serial " + serial + " (" + link.subject() + ") is revoked";
  }
  return std::nullopt;
}

bool is_own(const certificate& leaf, const std::vector<std::string>& own_fingerprints) {
  auto fingerprint = normalize_hex(leaf.sha256_fingerprint());
  return std::ranges::any_of(own_fingerprints, [&](const std::string& own) {
    return !fingerprint.empty() && normalize_hex(own) == fingerprint;
  });
}

std::optional<std::string> name_mismatch(const certificate& leaf, std::string name) {
  if (name.size() > 2 && name.front() == '[' && name.back() == ']')
    name = name.substr(1, name.size() - 2);
  if (name.empty())
    return "no host name or address to validate against";
  X509* cert = leaf.native();
  if (is_ip_literal(name)) {
    if (X509_check_ip_asc(cert, name.c_str(), 0) == 1)
      return std::nullopt;
    return "no SAN IP entry matches " + name;
  }
  // The subject CN counts only when the certificate has no SAN at all; a SAN list,
  // even of other types only, is the complete statement of the certificate's names.
  unsigned flags = X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS;
  if (X509_get_ext_by_NID(cert, NID_subject_alt_name, -1) >= 0)
    flags |= X509_CHECK_FLAG_NEVER_CHECK_SUBJECT;
  if (X509_check_host(cert, name.data(), name.size(), flags, nullptr) == 1)
    return std::nullopt;
  drain_openssl_errors();
  return "certificate names do not match " + name;
}

} // namespace

std::string_view to_string(check_level level) {
  return name_of(level_names, level);
}

std::optional<check_level> parse_check_level(std::string_view text) {
  return parse_name(level_names, text);
}

constexpr auto check_failure_names = name_table(
    enum_name{check_failure::none, "none"}, enum_name{check_failure::malformed, "malformed"},
    enum_name{check_failure::not_yet_valid, "not_yet_valid"},
    enum_name{check_failure::expired, "expired"},
    enum_name{check_failure::key_too_small, "key_too_small"},
    enum_name{check_failure::untrusted_chain, "untrusted_chain"},
    enum_name{check_failure::no_key_usage, "no_key_usage"},
    enum_name{check_failure::wrong_extended_key_usage, "wrong_extended_key_usage"},
    enum_name{check_failure::unknown_critical_extension, "unknown_critical_extension"},
    enum_name{check_failure::self_signed, "self_signed"},
    enum_name{check_failure::reflected, "reflected"},
    enum_name{check_failure::not_pinned, "not_pinned"},
    enum_name{check_failure::name_mismatch, "name_mismatch"},
    enum_name{check_failure::revoked, "revoked"});

std::string_view to_string(check_failure failure) {
  return name_of(check_failure_names, failure);
}

check_result check_received_certificate(const std::vector<certificate>& chain, check_level level,
                                        const check_context& context) {
  if (chain.empty())
    return fail(check_failure::malformed, "no certificate received");
  if (std::ranges::any_of(chain, [](const certificate& cert) { return !cert.native(); }))
    return fail(check_failure::malformed, "empty certificate in the chain");
  const certificate& leaf = chain.front();
  if (!X509_get0_pubkey(leaf.native())) {
    drain_openssl_errors();
    return fail(check_failure::malformed, "public key unreadable");
  }

  // None: in date, compared the way OpenSSL's own verification does.
  std::time_t now = std::chrono::system_clock::to_time_t(context.now);
  const ASN1_TIME* not_before = X509_get0_notBefore(leaf.native());
  const ASN1_TIME* not_after = X509_get0_notAfter(leaf.native());
  int before = X509_cmp_time(not_before, &now);
  int after = X509_cmp_time(not_after, &now);
  if (before == 0 || after == 0)
    return fail(check_failure::malformed, "validity dates unreadable");
  if (before > 0)
    return fail(check_failure::not_yet_valid, "not valid before " + asn1_time_text(not_before));
  if (after < 0)
    return fail(check_failure::expired, "expired " + asn1_time_text(not_after));
  if (level == check_level::none)
    return {};

  if (auto weak = key_weakness(leaf, 1024))
    return fail(check_failure::key_too_small, *weak);
  if (!checks_chain(level))
    return {};

  std::vector<certificate> verified;
  if (auto chained = verify_chain(chain, context, verified); !chained.ok())
    return chained;
  std::uint32_t flags = X509_get_extension_flags(leaf.native());
  if (!(flags & EXFLAG_KUSAGE))
    return fail(check_failure::no_key_usage, "certificate has no key usage extension");
  if ((flags & EXFLAG_XKUSAGE) && !allows_purpose(leaf, context.purpose))
    return fail(check_failure::wrong_extended_key_usage,
                context.purpose == certificate_purpose::tls_server
                    ? "extended key usage does not allow TLS server authentication"
                    : "extended key usage does not allow TLS client authentication");
  if (auto oid = unknown_critical_extension(leaf))
    return fail(check_failure::unknown_critical_extension,
                "unknown extension " + *oid + " marked critical");
  if (auto revoked = revoked_link(verified, context.revoked_serials))
    return fail(check_failure::revoked, *revoked);

  if (checks_pinning(level)) {
    if (auto weak = key_weakness(leaf, 2048))
      return fail(check_failure::key_too_small, *weak);
    if (leaf.is_self_signed())
      return fail(check_failure::self_signed, "certificate is self-signed");
    if (is_own(leaf, context.own_fingerprints))
      return fail(check_failure::reflected, "certificate is one of this node's own");
    if (!context.trust->contains_exact(leaf))
      return fail(check_failure::not_pinned, "certificate is not in the trusted certificate store");
  }

  if (checks_name(level)) {
    auto mismatch = context.names == name_rule::sip_domain
                        ? sip_domain_mismatch(leaf, context.expected_name)
                        : name_mismatch(leaf, context.expected_name);
    if (mismatch)
      return fail(check_failure::name_mismatch, *mismatch);
  }
  return {};
}

} // namespace ward::pki
