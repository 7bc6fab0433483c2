// SPEC MED-1..MED-4 through the B2BUA: SDES per leg, Enforce, capacity, direct media.
#include "tests/unit/telephony/b2bua_fixture.hpp"

using namespace ward;
using namespace ward::telephony;
using namespace ward::telephony::b2bua_testing;
using namespace std::chrono_literals;

namespace {

const sip_endpoint caller_tls{transport::tls, "192.0.2.10", 5062, {}};
const sip_endpoint callee_tls{transport::tls, "192.0.2.20", 5064, {}};

std::vector<sip_send> from_tls_callee(fixture& f, const sip_message& message) {
  auto out = f.calls.handle(message, callee_tls, f.clock.now(), f.random);
  REQUIRE(out.has_value());
  return *out;
}

/// An a=crypto value a phone would offer (its own key).
std::string phone_crypto(std::uint32_t tag, std::uint64_t seed) {
  const auto* suite = media::find_suite("AES_CM_128_HMAC_SHA1_80");
  REQUIRE(suite != nullptr);
  return media::format_crypto(
      media::make_crypto(tag, *suite, media::srtp_options{}, test::seeded_random(seed)));
}

std::string srtp_offer(std::string_view profile, const std::string& crypto) {
  return "v=0\r\no=phone 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
         "m=audio 4000 " +
         std::string(profile) + " 0\r\na=rtpmap:0 PCMU/8000\r\na=crypto:" + crypto + "\r\n";
}

call_target to_202_over(transport kind) {
  registration_binding binding;
  binding.extension = "202";
  binding.contact = "sip:202@192.0.2.20:5064";
  binding.source = "192.0.2.20:5064";
  binding.kind = kind;
  return call_target{"202", binding, {}};
}

std::vector<std::string> crypto_lines(const std::string& body) {
  std::vector<std::string> out;
  auto sdp = parse_sdp(body);
  REQUIRE(sdp.has_value());
  for (const auto& attribute : sdp->media[0].attributes)
    if (attribute.starts_with("crypto:"))
      out.push_back(attribute.substr(7));
  return out;
}

} // namespace

TEST_CASE("MED-1 MED-2 a TLS caller's SDES offer is answered with the node's own key") {
  fixture f;
  auto offer = srtp_offer("RTP/SAVP", phone_crypto(1, 5));
  auto out = f.calls.start_call(invite(offer), caller_tls, "201", to_202_over(transport::udp),
                                f.clock.now(), f.random);
  REQUIRE(out.size() == 2);
  // The UDP callee's offer carries no keys at all, the caller's least of all.
  auto sent = parse(out[1].text);
  CHECK(crypto_lines(sent.body).empty());
  CHECK(parse_sdp(sent.body)->media[0].proto == "RTP/AVP");
  REQUIRE(f.media.crypto.at({1, true}).has_value());
  const auto& keys = *f.media.crypto.at({1, true});
  CHECK(media::format_crypto(keys.inbound) == phone_crypto(1, 5));
  CHECK(keys.outbound.tag == 1);
  CHECK(keys.outbound.key_and_salt != keys.inbound.key_and_salt);

  auto answered = f.from_callee(respond(sent, 200, "OK", offer_sdp("192.0.2.20", 5000)));
  REQUIRE(answered.size() == 2);
  auto ok = parse(answered[1].text);
  auto answer_sdp = parse_sdp(ok.body);
  REQUIRE(answer_sdp.has_value());
  CHECK(answer_sdp->media[0].proto == "RTP/SAVP");
  auto lines = crypto_lines(ok.body);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == media::format_crypto(keys.outbound));
  CHECK_FALSE(f.media.crypto.contains({1, false}));
  REQUIRE(f.calls.calls().size() == 1);
  CHECK(f.calls.calls()[0].caller_media == "srtp:AES_CM_128_HMAC_SHA1_80");
  CHECK(f.calls.calls()[0].callee_media == "rtp");
}

