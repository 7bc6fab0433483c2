#include "core/clock.hpp"
#include "media/sdes.hpp"
#include "media/srtp_suites.hpp"
#include "telephony/b2bua.hpp"
#include "telephony/dial_plan.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

using namespace ward;
using namespace ward::telephony;
using namespace std::chrono_literals;

namespace {

/// A media anchor that hands out ports 30000, 30002, ... and records what it was told.
class fake_anchor final : public media_anchor {
public:
  std::string address() const override { return "198.51.100.1"; }
  std::expected<ports, error> allocate() override {
    if (exhausted)
      return std::unexpected(error{errc::media_unavailable, "no ports"});
    ports out{next_id, static_cast<std::uint16_t>(30000 + 4 * (next_id - 1)),
              static_cast<std::uint16_t>(30002 + 4 * (next_id - 1))};
    ++next_id;
    live.insert({out.id, out});
    return out;
  }
  void set_peer(std::uint64_t id, bool caller, const std::string& address,
                std::uint16_t port) override {
    peers[{id, caller}] = address + ":" + std::to_string(port);
  }
  void release(std::uint64_t id) override { live.erase(id); }
  void set_crypto(std::uint64_t id, bool caller, const std::optional<leg_keys>& keys) override {
    crypto[{id, caller}] = keys;
  }

  bool exhausted = false;
  std::uint64_t next_id = 1;
  std::map<std::uint64_t, ports> live;
  std::map<std::pair<std::uint64_t, bool>, std::string> peers;
  std::map<std::pair<std::uint64_t, bool>, std::optional<leg_keys>> crypto;
};

const sip_endpoint caller_phone{transport::udp, "192.0.2.10", 5062, {}};
const sip_endpoint callee_phone{transport::udp, "192.0.2.20", 5064, {}};

std::string offer_sdp(std::string_view address, int port) {
  return "v=0\r\no=phone 1 1 IN IP4 " + std::string(address) + "\r\ns=-\r\nc=IN IP4 " +
         std::string(address) + "\r\nt=0 0\r\nm=audio " + std::to_string(port) +
         " RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\n";
}

sip_message parse(const std::string& text) {
  auto parsed = parse_sip_message(text);
  if (!parsed)
    FAIL("test message refused: " << parsed.error().detail << "\n" << text);
  return *parsed;
}

sip_message invite(std::string body = offer_sdp("192.0.2.10", 4000)) {
  std::string text = "INVITE sip:202@ward.test SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 192.0.2.10:5062;rport;branch=z9hG4bK-a1\r\n"
                     "From: \"Alice\" <sip:201@ward.test>;tag=alice1\r\n"
                     "To: <sip:202@ward.test>\r\nCall-ID: call-a@192.0.2.10\r\n"
                     "CSeq: 5 INVITE\r\nContact: <sip:201@192.0.2.10:5062>\r\n"
                     "Max-Forwards: 70\r\n";
  if (!body.empty())
    text += "Content-Type: application/sdp\r\n";
  text += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return parse(text);
}

/// The callee's response to the request `sent` (the B2BUA's INVITE or BYE).
sip_message respond(const sip_message& sent, int code, std::string_view reason,
                    std::string body = {}) {
  std::string text = "SIP/2.0 " + std::to_string(code) + " " + std::string(reason) + "\r\n";
  for (const auto& via : sent.vias)
    text += "Via: " + via.value + "\r\n";
  text += "From: " + sent.from.value + "\r\n";
  text += "To: " + sent.to.value + (sent.to.tag.empty() && code > 100 ? ";tag=bob1" : "") + "\r\n";
  text += "Call-ID: " + sent.call_id + "\r\nCSeq: " + std::to_string(sent.cseq) + " " +
          sent.cseq_method + "\r\n";
  if (code >= 180 && code < 300)
    text += "Contact: <sip:202@192.0.2.20:5064>\r\n";
  if (!body.empty())
    text += "Content-Type: application/sdp\r\n";
  text += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return parse(text);
}

/// A request inside the caller's dialog (ACK, BYE, CANCEL) as the phone sends it.
sip_message caller_request(std::string_view method, std::string_view to_tag, std::uint32_t cseq,
                           std::string_view branch = "z9hG4bK-a2") {
  std::string text = std::string(method) + " sip:ward@198.51.100.1:5060 SIP/2.0\r\n";
  text += "Via: SIP/2.0/UDP 192.0.2.10:5062;rport;branch=" + std::string(branch) + "\r\n";
  text += "From: \"Alice\" <sip:201@ward.test>;tag=alice1\r\n";
  text += "To: <sip:202@ward.test>" +
          (to_tag.empty() ? std::string() : ";tag=" + std::string(to_tag)) + "\r\n";
  text += "Call-ID: call-a@192.0.2.10\r\nCSeq: " + std::to_string(cseq) + " " +
          std::string(method) + "\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
  return parse(text);
}

struct fixture {
  manual_clock clock{test::fixed_now()};
  random_source random = test::seeded_random(11);
  fake_anchor media;
  b2bua calls{b2bua_settings{.node = "primary",
                             .address = "198.51.100.1",
                             .udp_port = 5060,
                             .tcp_port = 5060,
                             .tls_port = 5061},
              media};

