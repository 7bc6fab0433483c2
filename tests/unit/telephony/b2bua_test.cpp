#include "tests/unit/telephony/b2bua_fixture.hpp"

using namespace ward;
using namespace ward::telephony;
using namespace ward::telephony::b2bua_testing;
using namespace std::chrono_literals;

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