TEST_CASE("MED-1 MED-3 a callee on TLS is offered the node's keys and each leg is keyed apart") {
  fixture f;
  auto caller_offer = srtp_offer("RTP/SAVP", phone_crypto(1, 5));
  auto out = f.calls.start_call(invite(caller_offer), caller_tls, "201",
                                to_202_over(transport::tls), f.clock.now(), f.random);
  REQUIRE(out.size() == 2);
  auto sent = parse(out[1].text);
  auto offered = crypto_lines(sent.body);
  REQUIRE(offered.size() >= 2);
  for (const auto& line : offered)
    CHECK(line != phone_crypto(1, 5));
  // Best Effort offers SRTP inside RTP/AVP so a callee without SRTP still connects.
  CHECK(parse_sdp(sent.body)->media[0].proto == "RTP/AVP");

  // The callee takes tag 1 with its own key.
  auto callee_key = phone_crypto(1, 9);
  auto answer = srtp_offer("RTP/AVP", callee_key);
  (void)from_tls_callee(f, respond(sent, 200, "OK", answer));
  REQUIRE(f.media.crypto.at({1, false}).has_value());
  const auto& keys = *f.media.crypto.at({1, false});
  CHECK(media::format_crypto(keys.inbound) == callee_key);
  CHECK(media::format_crypto(keys.outbound) == offered[0]);
  CHECK(f.calls.calls()[0].callee_media == "srtp:AES_CM_128_HMAC_SHA1_80");

  // A callee that answers without a=crypto stays on RTP under Best Effort.
  fixture g;
  auto plain = g.calls.start_call(invite(caller_offer), caller_tls, "201",
                                  to_202_over(transport::tls), g.clock.now(), g.random);
  (void)from_tls_callee(g, respond(parse(plain[1].text), 200, "OK", offer_sdp("192.0.2.20", 5000)));
  CHECK(g.calls.calls()[0].callee_media == "rtp");
  CHECK(g.calls.calls()[0].state == call_state::answered);
}

TEST_CASE("MED-2 Enforce refuses RTP on its leg with 488") {
  fixture f;
  // A caller under Enforce offering RTP only.
  auto refused = f.calls.start_call(invite(), caller_tls, "201", f.to_202(), f.clock.now(),
                                    f.random, {media::media_security::enforce});
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].text.starts_with("SIP/2.0 488 "));
  // A callee under Enforce reached over UDP: its keys could not travel safely.
  auto unreachable =
      f.calls.start_call(invite(), caller_phone, "201", f.to_202(), f.clock.now(), f.random,
                         {media::media_security::best_effort, media::media_security::enforce});
  REQUIRE(unreachable.size() == 1);
  CHECK(unreachable[0].text.starts_with("SIP/2.0 488 "));
  CHECK(f.calls.active_calls() == 0);
  CHECK(f.media.live.empty());

  // A callee under Enforce on TLS that answers without keys: the call ends, 488 to the caller.
  auto started = f.calls.start_call(
      invite(), caller_phone, "201", to_202_over(transport::tls), f.clock.now(), f.random,
      {media::media_security::best_effort, media::media_security::enforce});
  REQUIRE(started.size() == 2);
  auto sent = parse(started[1].text);
  CHECK(parse_sdp(sent.body)->media[0].proto == "RTP/SAVP");
  auto out = from_tls_callee(f, respond(sent, 200, "OK", offer_sdp("192.0.2.20", 5000)));
  bool bye = false, not_acceptable = false;
  for (const auto& send : out) {
    bye |= send.text.starts_with("BYE ");
    not_acceptable |= send.text.starts_with("SIP/2.0 488 ");
  }
  CHECK(bye);
  CHECK(not_acceptable);
  CHECK(f.calls.drain_ended().back().second == call_end::media_failure);
}

