#include "security/password_hash.hpp"

#include <sodium.h>

#include <mutex>

namespace ward::security {
namespace {

bool sodium_ready() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

} // namespace

std::expected<std::string, error> hash_secret(std::string_view secret, argon2_cost cost) {
  if (!sodium_ready())
    return std::unexpected(error{errc::hashing_failed, "libsodium failed to initialise"});
  char encoded[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(encoded, secret.data(), secret.size(), cost.operations,
                            cost.memory_bytes, crypto_pwhash_ALG_ARGON2ID13) != 0)
    return std::unexpected(error{errc::hashing_failed, "Argon2id hashing ran out of memory"});
  return std::string(encoded);
}

bool verify_secret(std::string_view encoded, std::string_view secret) {
  if (!sodium_ready() || encoded.empty() || encoded.size() >= crypto_pwhash_STRBYTES)
    return false;
  std::string terminated(encoded);
  return crypto_pwhash_str_verify(terminated.c_str(), secret.data(), secret.size()) == 0;
}

} // namespace ward::security
