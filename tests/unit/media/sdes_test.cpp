#include "media/sdes.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

using namespace ward;
using namespace ward::media;

namespace {

sdes_errc error_of(std::string_view line) {
  auto parsed = parse_crypto(line);
  REQUIRE_FALSE(parsed.has_value());
  return parsed.error().code;
}

constexpr std::string_view valid_key = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";

std::string line_with(std::string_view tail) {
  return std::string("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:") + std::string(valid_key) +
         std::string(tail);
}

} // namespace

TEST_CASE("MED-1 SDES parses the RFC 4568 examples") {
  // RFC 4568 section 4.
  auto first = parse_crypto("a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
                            "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32");
  REQUIRE(first.has_value());
  CHECK(first->tag == 1);
  CHECK(first->suite == find_suite("AES_CM_128_HMAC_SHA1_80"));
  CHECK(first->lifetime == std::uint64_t{1} << 20);
  REQUIRE(first->mki.has_value());
  CHECK(first->mki->value == 1);
  CHECK(first->mki->length == 32);
  CHECK(base64_encode(first->key()) == valid_key);
  // No session parameters: both directions fully protected, RTCP encrypted (RFC default).
  CHECK(first->options == srtp_options{true, true, true});

  // RFC 4568 section 5.1: the offer's first line, with FEC_ORDER.
  auto offered = parse_crypto("crypto:1 AES_CM_128_HMAC_SHA1_80 "
                              "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4 "
                              "FEC_ORDER=FEC_SRTP\r\n");
  REQUIRE(offered.has_value());
  CHECK(offered->mki == mki_parameter{1, 4});
  // Its second line uses F8 with two keys: skipped, not refused.
  auto f8 =
      parse_crypto("a=crypto:2 F8_128_HMAC_SHA1_80 "
                   "inline:MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVm|2^20|1:4;"
                   "inline:QUJjZGVmMTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5|2^20|2:4 FEC_ORDER=FEC_SRTP");
  REQUIRE_FALSE(f8.has_value());
  CHECK(f8.error().code == sdes_errc::unknown_suite);
  CHECK(is_unsupported(f8.error().code));

  // A typical phone's line, without lifetime or MKI.
  auto phone =
      parse_crypto("1 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj");
  REQUIRE(phone.has_value());
  CHECK(phone->suite->name == "AES_CM_128_HMAC_SHA1_32");
  CHECK_FALSE(phone->lifetime.has_value());
  CHECK_FALSE(phone->mki.has_value());
}

TEST_CASE("MED-1 SDES session parameters map to the SRTP options") {
  auto parsed = parse_crypto(line_with(" UNENCRYPTED_SRTCP"));
  REQUIRE(parsed.has_value());
  CHECK(parsed->options == srtp_options{});
  parsed = parse_crypto(line_with(" UNENCRYPTED_SRTP UNAUTHENTICATED_SRTP"));
  REQUIRE(parsed.has_value());
  CHECK(parsed->options == srtp_options{false, false, true});
  parsed = parse_crypto(line_with(" KDR=0 WSH=128"));
  REQUIRE(parsed.has_value());
  CHECK(parsed->window_size_hint == 128u);

  CHECK(error_of(line_with(" KDR=10")) == sdes_errc::unsupported_parameter);
  CHECK(error_of(line_with(" FEC_KEY=inline:" + std::string(valid_key))) ==
        sdes_errc::unsupported_parameter);
  CHECK(error_of(line_with(" SOMETHING_NEW")) == sdes_errc::unsupported_parameter);
  CHECK(error_of(line_with(" KDR=25")) == sdes_errc::bad_session_parameter);
  CHECK(error_of(line_with(" WSH=63")) == sdes_errc::bad_session_parameter);
  CHECK(error_of(line_with(" UNENCRYPTED_SRTP UNENCRYPTED_SRTP")) ==
        sdes_errc::bad_session_parameter);
  CHECK(error_of(line_with(" FEC_ORDER=SIDEWAYS")) == sdes_errc::bad_session_parameter);
}

TEST_CASE("MED-1 SDES generate and parse round trip with keys from the random source") {
  auto random = test::seeded_random(42);
  for (const auto& suite : all_suites()) {
    for (int mask = 0; mask < 8; ++mask) {
      srtp_options options{.rtp_encryption = (mask & 1) != 0,
                           .rtp_authentication = (mask & 2) != 0,
                           .rtcp_encryption = (mask & 4) != 0};
      auto made = make_crypto(static_cast<std::uint32_t>(mask + 1), suite, options, random);
      auto text = format_crypto(made);
      CAPTURE(text);
      auto parsed = parse_crypto(text);
      REQUIRE(parsed.has_value());
      CHECK(*parsed == made);
      CHECK(format_crypto(*parsed) == text);
    }
  }
  // Ward's default options announce the unencrypted SRTCP explicitly.
  auto made = make_crypto(1, all_suites()[0], {}, test::seeded_random(1));
  CHECK(format_crypto(made).ends_with(" UNENCRYPTED_SRTCP"));
  // Same seed, same key; another seed, another key.
  CHECK(make_crypto(1, all_suites()[0], {}, test::seeded_random(1)).key_and_salt ==
        made.key_and_salt);
  CHECK(make_crypto(1, all_suites()[0], {}, test::seeded_random(2)).key_and_salt !=
        made.key_and_salt);
  // Lifetime and MKI survive a round trip as well.
  made.lifetime = std::uint64_t{1} << 31;
  made.mki = mki_parameter{.value = 7, .length = 2};
  auto parsed = parse_crypto(format_crypto(made));
  REQUIRE(parsed.has_value());
  CHECK(*parsed == made);
}

