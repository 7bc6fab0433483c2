#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>
#include <string>
#include <string_view>

namespace ward {

/// The letter case of the digits a-f in encoded hex.
enum class hex_case : std::uint8_t {
  /// "0a1b": digests, tokens, proofs and every other machine-read value.
  lower,
  /// "0A1B": certificate fingerprints and serials, spelled the way OpenSSL and admins do.
  upper,
};

/// `bytes` as hex, two digits per byte, with `separator` between the pairs ("AA:BB").
std::string to_hex(std::span<const unsigned char> bytes, hex_case letters = hex_case::lower,
                   std::string_view separator = {});

/// `bytes` as lower-case hex, two digits per byte.
std::string to_hex(std::span<const std::byte> bytes);

/// Writes `bytes` as lower-case hex to `out`, which must hold `2 * bytes.size()` characters.
/// For callers that hash into stack buffers and must not allocate per message.
void write_hex(std::span<const unsigned char> bytes, char* out);

/// Whether `c` is a hex digit in either case.
constexpr bool is_hex_digit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/// Why a hex text could not be decoded.
enum class hex_errc : std::uint8_t {
  /// The text does not have exactly two digits per byte of the destination.
  wrong_length,
  /// A character is not a hex digit (either case is accepted).
  not_a_digit,
};

constexpr std::string_view to_string(hex_errc code) {
  return code == hex_errc::wrong_length ? "wrong_length" : "not_a_digit";
}

/// Decodes `text` (either case, no separators) into `out`, which it must fill exactly.
/// `out` is unspecified on error.
std::expected<void, hex_errc> from_hex(std::string_view text, std::span<unsigned char> out);

} // namespace ward
