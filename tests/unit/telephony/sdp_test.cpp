#include "telephony/sdp.hpp"

#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

using namespace ward::telephony;

namespace {

using ward::test::crlf;

sdp_session parse_ok(std::string_view body) {
  auto parsed = parse_sdp(body);
  if (!parsed)
    FAIL("refused: " << to_string(parsed.error().code) << " " << parsed.error().detail);
  return *parsed;
}

sdp_errc error_of(std::string_view body) {
  auto parsed = parse_sdp(body);
  REQUIRE_FALSE(parsed.has_value());
  return parsed.error().code;
}

std::string rewrite_ok(std::string_view body, const sdp_rewrite& rewrite) {
  auto parsed = parse_ok(body);
  auto rewritten = rewrite_sdp(body, parsed, rewrite);
  if (!rewritten)
    FAIL("rewrite refused: " << to_string(rewritten.error().code) << " "
                             << rewritten.error().detail);
  return *rewritten;
}

sdp_errc rewrite_error_of(std::string_view body, const sdp_rewrite& rewrite) {
  auto rewritten = rewrite_sdp(body, parse_ok(body), rewrite);
  REQUIRE_FALSE(rewritten.has_value());
  return rewritten.error().code;
}

sdp_rewrite relay(std::vector<std::uint16_t> ports, std::string address = "198.51.100.5") {
  return {.address = std::move(address), .ports = std::move(ports), .session_id = "7001"};
}

/// sipp's built-in uac scenario, as it sends it (CRLF).
const std::string sipp_offer = crlf(R"(v=0
o=user1 53655765 2353687637 IN IP4 192.0.2.10
s=-
c=IN IP4 192.0.2.10
t=0 0
m=audio 6000 RTP/AVP 0
a=rtpmap:0 PCMU/8000
)");

/// baresip 3.x with opus, G.722, G.711 and telephone events; baresip ends lines with CRLF,
/// this copy uses LF to cover the other line end.
const std::string baresip_offer = R"(v=0
o=- 3906478931 2372843012 IN IP4 192.168.1.34
s=-
c=IN IP4 192.168.1.34
t=0 0
a=tool:baresip 3.10.1
m=audio 10214 RTP/AVP 96 9 0 8 101
b=AS:101
a=rtpmap:96 opus/48000/2
a=fmtp:96 stereo=1;sprop-stereo=1;maxaveragebitrate=64000
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
a=label:1
a=rtcp-rsize
a=ssrc:3172653472 cname:4c5a9b1e-7d36-4b6f-8e1c-0a9d3b4e5f60
a=ptime:20
)";

/// A desk phone's SRTP offer: c= only at media level, b= before t=, a=rtcp (RFC 3605), two
/// a=crypto lines, and video it cannot do offered with port 0.
const std::string desk_phone_srtp_offer = crlf(R"(v=0
o=- 20518 0 IN IP4 203.0.113.7
s=SDP data
b=AS:84
t=0 0
m=audio 11780 RTP/SAVP 8 0 18 101
c=IN IP4 203.0.113.7
b=TIAS:64000
a=rtcp:11781 IN IP4 203.0.113.7
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzcyAoc2Vu|2^31
a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^31
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:18 G729/8000
a=fmtp:18 annexb=no
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:20
a=sendrecv
m=video 0 RTP/SAVP 96
a=rtpmap:96 H264/90000
)");

/// Linphone over IPv6: session-level c=, a=rtcp with a port only, RTCP feedback attributes.
const std::string linphone_ipv6_offer = crlf(R"(v=0
o=bob 1973 678 IN IP6 2001:db8::20
s=Talk
c=IN IP6 2001:db8::20
t=0 0
a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics
m=audio 7078 RTP/AVP 96 0 8 101
a=rtpmap:96 opus/48000/2
a=fmtp:96 useinbandfec=1
a=rtpmap:101 telephone-event/8000
a=rtcp:7079
a=rtcp-fb:* trr-int 1000
)");

/// A valid session part that tests append media sections to.
std::string with_session(std::string_view media) {
  return "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n" + std::string(media);
}

} // namespace

