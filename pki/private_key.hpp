#pragma once

#include "pki/error.hpp"

#include <openssl/types.h>

#include <expected>
#include <memory>
#include <string>
#include <string_view>

namespace ward::pki {

/// An RSA private key (identity keys are RSA; SPEC PKI-9).
class private_key {
public:
  /// Key sizes Ward generates. 1024 exists only for legacy devices (SPEC PKI-3).
  static constexpr int min_bits = 1024;
  static constexpr int max_bits = 4096;

  static std::expected<private_key, error> generate_rsa(int bits);
  /// Parses an unencrypted PKCS#8 or traditional PEM private key.
  static std::expected<private_key, error> from_pem(std::string_view pem);

  std::expected<std::string, error> to_pem() const;
  int bits() const;
  EVP_PKEY* native() const { return key_.get(); }

  explicit private_key(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {}

private:
  std::shared_ptr<EVP_PKEY> key_;
};

} // namespace ward::pki