TEST_CASE("MED-1 SDES keys never go out over UDP even when the caller sent some") {
  fixture f;
  auto out = f.calls.start_call(invite(srtp_offer("RTP/AVP", phone_crypto(1, 5))), caller_phone,
                                "201", f.to_202(), f.clock.now(), f.random);
  REQUIRE(out.size() == 2);
  CHECK(crypto_lines(parse(out[1].text).body).empty());
  auto answered =
      f.from_callee(respond(parse(out[1].text), 200, "OK", offer_sdp("192.0.2.20", 5000)));
  CHECK(crypto_lines(parse(answered[1].text).body).empty());
  CHECK_FALSE(f.media.crypto.contains({1, true}));
}

TEST_CASE("MED-4 a call with an SRTP leg counts twice against the media capacity") {
  manual_clock clock{test::fixed_now()};
  auto random = test::seeded_random(3);
  fake_anchor media;
  b2bua calls{b2bua_settings{.node = "primary", .address = "198.51.100.1", .media_capacity = 3},
              media};
  auto secure = calls.start_call(invite(srtp_offer("RTP/SAVP", phone_crypto(1, 5))), caller_tls,
                                 "201", to_202_over(transport::udp), clock.now(), random);
  REQUIRE(secure.size() == 2);
  CHECK(calls.media_units() == 2);
  auto second = invite(srtp_offer("RTP/SAVP", phone_crypto(1, 6)));
  second.call_id = "call-b@192.0.2.10";
  auto refused =
      calls.start_call(second, caller_tls, "201", to_202_over(transport::udp), clock.now(), random);
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].text.starts_with("SIP/2.0 503 "));
  CHECK(refused[0].text.find("media capacity") != std::string::npos);
  auto plain = invite();
  plain.call_id = "call-c@192.0.2.10";
  auto fits = calls.start_call(plain, caller_phone, "201", to_202_over(transport::udp), clock.now(),
                               random);
  REQUIRE(fits.size() == 2);
  CHECK(calls.media_units() == 3);
  CHECK(calls.media_capacity() == 3);
}

TEST_CASE("SIP-6 a TLS caller that called a sip URI gets a sip Contact with transport tls") {
  fixture f;
  auto out = f.calls.start_call(invite(), caller_tls, "201", f.to_202(), f.clock.now(), f.random);
  auto sent = parse(out[1].text);
  auto answered = f.from_callee(respond(sent, 200, "OK", offer_sdp("192.0.2.20", 5000)));
  auto ok = parse(answered[1].text);
  REQUIRE(ok.contacts.size() == 1);
  CHECK(ok.contacts[0].uri.scheme == uri_scheme::sip);
  CHECK(ok.contacts[0].uri.text.find("transport=tls") != std::string::npos);
  // No ACK over a reliable transport: nothing is repeated, and after 32 s the call is ended.
  f.clock.advance(2s);
  CHECK(f.calls.tick(f.clock.now(), f.random).empty());
  f.clock.advance(31s);
  auto ended = f.calls.tick(f.clock.now(), f.random);
  int byes = 0;
  for (const auto& send : ended)
    byes += send.text.starts_with("BYE ");
  CHECK(byes == 2);
  CHECK(f.calls.drain_ended()[0].second == call_end::timeout);
}