  call_target to_202() {
    registration_binding binding;
    binding.extension = "202";
    binding.contact = "sip:202@192.0.2.20:5064";
    binding.source = "192.0.2.20:5064";
    binding.kind = transport::udp;
    return call_target{"202", binding, {}};
  }

  /// Starts a call from 201 to 202; returns the INVITE sent to the callee.
  sip_message start() {
    auto out = calls.start_call(invite(), caller_phone, "201", to_202(), clock.now(), random);
    REQUIRE(out.size() == 2);
    CHECK(out[0].to == caller_phone);
    CHECK(out[0].text.starts_with("SIP/2.0 100 Trying\r\n"));
    CHECK(out[1].to == callee_phone);
    return parse(out[1].text);
  }

  std::vector<sip_send> from_callee(const sip_message& message) {
    auto out = calls.handle(message, callee_phone, clock.now(), random);
    REQUIRE(out.has_value());
    return *out;
  }
  std::vector<sip_send> from_caller(const sip_message& message) {
    auto out = calls.handle(message, caller_phone, clock.now(), random);
    REQUIRE(out.has_value());
    return *out;
  }
};

std::string to_tag_of(const std::string& response) {
  auto parsed = parse(response);
  return parsed.to.tag;
}

} // namespace

TEST_CASE("SIP-6 MED-3 the callee gets a fresh dialog and an offer for the node's relay") {
  fixture f;
  auto sent = f.start();
  CHECK(sent.method == "INVITE");
  CHECK(sent.request_uri.text == "sip:202@192.0.2.20:5064");
  CHECK(sent.call_id != "call-a@192.0.2.10");
  CHECK(sent.from.uri.user == "201");
  CHECK(sent.from.display == "Alice");
  CHECK_FALSE(sent.from.tag.empty());
  CHECK(sent.from.tag != "alice1");
  CHECK(sent.to.tag.empty());
  CHECK(sent.max_forwards == 69);
  REQUIRE(sent.vias.size() == 1);
  CHECK(sent.vias[0].host == "198.51.100.1");
  CHECK(sent.vias[0].branch.starts_with("z9hG4bK"));
  auto sdp = parse_sdp(sent.body);
  REQUIRE(sdp.has_value());
  CHECK(sdp->media[0].connection_address == "198.51.100.1");
  CHECK(sdp->media[0].port == 30002);
  CHECK(f.media.peers.at({1, true}) == "192.0.2.10:4000");
  CHECK(f.calls.active_calls() == 1);
  REQUIRE(f.calls.calls().size() == 1);
  CHECK(f.calls.calls()[0].state == call_state::calling);
  CHECK(f.calls.calls()[0].caller == "201");
  CHECK(f.calls.calls()[0].callee == "202");
}

