#pragma once
// What the B2BUA's unit tests share (b2bua_test.cpp: signalling and trunks,
// b2bua_media_test.cpp: media): a fake media anchor, messages as the phones send them, and
// a B2BUA with its clock and randomness.

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

namespace ward::telephony::b2bua_testing {

using namespace std::chrono_literals;

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

inline const sip_endpoint caller_phone{transport::udp, "192.0.2.10", 5062, {}};
inline const sip_endpoint callee_phone{transport::udp, "192.0.2.20", 5064, {}};

inline std::string offer_sdp(std::string_view address, int port) {
  return "v=0\r\no=phone 1 1 IN IP4 " + std::string(address) + "\r\ns=-\r\nc=IN IP4 " +
         std::string(address) + "\r\nt=0 0\r\nm=audio " + std::to_string(port) +
         " RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\n";
}

inline sip_message parse(const std::string& text) {
  auto parsed = parse_sip_message(text);
  if (!parsed)
    FAIL("test message refused: " << parsed.error().detail << "\n" << text);
  return *parsed;
}

inline sip_message invite(std::string body = offer_sdp("192.0.2.10", 4000)) {
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
inline sip_message respond(const sip_message& sent, int code, std::string_view reason,
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
inline sip_message caller_request(std::string_view method, std::string_view to_tag,
                                  std::uint32_t cseq, std::string_view branch = "z9hG4bK-a2") {
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

inline std::string to_tag_of(const std::string& response) {
  auto parsed = parse(response);
  return parsed.to.tag;
}

} // namespace ward::telephony::b2bua_testing
