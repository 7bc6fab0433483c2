#include "media/media_policy.hpp"
#include "media/srtp_session.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

using namespace ward;
using namespace ward::media;

namespace {

enum class peer_offers { rtp, srtp, both };

const std::string line_80 =
    "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
const std::string line_32 =
    "2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj";
const std::array<std::string_view, 2> both_lines = {line_80, line_32};

received_offer offer_of(peer_offers kind) {
  switch (kind) {
    case peer_offers::rtp:
      return {.profile = transport_profile::rtp_avp};
    case peer_offers::srtp:
      return {.profile = transport_profile::rtp_savp, .crypto_lines = both_lines};
    case peer_offers::both:
      return {.profile = transport_profile::rtp_avp, .crypto_lines = both_lines};
  }
  return {};
}

/// "rtp", "srtp", "rtp!"/"srtp!" for an emergency exception, or the refusal reason.
std::string outcome(const std::expected<answer_decision, refusal>& decision) {
  if (!decision)
    return std::to_string(decision.error().sip_status) + " " +
           std::string(to_string(decision.error().reason));
  return std::string(to_string(decision->transport)) + (decision->emergency_exception ? "!" : "");
}

struct matrix_row {
  media_security policy;
  peer_offers offer;
  bool secure;
  bool emergency;
  std::string_view expected;
};

using enum media_security;
using enum peer_offers;

// clang-format off
constexpr matrix_row answer_matrix[] = {
    // Disabled: RTP whenever the far end allows it; an SRTP-only offer is refused, except that
    // an emergency call takes SRTP when it can be keyed.
    {disabled, rtp, true, false, "rtp"},
    {disabled, rtp, false, false, "rtp"},
    {disabled, rtp, true, true, "rtp"},
    {disabled, rtp, false, true, "rtp"},
    {disabled, srtp, true, false, "488 srtp_not_allowed"},
    {disabled, srtp, false, false, "488 srtp_not_allowed"},
    {disabled, srtp, true, true, "srtp!"},
    {disabled, srtp, false, true, "488 insecure_signalling"},
    {disabled, both, true, false, "rtp"},
    {disabled, both, false, false, "rtp"},
    {disabled, both, true, true, "rtp"},
    {disabled, both, false, true, "rtp"},
    // Best Effort: SRTP when offered and keyed over secure signalling, else RTP.
    {best_effort, rtp, true, false, "rtp"},
    {best_effort, rtp, false, false, "rtp"},
    {best_effort, rtp, true, true, "rtp"},
    {best_effort, rtp, false, true, "rtp"},
    {best_effort, srtp, true, false, "srtp"},
    {best_effort, srtp, false, false, "488 insecure_signalling"},
    {best_effort, srtp, true, true, "srtp"},
    {best_effort, srtp, false, true, "488 insecure_signalling"},
    {best_effort, both, true, false, "srtp"},
    {best_effort, both, false, false, "rtp"},
    {best_effort, both, true, true, "srtp"},
    {best_effort, both, false, true, "rtp"},
    // Enforce: SRTP or 488; emergency calls fall back to RTP where the far end allows it.
    {enforce, rtp, true, false, "488 srtp_required"},
    {enforce, rtp, false, false, "488 srtp_required"},
    {enforce, rtp, true, true, "rtp!"},
    {enforce, rtp, false, true, "rtp!"},
    {enforce, srtp, true, false, "srtp"},
    {enforce, srtp, false, false, "488 insecure_signalling"},
    {enforce, srtp, true, true, "srtp"},
    {enforce, srtp, false, true, "488 insecure_signalling"},
    {enforce, both, true, false, "srtp"},
    {enforce, both, false, false, "488 insecure_signalling"},
    {enforce, both, true, true, "srtp"},
    {enforce, both, false, true, "rtp!"},
};
// clang-format on

} // namespace

TEST_CASE("MED-2 media security policies have stable names") {
  for (auto policy : {disabled, best_effort, enforce})
    CHECK(parse_media_security(to_string(policy)) == policy);
  CHECK_FALSE(parse_media_security("Enforce").has_value());
  CHECK_FALSE(parse_media_security("").has_value());
  for (auto profile : {transport_profile::rtp_avp, transport_profile::rtp_avpf,
                       transport_profile::rtp_savp, transport_profile::rtp_savpf})
    CHECK(parse_transport_profile(to_string(profile)) == profile);
  CHECK(is_secure(transport_profile::rtp_savpf));
  CHECK_FALSE(is_secure(transport_profile::rtp_avpf));
  CHECK_FALSE(parse_transport_profile("UDP/TLS/RTP/SAVP").has_value());
}