TEST_CASE("SIP-6 ringing answer ACK and BYE pass between the legs") {
  fixture f;
  auto sent = f.start();
  auto ringing = f.from_callee(respond(sent, 180, "Ringing"));
  REQUIRE(ringing.size() == 1);
  CHECK(ringing[0].to == caller_phone);
  CHECK(ringing[0].text.starts_with("SIP/2.0 180 Ringing\r\n"));
  auto a_tag = to_tag_of(ringing[0].text);
  CHECK_FALSE(a_tag.empty());
  CHECK(f.calls.calls()[0].state == call_state::ringing);

  auto answered = f.from_callee(respond(sent, 200, "OK", offer_sdp("192.0.2.20", 5000)));
  REQUIRE(answered.size() == 2);
  auto ack = parse(answered[0].text);
  CHECK(answered[0].to == callee_phone);
  CHECK(ack.method == "ACK");
  CHECK(ack.request_uri.text == "sip:202@192.0.2.20:5064");
  CHECK(ack.to.tag == "bob1");
  auto ok = parse(answered[1].text);
  CHECK(answered[1].to == caller_phone);
  CHECK(ok.status_code == 200);
  CHECK(ok.to.tag == a_tag);
  CHECK(ok.call_id == "call-a@192.0.2.10");
  REQUIRE(ok.contacts.size() == 1);
  CHECK(ok.contacts[0].uri.host == "198.51.100.1");
  auto answer_sdp = parse_sdp(ok.body);
  REQUIRE(answer_sdp.has_value());
  CHECK(answer_sdp->media[0].port == 30000);
  CHECK(answer_sdp->media[0].connection_address == "198.51.100.1");
  CHECK(f.media.peers.at({1, false}) == "192.0.2.20:5000");
  CHECK(f.calls.calls()[0].state == call_state::answered);

  // The caller's ACK ends the 200's retransmissions; its BYE reaches the callee.
  CHECK(f.from_caller(caller_request("ACK", a_tag, 5)).empty());
  f.clock.advance(2s);
  CHECK(f.calls.tick(f.clock.now(), f.random).empty());
  auto bye = f.from_caller(caller_request("BYE", a_tag, 6, "z9hG4bK-a3"));
  REQUIRE(bye.size() == 2);
  CHECK(bye[0].to == caller_phone);
  CHECK(bye[0].text.starts_with("SIP/2.0 200 OK\r\n"));
  auto bye_b = parse(bye[1].text);
  CHECK(bye[1].to == callee_phone);
  CHECK(bye_b.method == "BYE");
  CHECK(bye_b.call_id == sent.call_id);
  CHECK(bye_b.to.tag == "bob1");
  CHECK(bye_b.from.tag == sent.from.tag);
  CHECK(bye_b.cseq == 2);
  CHECK(f.media.live.empty());
  CHECK(f.calls.active_calls() == 0);
  auto ended = f.calls.drain_ended();
  REQUIRE(ended.size() == 1);
  CHECK(ended[0].second == call_end::completed);
  CHECK(ended[0].first.answered != b2bua::time_point{});

  // The callee's 200 to the BYE is absorbed; a retransmitted BYE from the caller is answered
  // again while the call lingers, and forgotten after 32 s.
  CHECK(f.from_callee(respond(bye_b, 200, "OK")).empty());
  auto again = f.from_caller(caller_request("BYE", a_tag, 6, "z9hG4bK-a3"));
  REQUIRE(again.size() == 1);
  CHECK(again[0].text.starts_with("SIP/2.0 200 OK\r\n"));
  f.clock.advance(33s);
  (void)f.calls.tick(f.clock.now(), f.random);
  CHECK_FALSE(f.calls.handle(caller_request("BYE", a_tag, 6, "z9hG4bK-a3"), caller_phone,
                             f.clock.now(), f.random));
}