TEST_CASE("SIP-6 SDP parses a sipp audio offer") {
  auto session = parse_ok(sipp_offer);
  CHECK(session.origin_user == "user1");
  CHECK(session.session_id == "53655765");
  CHECK(session.origin_version == 2353687637u);
  CHECK(session.origin_address == "192.0.2.10");
  CHECK(session.session_connection == "192.0.2.10");
  REQUIRE(session.media.size() == 1);
  const auto& audio = session.media[0];
  CHECK(audio.type == "audio");
  CHECK(audio.port == 6000);
  CHECK(audio.port_count == 1);
  CHECK(audio.proto == "RTP/AVP");
  CHECK(audio.formats == std::vector<std::string>{"0"});
  CHECK(audio.connection_address == "192.0.2.10");
  CHECK(audio.direction == "sendrecv");
  CHECK(audio.attributes == std::vector<std::string>{"rtpmap:0 PCMU/8000"});
}

TEST_CASE("SIP-6 SDP parses a baresip offer with LF line ends") {
  auto session = parse_ok(baresip_offer);
  CHECK(session.origin_user == "-");
  CHECK(session.session_attributes == std::vector<std::string>{"tool:baresip 3.10.1"});
  REQUIRE(session.media.size() == 1);
  const auto& audio = session.media[0];
  CHECK(audio.port == 10214);
  CHECK(audio.formats == std::vector<std::string>{"96", "9", "0", "8", "101"});
  CHECK(audio.direction == "sendrecv");
  REQUIRE(audio.attributes.size() == 12);
  CHECK(audio.attributes.front() == "rtpmap:96 opus/48000/2");
  CHECK(audio.attributes[8] == "label:1");
  CHECK(audio.attributes.back() == "ptime:20");
  // The same body with CRLF parses to the same values.
  auto again = parse_ok(crlf(baresip_offer));
  CHECK(again.media[0].attributes == audio.attributes);
}