TEST_CASE("MED-1 SDES refuses malformed lines with a typed error") {
  CHECK(error_of("") == sdes_errc::bad_syntax);
  CHECK(error_of("a=crypto:") == sdes_errc::bad_syntax);
  CHECK(error_of("a=crypto:1") == sdes_errc::bad_syntax);
  CHECK(error_of("a=crypto:1 AES_CM_128_HMAC_SHA1_80") == sdes_errc::bad_syntax);
  CHECK(error_of("a=crypto:x AES_CM_128_HMAC_SHA1_80 inline:" + std::string(valid_key)) ==
        sdes_errc::bad_tag);
  CHECK(error_of("a=crypto:1234567890 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(valid_key)) ==
        sdes_errc::bad_tag);
  CHECK(error_of("a=crypto:-1 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(valid_key)) ==
        sdes_errc::bad_tag);
  CHECK(error_of("a=crypto:1 AES-CM inline:" + std::string(valid_key)) == sdes_errc::bad_syntax);
  CHECK(error_of("a=crypto:1 AES_CM_128_HMAC_SHA1_80 uri:" + std::string(valid_key)) ==
        sdes_errc::bad_key_method);
  CHECK(error_of(
            "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVB!") ==
        sdes_errc::bad_base64);
  CHECK(error_of(
            "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1u=CVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR") ==
        sdes_errc::bad_base64);
  CHECK(error_of("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0m") ==
        sdes_errc::bad_key_length);
  CHECK(error_of("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + std::string(valid_key) + "QUJD") ==
        sdes_errc::bad_key_length);
  CHECK(error_of(line_with("|0")) == sdes_errc::bad_lifetime);
  CHECK(error_of(line_with("|2^49")) == sdes_errc::bad_lifetime);
  CHECK(error_of(line_with("|2^")) == sdes_errc::bad_lifetime);
  CHECK(error_of(line_with("|99999999999999999999999")) == sdes_errc::bad_lifetime);
  CHECK(error_of(line_with("|1:0")) == sdes_errc::bad_mki);
  CHECK(error_of(line_with("|1:129")) == sdes_errc::bad_mki);
  CHECK(error_of(line_with("|256:1")) == sdes_errc::bad_mki);
  CHECK(error_of(line_with("|:4")) == sdes_errc::bad_mki);
  CHECK(error_of(line_with("|2^20|1:4|5")) == sdes_errc::bad_syntax);
  CHECK(error_of(line_with("|1:4|2^20")) == sdes_errc::bad_syntax);
  CHECK(error_of(line_with(";inline:" + std::string(valid_key))) ==
        sdes_errc::unsupported_parameter);
  CHECK(error_of(line_with(std::string(max_crypto_line_length, ' '))) == sdes_errc::too_long);
  CHECK(error_of(line_with(" KDR=0 KDR=0")) == sdes_errc::bad_session_parameter);
  CHECK(error_of(line_with(" WSH=64 WSH=64")) == sdes_errc::bad_session_parameter);
  CHECK_FALSE(is_unsupported(sdes_errc::bad_base64));
  CHECK(to_string(sdes_errc::bad_mki) == "bad_mki");
}

TEST_CASE("MED-1 SDES parser survives bounded seeded fuzzing") {
  std::mt19937_64 engine(20240607);
  const std::array seeds = {
      line_with(""),
      line_with("|2^20|1:32 UNENCRYPTED_SRTCP"),
      line_with(" UNENCRYPTED_SRTP UNAUTHENTICATED_SRTP KDR=0 WSH=64"),
      std::string("a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:") + std::string(valid_key) +
          "|1048576|255:1",
  };
  const std::string_view alphabet = "0123456789|:;^= \t=/+AZaz_inline-\r\n\x01\xff";
  std::size_t accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string line = seeds[engine() % seeds.size()];
    int edits = 1 + static_cast<int>(engine() % 4);
    for (int e = 0; e < edits; ++e) {
      std::size_t at = line.empty() ? 0 : engine() % line.size();
      switch (engine() % 4) {
        case 0:
          if (!line.empty())
            line[at] = alphabet[engine() % alphabet.size()];
          break;
        case 1:
          line.insert(at, 1, alphabet[engine() % alphabet.size()]);
          break;
        case 2:
          if (!line.empty())
            line.erase(at, 1 + engine() % 8);
          break;
        default:
          line.resize(at);
          break;
      }
    }
    auto parsed = parse_crypto(line);
    if (!parsed)
      continue;
    ++accepted;
    // Whatever is accepted is consistent and formats back to an equal attribute.
    REQUIRE(parsed->suite != nullptr);
    CHECK(parsed->key().size() == parsed->suite->key_and_salt_length());
    auto again = parse_crypto(format_crypto(*parsed));
    REQUIRE(again.has_value());
    CHECK(*again == *parsed);
  }
  CHECK(accepted > 0);
}