TEST_CASE("SIP-6 the callee hanging up sends BYE to the caller's contact") {
  fixture f;
  auto sent = f.start();
  auto answered = f.from_callee(respond(sent, 200, "OK", offer_sdp("192.0.2.20", 5000)));
  auto a_tag = to_tag_of(answered[1].text);
  (void)f.from_caller(caller_request("ACK", a_tag, 5));
  std::string text = "BYE sip:ward@198.51.100.1:5060 SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 192.0.2.20:5064;branch=z9hG4bK-b9\r\n"
                     "From: <sip:202@ward.test>;tag=bob1\r\n"
                     "To: " +
                     sent.from.value + "\r\nCall-ID: " + sent.call_id +
                     "\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n";
  auto out = f.from_callee(parse(text));
  REQUIRE(out.size() == 2);
  CHECK(out[0].to == callee_phone);
  CHECK(out[0].text.starts_with("SIP/2.0 200 OK\r\n"));
  auto bye = parse(out[1].text);
  CHECK(out[1].to == caller_phone);
  CHECK(bye.request_uri.text == "sip:201@192.0.2.10:5062");
  CHECK(bye.call_id == "call-a@192.0.2.10");
  CHECK(bye.to.tag == "alice1");
  CHECK(bye.from.tag == a_tag);

  // Over UDP the BYE is retransmitted until the caller answers.
  f.clock.advance(600ms);
  auto resent = f.calls.tick(f.clock.now(), f.random);
  REQUIRE(resent.size() == 1);
  CHECK(resent[0].text == out[1].text);
  CHECK(f.from_caller(respond(bye, 200, "OK")).empty());
  f.clock.advance(5s);
  CHECK(f.calls.tick(f.clock.now(), f.random).empty());
}

TEST_CASE("SIP-6 a third party cannot end a call by knowing its Call-ID") {
  fixture f;
  auto sent = f.start();
  auto answered = f.from_callee(respond(sent, 200, "OK", offer_sdp("192.0.2.20", 5000)));
  auto a_tag = to_tag_of(answered[1].text);
  const sip_endpoint stranger{transport::udp, "203.0.113.66", 5060, {}};
  CHECK_FALSE(f.calls.handle(caller_request("BYE", a_tag, 6), stranger, f.clock.now(), f.random));
  // From the right source but with a wrong tag: not this dialog.
  CHECK_FALSE(
      f.calls.handle(caller_request("BYE", "guessed", 6), caller_phone, f.clock.now(), f.random));
  CHECK(f.calls.active_calls() == 1);
}

TEST_CASE("SIP-6 busy and other failures reach the caller and the callee is ACKed") {
  fixture f;
  auto sent = f.start();
  auto busy = f.from_callee(respond(sent, 486, "Busy Here"));
  REQUIRE(busy.size() == 2);
  auto ack = parse(busy[0].text);
  CHECK(ack.method == "ACK");
  CHECK(ack.vias[0].branch == sent.vias[0].branch);
  CHECK(ack.cseq == sent.cseq);
  CHECK(busy[1].text.starts_with("SIP/2.0 486 Busy Here\r\n"));
  CHECK(f.media.live.empty());
  CHECK(f.calls.drain_ended()[0].second == call_end::busy);

  // The callee's own challenge is not passed on: the caller hears 480.
  fixture g;
  auto sent_g = g.start();
  auto challenged = g.from_callee(respond(sent_g, 407, "Proxy Authentication Required"));
  REQUIRE(challenged.size() == 2);
  CHECK(challenged[1].text.starts_with("SIP/2.0 480 "));
}

TEST_CASE("SIP-6 CANCEL while ringing cancels the callee and answers 487") {
  fixture f;
  auto sent = f.start();
  (void)f.from_callee(respond(sent, 180, "Ringing"));
  // CANCEL shares the INVITE's branch (RFC 3261 9.1).
  auto out = f.from_caller(caller_request("CANCEL", "", 5, "z9hG4bK-a1"));
  REQUIRE(out.size() == 3);
  CHECK(out[0].text.starts_with("SIP/2.0 200 OK\r\n"));
  auto cancel = parse(out[1].text);
  CHECK(out[1].to == callee_phone);
  CHECK(cancel.method == "CANCEL");
  CHECK(cancel.vias[0].branch == sent.vias[0].branch);
  CHECK(cancel.cseq == sent.cseq);
  CHECK(out[2].text.starts_with("SIP/2.0 487 Request Terminated\r\n"));
  CHECK(f.calls.drain_ended()[0].second == call_end::cancelled);
  // The callee's 487 is ACKed, and its late 200 (a race) gets ACK and BYE.
  auto late = f.from_callee(respond(sent, 487, "Request Terminated"));
  REQUIRE(late.size() == 1);
  CHECK(parse(late[0].text).method == "ACK");
}

