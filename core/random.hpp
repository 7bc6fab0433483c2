#pragma once

#include <cstddef>
#include <functional>
#include <span>

namespace ward {

/// Fills a buffer with random bytes. Injected wherever randomness shapes an outcome
/// (serial numbers, tokens, salts) so tests can make it deterministic.
using random_source = std::function<void(std::span<std::byte>)>;

/// Cryptographically secure randomness from the operating system (OpenSSL's DRBG).
random_source system_random();

} // namespace ward