TEST_CASE("MED-2 the answer matrix covers every policy and peer offer and signalling") {
  for (const auto& row : answer_matrix) {
    CAPTURE(to_string(row.policy));
    CAPTURE(static_cast<int>(row.offer));
    CAPTURE(row.secure);
    CAPTURE(row.emergency);
    auto offer = offer_of(row.offer);
    auto decision = answer_for(row.policy, offer, row.emergency, row.secure);
    CHECK(outcome(decision) == row.expected);
    if (!decision)
      continue;
    // The answer keeps the offer's profile (RFC 3264) and keys exactly when it is SRTP.
    CHECK(decision->profile == offer.profile);
    CHECK(decision->accepted.has_value() == (decision->transport == media_transport::srtp));
    if (decision->accepted) {
      // The offerer's first line is its preference.
      CHECK(decision->accepted->tag == 1);
      CHECK(decision->accepted->suite->name == "AES_CM_128_HMAC_SHA1_80");
    }
  }
}

TEST_CASE("MED-2 the answerer skips crypto lines it cannot use") {
  const std::string with_mki = line_80 + "|2^20|1:4";
  const std::string nothing_on = "3 AES_CM_128_HMAC_SHA1_80 "
                                 "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR "
                                 "UNENCRYPTED_SRTP UNAUTHENTICATED_SRTP";
  const std::string unknown = "4 AES_256_CM_HMAC_SHA1_80 inline:abcd";
  const std::string garbled = "5 AES_CM_128_HMAC_SHA1_80 inline:!!!";
  const std::array<std::string_view, 5> lines = {with_mki, nothing_on, unknown, garbled, line_32};
  received_offer offer{.profile = transport_profile::rtp_savp, .crypto_lines = lines};
  // The leg asks for 32-bit tags at least, so the _32 line is acceptable (MED-1).
  const srtp_profile short_tags{.authentication = rtp_authentication::hmac_sha1_32};
  auto decision = answer_for(enforce, offer, false, true, short_tags);
  REQUIRE(decision.has_value());
  CHECK(decision->transport == media_transport::srtp);
  REQUIRE(decision->accepted.has_value());
  CHECK(decision->accepted->tag == 2);
  CHECK(decision->accepted->suite->name == "AES_CM_128_HMAC_SHA1_32");
  CHECK(decision->skipped_crypto_lines == 4);

  // Nothing usable: an SRTP offer is refused, a double offer falls back under Best Effort.
  const std::array<std::string_view, 2> useless = {with_mki, unknown};
  auto refused = answer_for(enforce, {transport_profile::rtp_savp, useless}, false, true);
  CHECK(outcome(refused) == "488 no_acceptable_crypto");
  auto enforce_double = answer_for(enforce, {transport_profile::rtp_avp, useless}, false, true);
  CHECK(outcome(enforce_double) == "488 no_acceptable_crypto");
  auto best = answer_for(best_effort, {transport_profile::rtp_avp, useless}, false, true);
  CHECK(outcome(best) == "rtp");
}

TEST_CASE("MED-2 offers follow the policy and only carry keys over secure signalling") {
  CHECK(offer_for(disabled, true) == offer_plan{});
  CHECK(offer_for(disabled, false) == offer_plan{});
  CHECK(offer_for(best_effort, true) ==
        offer_plan{.profile = transport_profile::rtp_avp, .include_crypto = true});
  CHECK(offer_for(best_effort, false) == offer_plan{});
  CHECK(offer_for(enforce, true) ==
        offer_plan{.profile = transport_profile::rtp_savp, .include_crypto = true});
  auto refused = offer_for(enforce, false);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error() == refusal{488, refusal_reason::insecure_signalling});
  // Emergency calls under Enforce offer both so that a far end without SRTP still connects.
  CHECK(offer_for(enforce, true, true) == offer_plan{.profile = transport_profile::rtp_avp,
                                                     .include_crypto = true,
                                                     .emergency_exception = true});
  CHECK(offer_for(enforce, false, true) == offer_plan{.emergency_exception = true});
  CHECK(offer_for(best_effort, true, true) == offer_for(best_effort, true));
}