TEST_CASE("SIP-6 an INVITE without a usable offer or without media ports is refused") {
  fixture f;
  auto none =
      f.calls.start_call(invite(""), caller_phone, "201", f.to_202(), f.clock.now(), f.random);
  REQUIRE(none.size() == 1);
  CHECK(none[0].text.starts_with("SIP/2.0 488 "));
  auto garbage = f.calls.start_call(invite("v=0\r\nnot sdp\r\n"), caller_phone, "201", f.to_202(),
                                    f.clock.now(), f.random);
  CHECK(garbage[0].text.starts_with("SIP/2.0 488 "));
  f.media.exhausted = true;
  auto full =
      f.calls.start_call(invite(), caller_phone, "201", f.to_202(), f.clock.now(), f.random);
  CHECK(full[0].text.starts_with("SIP/2.0 503 "));
  CHECK(f.calls.active_calls() == 0);
}

TEST_CASE("SIP-1 Strict SIPS refuses calls that did not arrive on TLS with a sips URI") {
  fixture f;
  f.calls.set_strict_sips(true);
  auto refused =
      f.calls.start_call(invite(), caller_phone, "201", f.to_202(), f.clock.now(), f.random);
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].text.starts_with("SIP/2.0 403 Forbidden\r\n"));
  CHECK(refused[0].text.find("Strict SIPS") != std::string::npos);
  CHECK(f.calls.active_calls() == 0);
}

TEST_CASE("SIP-6 retransmissions and timeouts over UDP") {
  fixture f;
  auto sent = f.start();
  // No answer from the callee: the INVITE goes again after T1, 2 T1, ...
  f.clock.advance(500ms);
  auto again = f.calls.tick(f.clock.now(), f.random);
  REQUIRE(again.size() == 1);
  CHECK(parse(again[0].text).vias[0].branch == sent.vias[0].branch);
  // The caller's retransmitted INVITE gets the last answer (100 Trying) again.
  auto repeat = f.from_caller(invite());
  REQUIRE(repeat.size() == 1);
  CHECK(repeat[0].text.starts_with("SIP/2.0 100 Trying\r\n"));
  // Still nothing after 32 s: 408 to the caller.
  f.clock.advance(32s);
  auto gave_up = f.calls.tick(f.clock.now(), f.random);
  bool timed_out = false;
  for (const auto& send : gave_up)
    timed_out |= send.text.starts_with("SIP/2.0 408 ");
  CHECK(timed_out);
  CHECK(f.calls.drain_ended()[0].second == call_end::timeout);
}

TEST_CASE("SIP-6 a call rings at most the ring timeout") {
  fixture f;
  auto sent = f.start();
  (void)f.from_callee(respond(sent, 180, "Ringing"));
  f.clock.advance(121s);
  auto out = f.calls.tick(f.clock.now(), f.random);
  bool cancelled = false, unavailable = false;
  for (const auto& send : out) {
    cancelled |= send.text.starts_with("CANCEL ");
    unavailable |= send.text.starts_with("SIP/2.0 480 ");
  }
  CHECK(cancelled);
  CHECK(unavailable);
  CHECK(f.calls.drain_ended()[0].second == call_end::no_answer);
}

TEST_CASE("SIP-6 a callee on another node is reached over the line") {
  fixture f;
  auto out = f.calls.start_call(invite(), caller_phone, "201", call_target{"203", {}, "exp1"},
                                f.clock.now(), f.random);
  REQUIRE(out.size() == 2);
  CHECK(out[1].to.kind == transport::line);
  CHECK(out[1].to.node == "exp1");
  auto sent = parse(out[1].text);
  CHECK(sent.request_uri.user == "203");
  // Nothing is retransmitted over a line: it is a reliable stream.
  f.clock.advance(1s);
  CHECK(f.calls.tick(f.clock.now(), f.random).empty());
  CHECK(f.calls.calls()[0].callee_leg == "line:exp1");
}