namespace {

/// The policy of a call both of whose phones are on this node with direct media allowed.
call_media_policy
direct_allowed(media::media_security caller = media::media_security::best_effort,
               media::media_security callee = media::media_security::best_effort) {
  return call_media_policy{.caller = caller, .callee = callee, .direct_media = true};
}

std::string srtp_sdp(std::string_view address, int port, std::string_view profile,
                     const std::string& crypto) {
  return "v=0\r\no=phone 7 7 IN IP4 " + std::string(address) + "\r\ns=-\r\nc=IN IP4 " +
         std::string(address) + "\r\nt=0 0\r\nm=audio " + std::to_string(port) + " " +
         std::string(profile) + " 0\r\na=rtpmap:0 PCMU/8000\r\na=crypto:" + crypto + "\r\n";
}

bool sends_status(const std::vector<sip_send>& out, std::string_view status) {
  return std::ranges::any_of(out, [&](const sip_send& send) {
    return send.text.starts_with("SIP/2.0 " + std::string(status));
  });
}

/// A re-INVITE from the caller inside its dialog, offering media at `port`.
sip_message caller_reinvite(std::string_view to_tag, int port) {
  auto body = offer_sdp("192.0.2.10", port);
  std::string text = "INVITE sip:ward@198.51.100.1:5060 SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 192.0.2.10:5062;rport;branch=z9hG4bK-re" +
                     std::to_string(port) +
                     "\r\n"
                     "From: \"Alice\" <sip:201@ward.test>;tag=alice1\r\n"
                     "To: <sip:202@ward.test>;tag=" +
                     std::string(to_tag) +
                     "\r\nCall-ID: call-a@192.0.2.10\r\nCSeq: 7 INVITE\r\n"
                     "Contact: <sip:201@192.0.2.10:5062>\r\nMax-Forwards: 70\r\n"
                     "Content-Type: application/sdp\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n" + body;
  return parse(text);
}

} // namespace

TEST_CASE(
    "TF-2 MED-2 emergency numbers come first in the dial plan and ring the emergency extension") {
  telephony_directory_data directory;
  directory.extensions.emplace("201", extension_record{"201", {}, false, true});
  directory.extensions.emplace("911", extension_record{"911", {}, false, true});
  directory.extensions.emplace("800", extension_record{"800", {}, false, true});
  directory.policy.emergency_numbers = {"112", "911"};
  // No route configured: still an emergency call, which the node answers as unroutable.
  auto unrouted = route_dialled(directory, "201", "112");
  CHECK(unrouted.outcome == dial_outcome::emergency);
  CHECK(unrouted.extension.empty());
  directory.policy.emergency_extension = "800";
  auto routed = route_dialled(directory, "201", "112");
  CHECK(routed.outcome == dial_outcome::emergency);
  CHECK(routed.extension == "800");
  // An extension numbered like an emergency number cannot take its calls.
  CHECK(route_dialled(directory, "201", "911").outcome == dial_outcome::emergency);
  CHECK(route_dialled(directory, "201", "911").extension == "800");
  // Emergency numbers are never barred, not even for the emergency extension itself.
  CHECK(route_dialled(directory, "800", "112").outcome == dial_outcome::emergency);
  CHECK(route_dialled(directory, "201", "800").outcome == dial_outcome::extension);
  directory.policy.emergency_numbers.clear();
  CHECK(route_dialled(directory, "201", "112").outcome == dial_outcome::unknown);
}

TEST_CASE("MED-2 an emergency call under Enforce falls back to RTP on both legs") {
  fixture f;
  call_media_policy enforce{media::media_security::enforce, media::media_security::enforce};
  // Not an emergency: RTP from a UDP phone cannot meet Enforce.
  CHECK(sends_status(f.calls.start_call(invite(), caller_phone, "201", f.to_202(), f.clock.now(),
                                        f.random, enforce),
                     "488"));
  enforce.emergency = true;
  auto out = f.calls.start_call(invite(), caller_phone, "201", f.to_202(), f.clock.now(), f.random,
                                enforce);
  REQUIRE(out.size() == 2);
  auto sent = parse(out[1].text);
  CHECK(parse_sdp(sent.body)->media[0].proto == "RTP/AVP");
  CHECK(crypto_lines(sent.body).empty());
  auto answered = f.from_callee(respond(sent, 200, "OK", offer_sdp("192.0.2.20", 5000)));
  CHECK(sends_status(answered, "200"));
  REQUIRE(f.calls.calls().size() == 1);
  CHECK(f.calls.calls()[0].caller_media == "rtp");
  CHECK(f.calls.calls()[0].callee_media == "rtp");
  CHECK(f.calls.calls()[0].state == call_state::answered);
}

