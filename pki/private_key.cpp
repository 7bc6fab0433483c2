#include "pki/private_key.hpp"

#include "pki/openssl_output.hpp"
#include "pki/openssl_ptr.hpp"

#include <openssl/pem.h>
#include <openssl/rsa.h>

namespace ward::pki {
namespace {

std::shared_ptr<EVP_PKEY> share(EVP_PKEY* key) {
  return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

} // namespace

std::expected<private_key, error> private_key::generate_rsa(int bits) {
  if (bits != 1024 && bits != 2048 && bits != 3072 && bits != 4096)
    return std::unexpected(
        error{errc::invalid_argument,
              "RSA key size must be 1024, 2048, 3072 or 4096 bits, not " + std::to_string(bits)});
  evp_pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), bits) != 1)
    return std::unexpected(
        openssl_failure(errc::crypto_failure, "RSA key generation setup failed"));
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_generate(ctx.get(), &raw) != 1)
    return std::unexpected(openssl_failure(errc::crypto_failure, "RSA key generation failed"));
  return private_key(share(raw));
}

std::expected<private_key, error> private_key::from_pem(std::string_view pem) {
  auto bio = read_only_bio(pem.data(), pem.size());
  // A callback that supplies no password: an encrypted key is refused instead of OpenSSL
  // prompting on the terminal of a daemon.
  auto no_password = [](char*, int, int, void*) { return 0; };
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, nullptr);
  if (!raw)
    return std::unexpected(openssl_failure(errc::wrong_format, "not a PEM private key"));
  auto key = share(raw);
  if (EVP_PKEY_get_base_id(raw) != EVP_PKEY_RSA)
    return std::unexpected(error{errc::invalid_argument, "identity keys must be RSA"});
  return private_key(std::move(key));
}

std::expected<std::string, error> private_key::to_pem() const {
  auto pem = write_to_string([this](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, key_.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
  });
  if (!pem)
    return std::unexpected(openssl_failure(errc::crypto_failure, "cannot encode private key"));
  return *pem;
}

int private_key::bits() const {
  return EVP_PKEY_get_bits(key_.get());
}

} // namespace ward::pki