TEST_CASE("MED-3 a phone behind NAT gets its media latched at its signalling address") {
  fixture f;
  const sip_endpoint natted{transport::udp, "203.0.113.7", 40123, {}};
  auto out = f.calls.start_call(invite(offer_sdp("192.168.1.20", 4000)), natted, "201", f.to_202(),
                                f.clock.now(), f.random);
  REQUIRE(out.size() == 2);
  CHECK(f.media.peers.at({1, true}) == "203.0.113.7:4000");
  // A public SDP address is taken as written.
  fixture g;
  (void)g.start();
  CHECK(g.media.peers.at({1, true}) == "192.0.2.10:4000");
}

TEST_CASE("SIP-6 a loop is stopped by Max-Forwards") {
  fixture f;
  auto looped = invite();
  looped.max_forwards = 0;
  auto out = f.calls.start_call(looped, caller_phone, "201", f.to_202(), f.clock.now(), f.random);
  REQUIRE(out.size() == 1);
  CHECK(out[0].text.starts_with("SIP/2.0 483 "));
}

TEST_CASE("SIP-6 the dial plan routes internal extensions and refuses the rest") {
  telephony_directory_data directory;
  directory.extensions.emplace("201", extension_record{"201", {}, false, true});
  directory.extensions.emplace("202", extension_record{"202", {}, false, true});
  auto internal = route_dialled(directory, "201", "202");
  CHECK(internal.outcome == dial_outcome::extension);
  CHECK(internal.extension == "202");
  CHECK(route_dialled(directory, "201", "7999").outcome == dial_outcome::unknown);
  CHECK(route_dialled(directory, "201", "").outcome == dial_outcome::unknown);
  CHECK(route_dialled(directory, "201", "201").outcome == dial_outcome::barred);
}

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

TEST_CASE("TF-9 a carrier's 407 is answered once with the trunk's credentials") {
  fixture f;
  const sip_endpoint carrier{transport::udp, "192.0.2.50", 5060, {}};
  call_target target;
  target.extension = "12125551234";
  target.trunk = trunk_leg{"carrier",    carrier,       "sip:12125551234@carrier.test:5060",
                           "2125550100", "ward-site-1", "carrier-secret-1"};
  auto started = f.calls.start_call(invite(), caller_phone, "201", target, f.clock.now(), f.random);
  REQUIRE(started.size() == 2);
  CHECK(started[1].to == carrier);
  const auto first = parse(started[1].text);
  CHECK(first.cseq == 1U);
  CHECK(first.from.uri.user == "2125550100");

  auto challenge_text = respond(first, 407, "Proxy Authentication Required");
  challenge_text.proxy_authenticates = {
      "Digest realm=\"carrier.test\", nonce=\"n-1\", qop=\"auth\", algorithm=MD5"};
  auto out = f.calls.handle(challenge_text, carrier, f.clock.now(), f.random);
  REQUIRE(out.has_value());
  REQUIRE(out->size() == 2); // the ACK of the 407, then the INVITE again
  CHECK(out->at(0).text.starts_with("ACK "));
  const auto again = parse(out->at(1).text);
  CHECK(again.method == "INVITE");
  CHECK(again.cseq == 2U);
  CHECK(again.call_id == first.call_id);
  CHECK(again.from.tag == first.from.tag);
  CHECK(again.vias[0].branch != first.vias[0].branch);
  REQUIRE(again.proxy_authorizations.size() == 1);
  auto credentials = parse_authorization(again.proxy_authorizations[0]);
  REQUIRE(credentials.has_value());
  CHECK(credentials->username == "ward-site-1");
  CHECK(verify_response(
      *credentials, "INVITE",
      make_digest_secrets("ward-site-1", "carrier.test", "carrier-secret-1").ha1_md5));
  CHECK(out->at(1).text.find("carrier-secret-1") == std::string::npos);

  // A second challenge means the credentials are wrong: the caller gets 480, once.
  auto refused = respond(again, 407, "Proxy Authentication Required");
  refused.proxy_authenticates = challenge_text.proxy_authenticates;
  auto final = f.calls.handle(refused, carrier, f.clock.now(), f.random);
  REQUIRE(final.has_value());
  REQUIRE(final->size() == 2);
  CHECK(final->at(1).to == caller_phone);
  CHECK(final->at(1).text.starts_with("SIP/2.0 480 "));
  CHECK(f.calls.active_calls() == 0);
}