TEST_CASE("TF-5 MED-4 emergency calls are not refused for capacity or Strict SIPS") {
  manual_clock clock{test::fixed_now()};
  auto random = test::seeded_random(5);
  fake_anchor media;
  b2bua calls{
      b2bua_settings{
          .node = "primary", .address = "198.51.100.1", .strict_sips = true, .media_capacity = 0},
      media};
  CHECK(sends_status(calls.start_call(invite(), caller_phone, "201", to_202_over(transport::udp),
                                      clock.now(), random),
                     "403"));
  call_media_policy emergency;
  emergency.emergency = true;
  auto out = calls.start_call(invite(), caller_phone, "201", to_202_over(transport::udp),
                              clock.now(), random, emergency);
  REQUIRE(out.size() == 2);
  CHECK(out[1].text.starts_with("INVITE "));
  CHECK(calls.media_units() == 1);
}

TEST_CASE("MED-3 two TLS phones under the same policy get direct SRTP") {
  fixture f;
  auto caller_key = phone_crypto(1, 5);
  auto caller_offer = srtp_sdp("192.0.2.10", 4000, "RTP/AVP", caller_key);
  auto out =
      f.calls.start_call(invite(caller_offer), caller_tls, "201", to_202_over(transport::tls),
                         f.clock.now(), f.random, direct_allowed());
  REQUIRE(out.size() == 2);
  // The callee gets the caller's offer as it was: address, port and key, over TLS only.
  auto sent = parse(out[1].text);
  CHECK(sent.body == caller_offer);
  CHECK(f.media.live.empty());
  CHECK(f.calls.media_units() == 0);
  CHECK(f.calls.direct_calls_started() == 1);

  auto callee_answer = srtp_sdp("192.0.2.20", 5000, "RTP/AVP", phone_crypto(1, 9));
  auto answered = from_tls_callee(f, respond(sent, 200, "OK", callee_answer));
  REQUIRE(answered.size() == 2);
  auto ok = parse(answered[1].text);
  CHECK(ok.status_code == 200);
  CHECK(ok.body == callee_answer);
  REQUIRE(f.calls.calls().size() == 1);
  const auto view = f.calls.calls()[0];
  CHECK(view.direct);
  CHECK(view.caller_media == "srtp:AES_CM_128_HMAC_SHA1_80");
  CHECK(view.callee_media == "srtp:AES_CM_128_HMAC_SHA1_80");
  CHECK(view.caller_relay_port == 0);
  CHECK(f.media.crypto.empty());
  CHECK(f.media.peers.empty());
}

