#pragma once

#include <cstddef>
#include <string_view>

namespace ward {

/// The length (1 to 4) of the well-formed UTF-8 sequence `text` starts with, its code point
/// stored in `code_point`; 0 when `text` is empty or starts with anything else. Overlong
/// forms, surrogates and values past U+10FFFF are not well-formed (RFC 3629): every code
/// point then has exactly one encoding, which JSON parsers, syslog receivers and length
/// rules rely on.
constexpr std::size_t utf8_sequence(std::string_view text, char32_t& code_point) {
  if (text.empty())
    return 0;
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  std::size_t length = 0;
  char32_t value = 0;
  char32_t minimum = 0;
  if (lead < 0x80) {
    code_point = lead;
    return 1;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2;
    value = lead & 0x1F;
    minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    value = lead & 0x0F;
    minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    value = lead & 0x07;
    minimum = 0x10000;
  } else {
    return 0;
  }
  if (text.size() < length)
    return 0;
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80)
      return 0;
    value = (value << 6) | (byte(i) & 0x3F);
  }
  if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF))
    return 0;
  code_point = value;
  return length;
}

} // namespace ward
