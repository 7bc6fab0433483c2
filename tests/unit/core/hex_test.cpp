#include "core/hex.hpp"

#include <doctest/doctest.h>

#include <array>
#include <vector>

using namespace ward;

TEST_CASE("to_hex writes two lower-case digits per byte") {
  const std::array<unsigned char, 4> bytes{0x00, 0x0f, 0xa0, 0xff};
  CHECK(to_hex(bytes) == "000fa0ff");
  CHECK(to_hex(std::span<const unsigned char>{}) == "");
}

TEST_CASE("to_hex of std::byte matches unsigned char") {
  const std::array<std::byte, 3> bytes{std::byte{0x12}, std::byte{0xab}, std::byte{0x07}};
  CHECK(to_hex(bytes) == "12ab07");
}

TEST_CASE("to_hex upper case with a separator spells a fingerprint") {
  const std::array<unsigned char, 3> bytes{0xde, 0xad, 0x01};
  CHECK(to_hex(bytes, hex_case::upper, ":") == "DE:AD:01");
  CHECK(to_hex(std::span(bytes).first(1), hex_case::upper, ":") == "DE");
  CHECK(to_hex(std::span<const unsigned char>{}, hex_case::upper, ":") == "");
}

TEST_CASE("write_hex fills a caller buffer like to_hex") {
  const std::array<unsigned char, 2> bytes{0xc0, 0x1d};
  std::array<char, 4> out{};
  write_hex(bytes, out.data());
  CHECK(std::string_view(out.data(), out.size()) == "c01d");
}

TEST_CASE("is_hex_digit accepts both cases and nothing else") {
  for (char c : std::string_view("0123456789abcdefABCDEF"))
    CHECK(is_hex_digit(c));
  for (char c : std::string_view("gG:/ @`\0x", 9))
    CHECK_FALSE(is_hex_digit(c));
}

TEST_CASE("from_hex decodes either case and round-trips to_hex") {
  std::array<unsigned char, 4> out{};
  REQUIRE(from_hex("00Ff7a10", out).has_value());
  CHECK(out == std::array<unsigned char, 4>{0x00, 0xff, 0x7a, 0x10});
  CHECK(to_hex(out) == "00ff7a10");
  CHECK(from_hex("", std::span<unsigned char>{}).has_value());
}

TEST_CASE("from_hex refuses a wrong length or a non-digit") {
  std::array<unsigned char, 2> out{};
  CHECK(from_hex("abc", out).error() == hex_errc::wrong_length);
  CHECK(from_hex("abcdef", out).error() == hex_errc::wrong_length);
  CHECK(from_hex("ab:d", out).error() == hex_errc::not_a_digit);
  CHECK(from_hex("0x12", out).error() == hex_errc::not_a_digit);
  CHECK(to_string(hex_errc::not_a_digit) == "not_a_digit");
}