TEST_CASE("MED-3 direct media only where the relay would give no phone stronger media") {
  auto relayed = [](const std::string& body, const sip_endpoint& from, const call_target& target,
                    const call_media_policy& policy) {
    fixture f;
    auto out =
        f.calls.start_call(invite(body), from, "201", target, f.clock.now(), f.random, policy);
    REQUIRE(out.size() == 2);
    return f.calls.direct_calls_started() == 0 && f.media.live.size() == 1;
  };
  const auto srtp = srtp_sdp("192.0.2.10", 4000, "RTP/SAVP", phone_crypto(1, 5));
  const auto tls_callee = to_202_over(transport::tls);
  const auto udp_callee = to_202_over(transport::udp);
  // Plain RTP between two phones that would get no SRTP from the relay either: direct.
  CHECK_FALSE(relayed(offer_sdp("192.0.2.10", 4000), caller_phone, udp_callee, direct_allowed()));
  CHECK_FALSE(
      relayed(srtp, caller_tls, tls_callee,
              direct_allowed(media::media_security::enforce, media::media_security::enforce)));
  // Direct media switched off.
  CHECK(relayed(srtp, caller_tls, tls_callee, {}));
  // An SRTP-only offer under Best Effort: the relay connects a callee without SRTP, a direct
  // offer would not.
  CHECK(relayed(srtp, caller_tls, tls_callee, direct_allowed()));
  CHECK_FALSE(relayed(srtp_sdp("192.0.2.10", 4000, "RTP/AVP", phone_crypto(1, 5)), caller_tls,
                      tls_callee, direct_allowed()));
  // A plain caller and a callee the relay would give SRTP.
  CHECK(relayed(offer_sdp("192.0.2.10", 4000), caller_phone, tls_callee, direct_allowed()));
  // Policies that differ: the Enforce leg is kept by the relay.
  CHECK(
      relayed(srtp, caller_tls, tls_callee,
              direct_allowed(media::media_security::enforce, media::media_security::best_effort)));
  // Keys offered by a caller whose keys must not reach a plain callee.
  CHECK(relayed(srtp, caller_tls, udp_callee, direct_allowed()));
  // A caller behind NAT: its SDP names a private address its signalling does not come from.
  const sip_endpoint natted{transport::udp, "203.0.113.7", 5062, {}};
  CHECK(relayed(offer_sdp("10.1.1.7", 4000), natted, udp_callee, direct_allowed()));
  // A callee registered from behind NAT.
  auto natted_callee = udp_callee;
  natted_callee.binding->contact = "sip:202@10.2.2.2:5064";
  CHECK(relayed(offer_sdp("192.0.2.10", 4000), caller_phone, natted_callee, direct_allowed()));
  // A callee on another node.
  CHECK(relayed(offer_sdp("192.0.2.10", 4000), caller_phone, call_target{"202", {}, "site2"},
                direct_allowed()));
  // Emergency calls.
  auto emergency = direct_allowed();
  emergency.emergency = true;
  CHECK(relayed(offer_sdp("192.0.2.10", 4000), caller_phone, udp_callee, emergency));
}

TEST_CASE("MED-2 MED-3 a direct call whose answer falls short of Enforce ends with 488") {
  fixture f;
  auto out = f.calls.start_call(
      invite(srtp_sdp("192.0.2.10", 4000, "RTP/AVP", phone_crypto(1, 5))), caller_tls, "201",
      to_202_over(transport::tls), f.clock.now(), f.random,
      direct_allowed(media::media_security::enforce, media::media_security::enforce));
  REQUIRE(out.size() == 2);
  CHECK(f.calls.direct_calls_started() == 1);
  auto answered =
      from_tls_callee(f, respond(parse(out[1].text), 200, "OK", offer_sdp("192.0.2.20", 5000)));
  CHECK(sends_status(answered, "488"));
  CHECK(std::ranges::any_of(answered,
                            [](const sip_send& send) { return send.text.starts_with("BYE "); }));
  CHECK(f.calls.drain_ended().back().second == call_end::media_failure);

  // Under Best Effort the same answer makes a direct RTP call.
  fixture g;
  auto best = g.calls.start_call(
      invite(srtp_sdp("192.0.2.10", 4000, "RTP/AVP", phone_crypto(1, 5))), caller_tls, "201",
      to_202_over(transport::tls), g.clock.now(), g.random, direct_allowed());
  (void)from_tls_callee(g, respond(parse(best[1].text), 200, "OK", offer_sdp("192.0.2.20", 5000)));
  REQUIRE(g.calls.calls().size() == 1);
  CHECK(g.calls.calls()[0].direct);
  CHECK(g.calls.calls()[0].caller_media == "rtp");
  // An answer with a key the caller never offered is refused, not passed on.
  fixture h;
  auto forged = h.calls.start_call(
      invite(srtp_sdp("192.0.2.10", 4000, "RTP/AVP", phone_crypto(1, 5))), caller_tls, "201",
      to_202_over(transport::tls), h.clock.now(), h.random, direct_allowed());
  auto refused =
      from_tls_callee(h, respond(parse(forged[1].text), 200, "OK",
                                 srtp_sdp("192.0.2.20", 5000, "RTP/AVP", phone_crypto(7, 9))));
  CHECK(sends_status(refused, "488"));
}