TEST_CASE("SIP-6 SDP offer rewritten to the relay keeps codecs") {
  CHECK(rewrite_ok(sipp_offer, relay({30000})) == crlf(R"(v=0
o=ward 7001 1 IN IP4 198.51.100.5
s=-
c=IN IP4 198.51.100.5
t=0 0
m=audio 30000 RTP/AVP 0
a=rtpmap:0 PCMU/8000
)"));

  auto rewrite = relay({30010});
  rewrite.version = 3;
  auto rewritten = rewrite_ok(baresip_offer, rewrite);
  CHECK(rewritten == crlf(R"(v=0
o=ward 7001 3 IN IP4 198.51.100.5
s=-
c=IN IP4 198.51.100.5
t=0 0
a=tool:baresip 3.10.1
m=audio 30010 RTP/AVP 96 9 0 8 101
b=AS:101
a=rtpmap:96 opus/48000/2
a=fmtp:96 stereo=1;sprop-stereo=1;maxaveragebitrate=64000
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
a=label:1
a=rtcp-rsize
a=ssrc:3172653472 cname:4c5a9b1e-7d36-4b6f-8e1c-0a9d3b4e5f60
a=ptime:20
)"));
  // What the relay sends, it can read back.
  auto reparsed = parse_ok(rewritten);
  CHECK(reparsed.origin_version == 3);
  CHECK(reparsed.media[0].connection_address == "198.51.100.5");
  CHECK(reparsed.media[0].formats == parse_ok(baresip_offer).media[0].formats);
}

TEST_CASE("SIP-6 SDP a=crypto kept verbatim and a=rtcp and media c= dropped") {
  auto session = parse_ok(desk_phone_srtp_offer);
  CHECK(session.session_connection.empty());
  REQUIRE(session.media.size() == 2);
  CHECK(session.media[0].connection_address == "203.0.113.7");
  CHECK(session.media[0].proto == "RTP/SAVP");
  CHECK(session.media[0].attributes[0] == "rtcp:11781 IN IP4 203.0.113.7");
  CHECK(session.media[0].attributes[1] ==
        "crypto:1 AES_CM_128_HMAC_SHA1_80 "
        "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzcyAoc2Vu|2^31");
  // A rejected stream needs no address.
  CHECK(session.media[1].port == 0);
  CHECK(session.media[1].connection_address.empty());

  auto rewrite = relay({30002, 30004});
  rewrite.version = 2;
  // The one c= goes before b=, where RFC 4566 orders it; the video stays rejected although
  // the caller had a port for it.
  CHECK(rewrite_ok(desk_phone_srtp_offer, rewrite) == crlf(R"(v=0
o=ward 7001 2 IN IP4 198.51.100.5
s=SDP data
c=IN IP4 198.51.100.5
b=AS:84
t=0 0
m=audio 30002 RTP/SAVP 8 0 18 101
b=TIAS:64000
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzcyAoc2Vu|2^31
a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^31
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:18 G729/8000
a=fmtp:18 annexb=no
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:20
a=sendrecv
m=video 0 RTP/SAVP 96
a=rtpmap:96 H264/90000
)"));
}

TEST_CASE("MED-3 SDP rewrite drops rtcp-mux so RTCP stays off the relay's RTP port") {
  auto body = with_session("m=audio 4000 RTP/SAVP 0\na=rtcp-mux\na=rtcp-mux-only\n"
                           "a=rtcp-rsize\na=rtcp-fb:* nack\na=sendrecv\n");
  auto rewritten = parse_ok(rewrite_ok(body, relay({30000})));
  REQUIRE(rewritten.media.size() == 1);
  CHECK(rewritten.media[0].attributes ==
        std::vector<std::string>{"rtcp-rsize", "rtcp-fb:* nack", "sendrecv"});
}

TEST_CASE("SIP-6 SDP port 0 stream stays 0 and a relay port 0 rejects a stream") {
  auto body =
      with_session("m=audio 4000 RTP/AVP 0\nm=video 0 RTP/AVP 31\nm=audio 4002 RTP/AVP 8\n");
  auto rewritten = parse_ok(rewrite_ok(body, relay({30000, 30002, 0})));
  REQUIRE(rewritten.media.size() == 3);
  CHECK(rewritten.media[0].port == 30000);
  CHECK(rewritten.media[1].port == 0);
  CHECK(rewritten.media[2].port == 0);
}

TEST_CASE("SIP-6 SDP IPv6 addresses parse and rewrite across families") {
  auto session = parse_ok(linphone_ipv6_offer);
  CHECK(session.origin_address == "2001:db8::20");
  CHECK(session.session_connection == "2001:db8::20");
  CHECK(session.media[0].connection_address == "2001:db8::20");

  // An IPv6 peer anchored on an IPv4 relay: a=rtcp goes, a=rtcp-fb and a=rtcp-xr stay.
  CHECK(rewrite_ok(linphone_ipv6_offer, relay({30020})) == crlf(R"(v=0
o=ward 7001 1 IN IP4 198.51.100.5
s=Talk
c=IN IP4 198.51.100.5
t=0 0
a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics
m=audio 30020 RTP/AVP 96 0 8 101
a=rtpmap:96 opus/48000/2
a=fmtp:96 useinbandfec=1
a=rtpmap:101 telephone-event/8000
a=rtcp-fb:* trr-int 1000
)"));

  // And the other way round.
  CHECK(rewrite_ok(sipp_offer, relay({30022}, "2001:db8:ffff::1")) == crlf(R"(v=0
o=ward 7001 1 IN IP6 2001:db8:ffff::1
s=-
c=IN IP6 2001:db8:ffff::1
t=0 0
m=audio 30022 RTP/AVP 0
a=rtpmap:0 PCMU/8000
)"));

  CHECK(parse_ok(with_session("m=audio 4000 RTP/AVP 0\nc=IN IP6 ::ffff:192.0.2.9\n"))
            .media[0]
            .connection_address == "::ffff:192.0.2.9");
}

TEST_CASE("SIP-6 SDP media-level c= overrides the session-level one") {
  auto body = with_session("m=audio 4000 RTP/AVP 0\n"
                           "m=audio 4002 RTP/AVP 0\n"
                           "c=IN IP4 192.0.2.77\n");
  auto session = parse_ok(body);
  CHECK(session.session_connection == "192.0.2.1");
  CHECK(session.media[0].connection_address == "192.0.2.1");
  CHECK(session.media[1].connection_address == "192.0.2.77");

  auto rewritten = rewrite_ok(body, relay({30000, 30002}));
  CHECK(rewritten == crlf(R"(v=0
o=ward 7001 1 IN IP4 198.51.100.5
s=-
c=IN IP4 198.51.100.5
t=0 0
m=audio 30000 RTP/AVP 0
m=audio 30002 RTP/AVP 0
)"));
  // RFC 2543 hold (c=0.0.0.0) parses; the B2BUA sees it in connection_address.
  CHECK(parse_ok(with_session("m=audio 4000 RTP/AVP 0\nc=IN IP4 0.0.0.0\n"))
            .media[0]
            .connection_address == "0.0.0.0");
}

TEST_CASE("SIP-6 SDP direction follows the media then the session level") {
  auto session = parse_ok(with_session("a=sendonly\n"
                                       "m=audio 4000 RTP/AVP 0\n"
                                       "m=audio 4002 RTP/AVP 0\n"
                                       "a=inactive\n"));
  CHECK(session.session_attributes == std::vector<std::string>{"sendonly"});
  CHECK(session.media[0].direction == "sendonly");
  CHECK(session.media[1].direction == "inactive");
  CHECK(session.media[1].attributes == std::vector<std::string>{"inactive"});
  CHECK(parse_ok(with_session("m=audio 4000 RTP/AVP 0\na=recvonly\n")).media[0].direction ==
        "recvonly");
}

TEST_CASE("SIP-6 SDP tolerates trailing line breaks and accepts the size limit") {
  CHECK(parse_ok(sipp_offer + "\r\n\r\n").media.size() == 1);
  // No line break after the last line.
  CHECK(parse_ok("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-").media.empty());
  // Port count, 16 media and a body of exactly max_sdp_size.
  CHECK(parse_ok(with_session("m=audio 4000/2 RTP/AVP 0\n")).media[0].port_count == 2);
  std::string sixteen;
  for (int i = 0; i < 16; ++i)
    sixteen += "m=audio " + std::to_string(4000 + 2 * i) + " RTP/AVP 0\n";
  CHECK(parse_ok(with_session(sixteen)).media.size() == 16);
  auto body = with_session("m=audio 4000 RTP/AVP 0\na=x:");
  body += std::string(max_sdp_size - body.size(), 'y');
  CHECK(parse_ok(body).media[0].attributes[0].size() == max_sdp_size - body.find("x:"));
}

TEST_CASE("SIP-6 SDP refuses malformed bodies with a typed error") {
  CHECK(error_of("") == sdp_errc::empty);
  CHECK(error_of("\r\n\n") == sdp_errc::empty);
  CHECK(error_of(with_session("a=") + std::string(max_sdp_size, 'x')) == sdp_errc::too_large);

  CHECK(error_of("garbage") == sdp_errc::bad_line);
  CHECK(error_of(with_session("X=1\n")) == sdp_errc::bad_line);
  CHECK(error_of(with_session("\nm=audio 4000 RTP/AVP 0\n")) == sdp_errc::bad_line);
  CHECK(error_of(with_session("a=x\ry\n")) == sdp_errc::bad_line);
  CHECK(error_of(with_session(std::string("a=x\0y\n", 6))) == sdp_errc::bad_line);
  CHECK(error_of(with_session("y=0100000001\n")) == sdp_errc::bad_line);
  CHECK(error_of(with_session("m=audio 4000 RTP/AVP 0\nt=0 0\n")) == sdp_errc::bad_line);

  CHECK(error_of("v=1\no=- 1 1 IN IP4 192.0.2.1\n") == sdp_errc::bad_version);
  CHECK(error_of("v=0 \no=- 1 1 IN IP4 192.0.2.1\n") == sdp_errc::bad_version);
  CHECK(error_of("o=- 1 1 IN IP4 192.0.2.1\nv=0\n") == sdp_errc::bad_version);
  CHECK(error_of(with_session("v=0\n")) == sdp_errc::bad_version);

  CHECK(error_of("v=0\n") == sdp_errc::bad_origin);
  CHECK(error_of("v=0\ns=-\no=- 1 1 IN IP4 192.0.2.1\n") == sdp_errc::bad_origin);
  CHECK(error_of("v=0\no=- 1 1 IN IP4\n") == sdp_errc::bad_origin);
  CHECK(error_of("v=0\no=- x1 1 IN IP4 192.0.2.1\n") == sdp_errc::bad_origin);
  CHECK(error_of("v=0\no=- 1 18446744073709551616 IN IP4 192.0.2.1\n") == sdp_errc::bad_origin);
  CHECK(error_of("v=0\no=- 1 1 IN IP5 192.0.2.1\n") == sdp_errc::bad_origin);
  CHECK(error_of("v=0\no=- 1 1 IN IP4 192.0.2.1 extra\n") == sdp_errc::bad_origin);
  CHECK(error_of(with_session("o=- 1 1 IN IP4 192.0.2.1\n")) == sdp_errc::bad_origin);

  auto connection_error = [](std::string_view line) {
    return error_of(with_session("m=audio 4000 RTP/AVP 0\n" + std::string(line) + "\n"));
  };
  CHECK(connection_error("c=IN IP4 pbx.example.com") == sdp_errc::bad_connection);
  CHECK(connection_error("c=IN IP4 224.2.1.1/127") == sdp_errc::bad_connection);
  CHECK(connection_error("c=IN IP4 233.252.0.1") == sdp_errc::bad_connection);
  CHECK(connection_error("c=IN IP6 ff02::1") == sdp_errc::bad_connection);
  CHECK(connection_error("c=IN IP6 192.0.2.1") == sdp_errc::bad_connection);
  CHECK(connection_error("c=IN IP4 2001:db8::1") == sdp_errc::bad_connection);
  CHECK(connection_error("c=IN IP6 fe80::1%eth0") == sdp_errc::bad_connection);
  CHECK(connection_error("c=IN IP4 192.0.2.010") == sdp_errc::bad_connection);
  CHECK(connection_error("c=IN  IP4 192.0.2.1") == sdp_errc::bad_connection);
  CHECK(connection_error("c=ATM NSAP 47.0091.8100.0000.0060.3e64.fd01.0060.3e64.fd01.00") ==
        sdp_errc::bad_connection);
  CHECK(connection_error("c=IN IP4 192.0.2.1\nc=IN IP4 192.0.2.2") == sdp_errc::bad_connection);
  CHECK(error_of("v=0\no=- 1 1 IN IP4 192.0.2.1\nc=IN IP4 192.0.2.1\nc=IN IP4 192.0.2.1\n") ==
        sdp_errc::bad_connection);

  CHECK(error_of(with_session("m=audio 65536 RTP/AVP 0\n")) == sdp_errc::bad_media);
  CHECK(error_of(with_session("m=audio -1 RTP/AVP 0\n")) == sdp_errc::bad_media);
  CHECK(error_of(with_session("m=audio 4000/0 RTP/AVP 0\n")) == sdp_errc::bad_media);
  CHECK(error_of(with_session("m=audio 4000/ RTP/AVP 0\n")) == sdp_errc::bad_media);
  CHECK(error_of(with_session("m=audio 4000 RTP/AVP\n")) == sdp_errc::bad_media);
  CHECK(error_of(with_session("m=audio 4000 RTP/AVP 0 \n")) == sdp_errc::bad_media);
  CHECK(error_of(with_session("m=audio 4000  RTP/AVP 0\n")) == sdp_errc::bad_media);

  CHECK(error_of("v=0\no=- 1 1 IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 0\n") ==
        sdp_errc::no_connection);
  // Its own c= or port 0 is enough.
  CHECK(parse_ok("v=0\no=- 1 1 IN IP4 192.0.2.1\nm=audio 0 RTP/AVP 0\n").media.size() == 1);

  std::string seventeen;
  for (int i = 0; i < 17; ++i)
    seventeen += "m=audio 4000 RTP/AVP 0\n";
  CHECK(error_of(with_session(seventeen)) == sdp_errc::too_many_media);

  CHECK(error_of(with_session("m=audio 4000 RTP/AVP 0\na=sendonly\na=recvonly\n")) ==
        sdp_errc::bad_attribute);
  CHECK(error_of(with_session("a=inactive\na=inactive\n")) == sdp_errc::bad_attribute);

  auto refused = parse_sdp(with_session("m=audio 99999 RTP/AVP 0\n"));
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().detail == "line 6: port is not 0..65535");
  CHECK(to_string(sdp_errc::no_connection) == "no_connection");
}

TEST_CASE("SIP-6 SDP rewrite refuses what it cannot render") {
  CHECK(rewrite_error_of(sipp_offer, relay({})) == sdp_errc::bad_media);
  CHECK(rewrite_error_of(sipp_offer, relay({30000, 30002})) == sdp_errc::bad_media);
  CHECK(rewrite_error_of(with_session("m=audio 4000/2 RTP/AVP 0\n"), relay({30000})) ==
        sdp_errc::bad_media);
  CHECK(rewrite_error_of(sipp_offer, relay({30000}, "relay.example.com")) ==
        sdp_errc::bad_connection);
  CHECK(rewrite_error_of(sipp_offer, relay({30000}, "0.0.0.0")) == sdp_errc::bad_connection);
  CHECK(rewrite_error_of(sipp_offer, relay({30000}, "239.1.1.1")) == sdp_errc::bad_connection);
  CHECK(rewrite_error_of(sipp_offer, relay({30000}, "")) == sdp_errc::bad_connection);
  auto rewrite = relay({30000});
  rewrite.origin_user = "two words";
  CHECK(rewrite_error_of(sipp_offer, rewrite) == sdp_errc::bad_origin);
  rewrite = relay({30000});
  rewrite.session_id = "";
  CHECK(rewrite_error_of(sipp_offer, rewrite) == sdp_errc::bad_origin);
  rewrite.session_id = "12\r\nm=audio";
  CHECK(rewrite_error_of(sipp_offer, rewrite) == sdp_errc::bad_origin);

  // A body that is not the one parsed, or does not parse, is not rewritten.
  auto other = rewrite_sdp(desk_phone_srtp_offer, parse_ok(sipp_offer), relay({30000}));
  REQUIRE_FALSE(other.has_value());
  CHECK(other.error().code == sdp_errc::bad_media);
  auto broken = rewrite_sdp("v=1", parse_ok(sipp_offer), relay({30000}));
  REQUIRE_FALSE(broken.has_value());
  CHECK(broken.error().code == sdp_errc::bad_version);

  // LF to CRLF grows a body of many short lines past the limit.
  std::string many = with_session("m=audio 4000 RTP/AVP 0\n");
  while (many.size() + 4 <= max_sdp_size)
    many += "a=x\n";
  CHECK(rewrite_error_of(many, relay({30000})) == sdp_errc::too_large);
}

TEST_CASE("SIP-6 SDP parser and rewrite survive garbage and seeded mutation") {
  std::mt19937_64 engine(20260101);
  const std::vector<std::string> seeds = {sipp_offer, baresip_offer, desk_phone_srtp_offer,
                                          linphone_ipv6_offer};
  // Line letters, field separators, digits, line ends, NUL and a high byte.
  static constexpr char alphabet_chars[] = "vocmat= /:0123456789.IPN46\r\n\0\xff";
  const std::string_view alphabet(alphabet_chars, sizeof alphabet_chars - 1);
  std::size_t accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string body;
    if (round % 10 == 0) {
      body.resize(engine() % 512);
      for (auto& c : body)
        c = static_cast<char>(engine());
    } else {
      body = seeds[engine() % seeds.size()];
      for (int edits = 1 + static_cast<int>(engine() % 4); edits > 0; --edits) {
        std::size_t at = body.empty() ? 0 : engine() % body.size();
        switch (engine() % 4) {
          case 0:
            if (!body.empty())
              body[at] = alphabet[engine() % alphabet.size()];
            break;
          case 1:
            body.insert(at, 1, alphabet[engine() % alphabet.size()]);
            break;
          case 2:
            if (!body.empty())
              body.erase(at, 1 + engine() % 8);
            break;
          default:
            body.insert(at, body.substr(at, engine() % 64));
            break;
        }
      }
    }
    auto parsed = parse_sdp(body);
    if (!parsed)
      continue;
    ++accepted;
    std::vector<std::uint16_t> ports(parsed->media.size(), 40000);
    auto rewritten = rewrite_sdp(body, *parsed, relay(ports));
    if (!rewritten)
      continue;
    auto again = parse_sdp(*rewritten);
    REQUIRE(again.has_value());
    REQUIRE(again->media.size() == parsed->media.size());
    for (const auto& media : again->media)
      CHECK((media.port == 0 || media.connection_address == "198.51.100.5"));
  }
  // The mutations must leave enough valid bodies to exercise the rewrite.
  CHECK(accepted > 1000);
}
