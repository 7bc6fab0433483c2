#include "media/media_policy.hpp"
#include "media/srtp_profile.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>

using namespace ward;
using namespace ward::media;

TEST_CASE("MED-1 SRTP options are read as key=value pairs over the defaults") {
  CHECK(to_string(srtp_profile{}) == "rtp_encryption=on,rtp_authentication=80,rtcp_encryption=off");
  auto parsed = parse_srtp_profile("rtp_authentication=32,rtcp_encryption=on");
  REQUIRE(parsed.has_value());
  CHECK(parsed->rtp_encryption);
  CHECK(parsed->authentication == rtp_authentication::hmac_sha1_32);
  CHECK(parsed->rtcp_encryption);
  CHECK(parse_srtp_profile(to_string(*parsed)).value() == *parsed);
  auto clear = parse_srtp_profile("rtp_encryption=off");
  REQUIRE(clear.has_value());
  CHECK_FALSE(clear->rtp_encryption);
  CHECK(parse_srtp_profile("rtp_authentication=off")->authentication == rtp_authentication::off);

  using enum srtp_profile_errc;
  struct refused_case {
    std::string_view text;
    srtp_profile_errc code;
    std::string_view fragment;
  };
  for (auto [text, code, fragment] :
       {refused_case{"", empty, "at least one"},
        {"rtp_encryption", not_key_value, "key=value"},
        {"cipher=aes", unknown_key, "unknown key"},
        {"rtp_authentication=64", bad_value, "80, 32 or off"},
        {"rtcp_encryption=yes", bad_value, "on or off"},
        {"rtp_encryption=on,rtp_encryption=off", repeated_key, "twice"},
        {"rtp_encryption=off,rtp_authentication=off", protects_nothing, "protect nothing"}}) {
    auto refused = parse_srtp_profile(text);
    REQUIRE_FALSE(refused.has_value());
    CHECK_MESSAGE(refused.error().code == code, text);
    CHECK_MESSAGE(refused.error().detail.find(fragment) != std::string::npos, text);
  }
  CHECK(to_string(protects_nothing) == "protects_nothing");
}

TEST_CASE("MED-1 Ward offers its configured SRTP options first, then the other SRTCP variant") {
  auto random = test::seeded_random(5);
  auto offered = make_profile_offer({}, random);
  REQUIRE(offered.size() == 2);
  CHECK(offered[0].tag == 1);
  CHECK(offered[0].suite->name == "AES_CM_128_HMAC_SHA1_80");
  CHECK_FALSE(offered[0].options.rtcp_encryption);
  CHECK(format_crypto(offered[0]).find("UNENCRYPTED_SRTCP") != std::string::npos);
  CHECK(offered[1].tag == 2);
  CHECK(offered[1].options.rtcp_encryption);
  CHECK(format_crypto(offered[1]).find("UNENCRYPTED_SRTCP") == std::string::npos);
  CHECK_FALSE(std::ranges::equal(offered[0].key(), offered[1].key()));

  auto strict = make_profile_offer(
      {.authentication = rtp_authentication::hmac_sha1_32, .rtcp_encryption = true}, random);
  CHECK(strict[0].suite->name == "AES_CM_128_HMAC_SHA1_32");
  CHECK(strict[0].options.rtcp_encryption);
  CHECK_FALSE(strict[1].options.rtcp_encryption);

  auto clear = make_profile_offer({.rtp_encryption = false}, random);
  CHECK(format_crypto(clear[0]).find("UNENCRYPTED_SRTP ") != std::string::npos);
  auto unauthenticated = make_profile_offer({.authentication = rtp_authentication::off}, random);
  CHECK(format_crypto(unauthenticated[0]).find("UNAUTHENTICATED_SRTP") != std::string::npos);
}

TEST_CASE("MED-1 a far end's offer is answered only with at least the leg's protection") {
  const std::string line_80 =
      "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
  const std::string line_32 =
      "2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj";
  const std::string clear_80 = "3 AES_CM_128_HMAC_SHA1_80 "
                               "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR UNENCRYPTED_SRTP";
  const std::string plain_rtcp = "4 AES_CM_128_HMAC_SHA1_80 "
                                 "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR "
                                 "UNENCRYPTED_SRTCP";
  auto pick = [](std::span<const std::string_view> lines, const srtp_profile& profile) {
    auto decision = answer_for(media_security::best_effort, {transport_profile::rtp_avp, lines},
                               false, true, profile);
    REQUIRE(decision.has_value());
    return decision->accepted ? decision->accepted->tag : 0u;
  };
  const std::array<std::string_view, 2> short_first = {line_32, line_80};
  CHECK(pick(short_first, {}) == 1); // 80 asked: the _32 line is passed over
  CHECK(pick(short_first, {.authentication = rtp_authentication::hmac_sha1_32}) == 2);
  const std::array<std::string_view, 1> only_short = {line_32};
  CHECK(pick(only_short, {}) == 0); // Best Effort falls back to RTP
  const std::array<std::string_view, 2> clear_first = {clear_80, line_80};
  CHECK(pick(clear_first, {}) == 1);
  CHECK(pick(clear_first, {.rtp_encryption = false}) == 3);
  const std::array<std::string_view, 2> plain_rtcp_first = {plain_rtcp, line_80};
  CHECK(pick(plain_rtcp_first, {}) == 4);
  CHECK(pick(plain_rtcp_first, {.rtcp_encryption = true}) == 1);
  auto enforced = answer_for(media_security::enforce, {transport_profile::rtp_savp, only_short},
                             false, true, srtp_profile{});
  REQUIRE_FALSE(enforced.has_value());
  CHECK(enforced.error().reason == refusal_reason::no_acceptable_crypto);
}