TEST_CASE(
    "MED-3 a direct call refuses a re-INVITE that moves media the other phone cannot follow") {
  fixture f;
  auto out = f.calls.start_call(invite(), caller_phone, "201", f.to_202(), f.clock.now(), f.random,
                                direct_allowed());
  REQUIRE(out.size() == 2);
  auto answered =
      f.from_callee(respond(parse(out[1].text), 200, "OK", offer_sdp("192.0.2.20", 5000)));
  auto a_tag = to_tag_of(answered[1].text);
  CHECK(parse(answered[1].text).body == offer_sdp("192.0.2.20", 5000));
  (void)f.from_caller(caller_request("ACK", a_tag, 5));
  auto same = f.from_caller(caller_reinvite(a_tag, 4000));
  REQUIRE(same.size() == 1);
  CHECK(same[0].text.starts_with("SIP/2.0 200 "));
  CHECK(parse(same[0].text).body == offer_sdp("192.0.2.20", 5000));
  auto moved = f.from_caller(caller_reinvite(a_tag, 4100));
  REQUIRE(moved.size() == 1);
  CHECK(moved[0].text.starts_with("SIP/2.0 488 "));
  CHECK(f.calls.calls()[0].state == call_state::answered);
}

TEST_CASE("MED-1 the callee is offered the configured SRTP options, then the other SRTCP "
          "variant; a callee declining the stream ends its dialog and the caller learns why") {
  fixture f;
  media::srtp_profile strict{.authentication = media::rtp_authentication::hmac_sha1_32,
                             .rtcp_encryption = true};
  call_media_policy policy{media::media_security::best_effort, media::media_security::enforce};
  policy.callee_srtp = strict;
  auto started = f.calls.start_call(invite(), caller_phone, "201", to_202_over(transport::tls),
                                    f.clock.now(), f.random, policy);
  REQUIRE(started.size() == 2);
  auto sent = parse(started[1].text);
  std::vector<std::string> crypto;
  for (std::size_t at = sent.body.find("a=crypto:"); at != std::string::npos;
       at = sent.body.find("a=crypto:", at + 1))
    crypto.push_back(sent.body.substr(at + 9, sent.body.find("\r\n", at) - at - 9));
  REQUIRE(crypto.size() == 2);
  CHECK(crypto[0].starts_with("1 AES_CM_128_HMAC_SHA1_32 "));
  CHECK(crypto[0].find("UNENCRYPTED_SRTCP") == std::string::npos);
  CHECK(crypto[1].starts_with("2 AES_CM_128_HMAC_SHA1_32 "));
  CHECK(crypto[1].find("UNENCRYPTED_SRTCP") != std::string::npos);

  // The callee's stack takes neither: it answers the audio stream with port 0.
  auto declined = offer_sdp("192.0.2.20", 5000);
  declined.replace(declined.find("m=audio 5000"), 12, "m=audio 0");
  auto out = from_tls_callee(f, respond(sent, 200, "OK", declined));
  bool bye = false;
  std::string to_caller;
  for (const auto& send : out) {
    bye |= send.text.starts_with("BYE ");
    if (send.text.starts_with("SIP/2.0 488 "))
      to_caller = send.text;
  }
  CHECK(bye);
  REQUIRE_FALSE(to_caller.empty());
  CHECK(to_caller.find("Warning: 304 ") != std::string::npos);
  CHECK(to_caller.find("the callee declined the audio stream (offered SRTP)") != std::string::npos);
  CHECK(f.calls.drain_ended().back().second == call_end::media_failure);
}
