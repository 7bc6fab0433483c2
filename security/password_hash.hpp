#pragma once

#include "security/error.hpp"

#include <cstddef>
#include <expected>
#include <string>
#include <string_view>

namespace ward::security {

/// Argon2id cost (SPEC SEC-9). Memory-hard so offline guessing of a stolen store is slow.
struct argon2_cost {
  unsigned long long operations;
  std::size_t memory_bytes;
};

/// Ward's production cost: t = 2, m = 19 MiB (OWASP's Argon2id minimum), p = 1.
inline constexpr argon2_cost production_argon2_cost{2, 19u << 20};
/// The cheapest cost libsodium accepts; for tests only.
inline constexpr argon2_cost test_argon2_cost{1, 8192};

/// Hashes `secret` into a self-describing `$argon2id$v=19$m=…,t=…,p=1$salt$hash` string.
std::expected<std::string, error> hash_secret(std::string_view secret, argon2_cost cost);

/// Checks `secret` against an encoded Argon2id hash in constant time for equal lengths.
bool verify_secret(std::string_view encoded, std::string_view secret);

} // namespace ward::security
