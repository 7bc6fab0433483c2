#include "pki/tls_policy.hpp"

#include "core/enum_names.hpp"
#include "pki/certificate.hpp"
#include "pki/openssl_ptr.hpp"
#include "pki/private_key.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <array>

namespace ward::pki {
namespace {

enum class cipher_set { a, b };

struct guide_cipher {
  std::string_view iana;
  /// Empty when OpenSSL cannot negotiate the suite at all.
  std::string_view openssl;
  cipher_set set;
};

/// The guide's chapter 29 table, in its order. Kept whole, unsupported rows included, so
/// a reader can check it line by line against the guide.
constexpr std::array guide_ciphers{
    guide_cipher{"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
                 cipher_set::a},
    guide_cipher{"TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "DHE-RSA-AES256-GCM-SHA384", cipher_set::a},
    guide_cipher{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
                 cipher_set::a},
    guide_cipher{"TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "DHE-RSA-AES128-GCM-SHA256", cipher_set::a},
    // Static ECDH was removed in OpenSSL 1.1.0; no peer can negotiate it with Ward.
    guide_cipher{"TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384", "", cipher_set::a},
    guide_cipher{"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384", cipher_set::a},
    guide_cipher{"TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256", "", cipher_set::a},
    guide_cipher{"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256", cipher_set::a},
    guide_cipher{"TLS_DHE_RSA_WITH_AES_256_CBC_SHA", "DHE-RSA-AES256-SHA", cipher_set::b},
    guide_cipher{"TLS_DHE_RSA_WITH_AES_128_CBC_SHA", "DHE-RSA-AES128-SHA", cipher_set::b},
    guide_cipher{"TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", "DHE-RSA-AES256-SHA256", cipher_set::b},
    guide_cipher{"TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", "DHE-RSA-AES128-SHA256", cipher_set::b},
    guide_cipher{"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA", cipher_set::b},
    guide_cipher{"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA", cipher_set::b},
    guide_cipher{"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "ECDHE-RSA-AES256-SHA384", cipher_set::b},
    guide_cipher{"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256", cipher_set::b},
};

/// What "backward compatible" adds at low: the RSA key-exchange AES-CBC suites that
/// clients predating ECDHE offer. 3DES (the guide's example of a weak cipher) is not
/// here: Debian's OpenSSL 3 no longer builds it, and Sweet32 would argue against it anyway.
constexpr std::string_view legacy_ciphers = "AES256-SHA256:AES128-SHA256:AES256-SHA:AES128-SHA";

constexpr std::string_view tls13_all =
    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";
constexpr std::string_view tls13_high = "TLS_AES_256_GCM_SHA384";

template <class Keep> std::string join_ciphers(Keep keep) {
  std::string joined;
  for (const auto& cipher : guide_ciphers) {
    if (cipher.openssl.empty() || !keep(cipher))
      continue;
    if (!joined.empty())
      joined += ':';
    joined += cipher.openssl;
  }
  return joined;
}

const std::string& set_a_list() {
  static const std::string list =
      join_ciphers([](const guide_cipher& c) { return c.set == cipher_set::a; });
  return list;
}

const std::string& set_b_list() {
  static const std::string list =
      join_ciphers([](const guide_cipher& c) { return c.set == cipher_set::b; });
  return list;
}

const std::string& high_list() {
  static const std::string list = join_ciphers([](const guide_cipher& c) {
    return c.set == cipher_set::a && c.openssl.find("AES256-GCM") != std::string_view::npos;
  });
  return list;
}

const std::string& medium_list() {
  static const std::string list = set_a_list() + ":" + set_b_list();
  return list;
}

const std::string& low_list() {
  static const std::string list = medium_list() + ":" + std::string(legacy_ciphers);
  return list;
}

using ssl_ctx_ptr = std::shared_ptr<SSL_CTX>;

/// Every certificate in a PEM bundle; an empty bundle is an empty list, a bundle with
/// bytes but no certificate is an error.
std::expected<std::vector<x509_ptr>, error> read_pem_bundle(std::string_view pem,
                                                            std::string_view what) {
  std::vector<x509_ptr> certs;
  if (pem.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return certs;
  auto bio = read_only_bio(pem.data(), pem.size());
  // A null password callback would make OpenSSL prompt on the terminal for encrypted
  // blocks; certificates are never encrypted, so refuse instead.
  auto no_password = [](char*, int, int, void*) { return -1; };
  while (X509* raw = PEM_read_bio_X509(bio.get(), nullptr, no_password, nullptr))
    certs.emplace_back(raw);
  // Running off the end of the bundle queues a harmless "no start line".
  ERR_clear_error();
  if (certs.empty())
    return std::unexpected(error{errc::wrong_format, std::string(what) + " holds no certificate"});
  return certs;
}

/// Installs a key, its certificate and the chain sent after it; `role` ("server",
/// "client") names them in errors.
std::expected<void, error> install_identity(SSL_CTX* ctx, std::string_view key_pem,
                                            std::string_view certificate_pem,
                                            std::string_view chain_pem, const std::string& role) {
  auto key = private_key::from_pem(key_pem);
  if (!key)
    return std::unexpected(error{key.error().code, role + " key: " + key.error().detail});
  auto cert = certificate::from_pem(certificate_pem);
  if (!cert)
    return std::unexpected(error{cert.error().code, role + " certificate: " + cert.error().detail});
  // Checked before OpenSSL sees the pair, so the mismatch is named as such rather than
  // as OpenSSL's generic "key values mismatch".
  if (!cert->matches(*key))
    return std::unexpected(
        error{errc::key_mismatch,
              "the " + role + " key does not belong to the " + role + " certificate"});
  if (SSL_CTX_use_certificate(ctx, cert->native()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, key->native()) != 1 || SSL_CTX_check_private_key(ctx) != 1)
    return std::unexpected(
        openssl_failure(errc::crypto_failure, "cannot install " + role + " identity"));

  auto chain = read_pem_bundle(chain_pem, "certificate chain");
  if (!chain)
    return std::unexpected(chain.error());
  for (const auto& link : *chain) {
    if (SSL_CTX_add1_chain_cert(ctx, link.get()) != 1)
      return std::unexpected(openssl_failure(errc::crypto_failure, "cannot add chain certificate"));
  }
  return {};
}

/// Loads the trusted client CAs into the context's store and names them in the
/// CertificateRequest, so a client holding several certificates can pick one we accept.
std::expected<void, error> add_client_anchors(SSL_CTX* ctx, const tls_server_material& material) {
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (const auto& pem : material.trusted_client_ca_pems) {
    auto anchors = read_pem_bundle(pem, "trusted client CA");
    if (!anchors)
      return std::unexpected(anchors.error());
    if (anchors->empty())
      return std::unexpected(error{errc::wrong_format, "trusted client CA is empty"});
    for (const auto& anchor : *anchors) {
      if (X509_STORE_add_cert(store, anchor.get()) != 1 ||
          SSL_CTX_add_client_CA(ctx, anchor.get()) != 1)
        return std::unexpected(
            openssl_failure(errc::crypto_failure, "cannot add trusted client CA"));
    }
  }
  return {};
}

std::expected<void, error> demand_client_certificate(SSL_CTX* ctx,
                                                     const tls_server_material& material) {
  // Without an anchor no client could ever pass, which is a configuration error to report
  // now, not a stream of refused handshakes later.
  if (material.trusted_client_ca_pems.empty())
    return std::unexpected(
        error{errc::invalid_argument, "secure high needs at least one trusted client CA"});
  if (auto added = add_client_anchors(ctx, material); !added)
    return added;
  SSL_CTX_set_verify(
      ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT | SSL_VERIFY_CLIENT_ONCE, nullptr);
  return {};
}

/// OpenSSL's verdict on a received chain, overruled: the application grades the chain.
int accept_any_chain(int, X509_STORE_CTX*) {
  return 1;
}

std::expected<void, error>
request_client_certificate(SSL_CTX* ctx, const tls_server_material& material, bool required) {
  // Anchors, if any, only make the CertificateRequest name the CAs a client should pick;
  // the chain is accepted whatever it is and graded after the handshake.
  if (auto added = add_client_anchors(ctx, material); !added)
    return added;
  // SSL_VERIFY_PEER on a server means "send a CertificateRequest"; without
  // SSL_VERIFY_FAIL_IF_NO_PEER_CERT a client may still answer with no certificate. At high
  // a client without one is refused in the handshake, so it never reaches the application.
  SSL_CTX_set_verify(ctx,
                     SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE |
                         (required ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                     accept_any_chain);
  return {};
}

/// What server and client contexts share for `strength`: security level, versions, no
/// renegotiation or compression, the cipher list and TLS 1.3 suites.
std::expected<ssl_ctx_ptr, error> make_context(const SSL_METHOD* method, tls_strength strength,
                                               tls_min_version min_version) {
  ERR_clear_error();
  ssl_ctx_ptr ctx(SSL_CTX_new(method), SSL_CTX_free);
  if (!ctx)
    return std::unexpected(openssl_failure(errc::crypto_failure, "cannot create TLS context"));

  const int floor = min_version == tls_min_version::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
  // Level 2 (112-bit keys: RSA >= 2048, no SHA-1 handshake signatures) matches the key sizes
  // Ward issues; low stays at 1 so the backward-compatible clients it exists for still fit.
  SSL_CTX_set_security_level(ctx.get(), strength == tls_strength::low ? 1 : 2);
  if (SSL_CTX_set_min_proto_version(ctx.get(), floor) != 1 ||
      SSL_CTX_set_max_proto_version(ctx.get(), 0) != 1)
    return std::unexpected(openssl_failure(errc::crypto_failure, "cannot set TLS versions"));
  // Renegotiation and compression only ever served attacks (DoS, CRIME).
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  // What follows the identity is the configured chain alone ("offer ID certificate chain",
  // SPEC PKI-6): OpenSSL would otherwise build one from the client-certificate anchors.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_NO_AUTO_CHAIN);
  const std::string list(cipher_list(strength));
  const std::string suites(tls13_ciphersuites(strength));
  if (SSL_CTX_set_cipher_list(ctx.get(), list.c_str()) != 1 ||
      SSL_CTX_set_ciphersuites(ctx.get(), suites.c_str()) != 1)
    return std::unexpected(openssl_failure(errc::crypto_failure, "cannot set cipher suites"));
  return ctx;
}

} // namespace

constexpr auto service_security_level_names =
    name_table(enum_name{service_security_level::disabled, "disabled"},
               enum_name{service_security_level::unsecure_only, "unsecure_only"},
               enum_name{service_security_level::unsecure_and_secure, "unsecure_and_secure"},
               enum_name{service_security_level::secure_low, "secure_low"},
               enum_name{service_security_level::secure_medium, "secure_medium"},
               enum_name{service_security_level::secure_high, "secure_high"});

std::string_view to_string(service_security_level level) {
  return name_of(service_security_level_names, level);
}

std::optional<service_security_level> parse_service_security_level(std::string_view text) {
  return parse_name(service_security_level_names, text);
}

bool offers_plaintext(service_security_level level) {
  return level == service_security_level::unsecure_only ||
         level == service_security_level::unsecure_and_secure;
}

bool offers_tls(service_security_level level) {
  return tls_strength_of(level).has_value();
}

bool requires_client_certificate(service_security_level level) {
  return level == service_security_level::secure_high;
}

std::optional<tls_strength> tls_strength_of(service_security_level level) {
  switch (level) {
    case service_security_level::disabled:
    case service_security_level::unsecure_only:
      return std::nullopt;
    case service_security_level::unsecure_and_secure:
    case service_security_level::secure_low:
      return tls_strength::low;
    case service_security_level::secure_medium:
      return tls_strength::medium;
    case service_security_level::secure_high:
      return tls_strength::high;
  }
  return std::nullopt;
}

std::string_view cipher_set_a() {
  return set_a_list();
}

std::string_view cipher_set_b() {
  return set_b_list();
}

std::string_view cipher_list(tls_strength strength) {
  switch (strength) {
    case tls_strength::low:
      return low_list();
    case tls_strength::medium:
      return medium_list();
    case tls_strength::high:
      return high_list();
  }
  return high_list();
}

std::string_view tls13_ciphersuites(tls_strength strength) {
  return strength == tls_strength::high ? tls13_high : tls13_all;
}

std::expected<std::shared_ptr<SSL_CTX>, error>
make_server_context(tls_strength strength, tls_min_version min_version,
                    const tls_server_material& material) {
  auto made = make_context(TLS_server_method(), strength, min_version);
  if (!made)
    return std::unexpected(made.error());
  ssl_ctx_ptr ctx = std::move(*made);
  // Server preference makes the order of the lists (strongest first) decide, not the
  // client.
  SSL_CTX_set_options(ctx.get(), SSL_OP_CIPHER_SERVER_PREFERENCE);
  // The DHE suites of sets A and B need parameters; auto sizes them to the server key.
  SSL_CTX_set_dh_auto(ctx.get(), 1);
  // Without a session id context, resuming a session on a context that verifies peers
  // fails the handshake. Each level change builds a new context, whose own session cache and
  // ticket keys keep sessions from a weaker level out.
  static constexpr std::string_view session_context = "ward-tls";
  SSL_CTX_set_session_id_context(ctx.get(),
                                 reinterpret_cast<const unsigned char*>(session_context.data()),
                                 static_cast<unsigned>(session_context.size()));

  if (auto installed = install_identity(ctx.get(), material.key_pem, material.certificate_pem,
                                        material.chain_pem, "server");
      !installed)
    return std::unexpected(installed.error());
  if (material.request_client_certificate) {
    if (auto requested =
            request_client_certificate(ctx.get(), material, strength == tls_strength::high);
        !requested)
      return std::unexpected(requested.error());
  } else if (strength == tls_strength::high) {
    if (auto demanded = demand_client_certificate(ctx.get(), material); !demanded)
      return std::unexpected(demanded.error());
  }
  return ctx;
}

std::expected<std::shared_ptr<SSL_CTX>, error>
make_client_context(tls_strength strength, tls_min_version min_version,
                    const tls_client_material& material) {
  auto blank = [](const std::string& text) {
    return text.find_first_not_of(" \t\r\n") == std::string::npos;
  };
  const bool has_key = !blank(material.key_pem);
  const bool has_certificate = !blank(material.certificate_pem);
  if (has_key != has_certificate)
    return std::unexpected(
        error{errc::invalid_argument, has_key ? "a client key needs its client certificate"
                                              : "a client certificate needs its client key"});
  if (!has_certificate && !blank(material.chain_pem))
    return std::unexpected(
        error{errc::invalid_argument, "a client certificate chain needs a client certificate"});

  auto made = make_context(TLS_client_method(), strength, min_version);
  if (!made)
    return std::unexpected(made.error());
  ssl_ctx_ptr ctx = std::move(*made);
  // Deliberately unverified by OpenSSL: the caller grades the server's chain with
  // check_received_certificate at its configured check level (SPEC PKI-8).
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  if (has_certificate) {
    if (auto installed = install_identity(ctx.get(), material.key_pem, material.certificate_pem,
                                          material.chain_pem, "client");
        !installed)
      return std::unexpected(installed.error());
  }
  return ctx;
}

} // namespace ward::pki
