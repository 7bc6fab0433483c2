#include "core/hex.hpp"

namespace ward {

namespace {

constexpr std::string_view lower_digits = "0123456789abcdef";
constexpr std::string_view upper_digits = "0123456789ABCDEF";

unsigned char digit_value(char c) {
  if (c >= '0' && c <= '9')
    return static_cast<unsigned char>(c - '0');
  if (c >= 'a' && c <= 'f')
    return static_cast<unsigned char>(c - 'a' + 10);
  return static_cast<unsigned char>(c - 'A' + 10);
}

} // namespace

std::string to_hex(std::span<const unsigned char> bytes, hex_case letters,
                   std::string_view separator) {
  const auto digits = letters == hex_case::lower ? lower_digits : upper_digits;
  std::string out;
  if (bytes.empty())
    return out;
  out.reserve(bytes.size() * (2 + separator.size()) - separator.size());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0)
      out += separator;
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 0x0f];
  }
  return out;
}

std::string to_hex(std::span<const std::byte> bytes) {
  return to_hex(std::span(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()));
}

void write_hex(std::span<const unsigned char> bytes, char* out) {
  for (unsigned char b : bytes) {
    *out++ = lower_digits[b >> 4];
    *out++ = lower_digits[b & 0x0f];
  }
}

std::expected<void, hex_errc> from_hex(std::string_view text, std::span<unsigned char> out) {
  if (text.size() != 2 * out.size())
    return std::unexpected(hex_errc::wrong_length);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const char high = text[2 * i];
    const char low = text[2 * i + 1];
    if (!is_hex_digit(high) || !is_hex_digit(low))
      return std::unexpected(hex_errc::not_a_digit);
    out[i] = static_cast<unsigned char>((digit_value(high) << 4) | digit_value(low));
  }
  return {};
}

} // namespace ward