TEST_CASE("MED-2 answers to Ward's offer are checked against what was offered") {
  auto random = test::seeded_random(5);
  auto offered = make_offer_crypto({}, random);
  REQUIRE(offered.size() == 2);
  CHECK(offered[0].tag == 1);
  CHECK(offered[1].tag == 2);
  CHECK(offered[0].key_and_salt != offered[1].key_and_salt);

  auto plan = offer_for(best_effort, true);
  REQUIRE(plan.has_value());
  auto peer_line = format_crypto(make_answer_crypto(offered[1], random));
  std::array<std::string_view, 1> lines = {peer_line};
  auto srtp = accept_answer(best_effort, *plan, offered, {transport_profile::rtp_avp, lines});
  REQUIRE(srtp.has_value());
  CHECK(srtp->transport == media_transport::srtp);
  CHECK(srtp->accepted->tag == 2);

  auto rtp = accept_answer(best_effort, *plan, offered, {transport_profile::rtp_avp, {}});
  CHECK(outcome(rtp) == "rtp");

  auto enforce_plan = offer_for(enforce, true);
  REQUIRE(enforce_plan.has_value());
  CHECK(outcome(accept_answer(enforce, *enforce_plan, offered, {transport_profile::rtp_avp, {}})) ==
        "488 no_acceptable_crypto");
  CHECK(outcome(accept_answer(enforce, *offer_for(enforce, true, true), offered,
                              {transport_profile::rtp_avp, {}})) == "rtp!");

  // Tag not offered, suite changed, session parameters changed, two lines: refused.
  auto wrong_tag = make_answer_crypto(offered[0], random);
  wrong_tag.tag = 9;
  auto wrong_suite = make_answer_crypto(offered[0], random);
  wrong_suite.suite = offered[1].suite;
  auto wrong_options = make_answer_crypto(offered[0], random);
  wrong_options.options.rtp_encryption = false;
  for (const auto& bad : {wrong_tag, wrong_suite, wrong_options}) {
    auto text = format_crypto(bad);
    std::array<std::string_view, 1> bad_lines = {text};
    CHECK(outcome(accept_answer(best_effort, *plan, offered,
                                {transport_profile::rtp_avp, bad_lines})) ==
          "488 no_acceptable_crypto");
  }
  std::array<std::string_view, 2> two = {peer_line, peer_line};
  CHECK(outcome(accept_answer(best_effort, *plan, offered, {transport_profile::rtp_avp, two})) ==
        "488 no_acceptable_crypto");
  // An answer that leaves out UNENCRYPTED_SRTCP (as baresip's does) keeps its own SRTCP
  // encryption: accepted.
  auto srtcp_encrypted = make_answer_crypto(offered[0], random);
  srtcp_encrypted.options.rtcp_encryption = true;
  auto srtcp_text = format_crypto(srtcp_encrypted);
  std::array<std::string_view, 1> srtcp_lines = {srtcp_text};
  CHECK(outcome(accept_answer(best_effort, *plan, offered,
                              {transport_profile::rtp_avp, srtcp_lines})) !=
        "488 no_acceptable_crypto");
  // Keys in an answer to an offer that had none are not taken.
  CHECK(outcome(accept_answer(best_effort, offer_plan{}, offered,
                              {transport_profile::rtp_avp, lines})) == "488 no_acceptable_crypto");
}

TEST_CASE("MED-1 negotiated SDES keys carry media in both directions") {
  auto ward_random = test::seeded_random(11);
  auto peer_random = test::seeded_random(12);
  auto plan = offer_for(enforce, true);
  REQUIRE(plan.has_value());
  auto offered = make_offer_crypto({}, ward_random);
  std::vector<std::string> offer_text;
  for (const auto& attribute : offered)
    offer_text.push_back(format_crypto(attribute));
  std::vector<std::string_view> offer_lines(offer_text.begin(), offer_text.end());

  // The far end, also under Enforce, answers.
  auto peer = answer_for(enforce, {plan->profile, offer_lines}, false, true);
  REQUIRE(peer.has_value());
  REQUIRE(peer->accepted.has_value());
  auto peer_crypto = make_answer_crypto(*peer->accepted, peer_random);
  auto answer_text = format_crypto(peer_crypto);
  std::array<std::string_view, 1> answer_lines = {answer_text};
  auto ward = accept_answer(enforce, *plan, offered, {plan->profile, answer_lines});
  REQUIRE(ward.has_value());
  REQUIRE(ward->accepted.has_value());

  // Ward sends with its offered key; the far end receives with the key it accepted.
  const auto& chosen = offered[0];
  auto ward_out =
      srtp_session::create(*chosen.suite, chosen.key(), chosen.options, direction::outbound);
  auto peer_in = srtp_session::create(*peer->accepted->suite, peer->accepted->key(),
                                      peer->accepted->options, direction::inbound);
  auto peer_out = srtp_session::create(*peer_crypto.suite, peer_crypto.key(), peer_crypto.options,
                                       direction::outbound);
  auto ward_in = srtp_session::create(*ward->accepted->suite, ward->accepted->key(),
                                      ward->accepted->options, direction::inbound);
  REQUIRE(ward_out.has_value());
  REQUIRE(peer_in.has_value());
  REQUIRE(peer_out.has_value());
  REQUIRE(ward_in.has_value());

  alignas(4) std::array<std::byte, 64> packet{};
  const std::uint8_t header[12] = {0x80, 0, 0, 1, 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef};
  std::memcpy(packet.data(), header, sizeof header);
  auto sent = ward_out->protect_rtp(packet, 32);
  REQUIRE(sent.has_value());
  CHECK(peer_in->unprotect_rtp(packet, *sent) == 32u);
  sent = peer_out->protect_rtp(packet, 32);
  REQUIRE(sent.has_value());
  CHECK(ward_in->unprotect_rtp(packet, *sent) == 32u);
  // Each direction has its own key: what the far end sends does not pass with Ward's key.
  packet[3] = std::byte{2};
  sent = peer_out->protect_rtp(packet, 32);
  REQUIRE(sent.has_value());
  CHECK_FALSE(peer_in->unprotect_rtp(packet, *sent).has_value());
}
