// Fuzz target for the SIP and SDP paths a network peer reaches: stream framing (CRLF
// keep-alives and Content-Length), the first-line check, the SIP parser, response building,
// Authorization parsing, the registrar's digest path, the SDP parser and relay rewrite, and
// the SDP a=crypto (SDES) parser. Built standalone (-DWARD_FUZZ_STANDALONE: a bounded,
// seeded mutation loop over the corpus below) or for libFuzzer (-DWARD_LIBFUZZER).

#include "media/sdes.hpp"
#include "telephony/directory.hpp"
#include "telephony/registrar.hpp"
#include "telephony/sdp.hpp"
#include "telephony/sip_digest.hpp"
#include "telephony/sip_framing.hpp"
#include "telephony/sip_message.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#if defined(WARD_LIBFUZZER) && defined(WARD_FUZZ_STANDALONE)
#error "build either for libFuzzer or standalone, not both"
#endif

namespace {

using namespace ward;

const std::string realm = "ward";

/// One extension with a phone password, so digest answers reach the HA1 comparison.
const telephony::telephony_directory_data& directory() {
  static const auto data = [] {
    telephony::telephony_directory_data d;
    telephony::extension_record extension;
    extension.number = "201";
    extension.phone_password_digest = telephony::make_digest_secrets("201", realm, "82917364");
    extension.has_phone_password = true;
    d.extensions.emplace("201", extension);
    return d;
  }();
  return data;
}

random_source zero_random() {
  return [](std::span<std::byte> out) { std::memset(out.data(), 0, out.size()); };
}

telephony::registrar& the_registrar() {
  static auto instance = *telephony::registrar::create(
      telephony::nonce_authority(std::array<std::byte, 32>{}, realm, std::chrono::seconds(300)));
  return instance;
}

/// Parses `body` as SDP and, when it parses, anchors it on a relay (IPv4 or IPv6 by the
/// body's length). Whatever the rewrite renders must parse again with the relay's address:
/// the node would otherwise send an offer it could not read itself.
void exercise_sdp(std::string_view body) {
  auto session = telephony::parse_sdp(body);
  if (!session)
    return;
  telephony::sdp_rewrite rewrite{.address = body.size() % 2 == 0 ? "192.0.2.1" : "2001:db8::1",
                                 .session_id = "42",
                                 .version = 7};
  for (std::size_t i = 0; i < session->media.size(); ++i)
    rewrite.ports.push_back(static_cast<std::uint16_t>(40000 + 2 * i));
  auto rewritten = telephony::rewrite_sdp(body, *session, rewrite);
  if (!rewritten)
    return;
  auto again = telephony::parse_sdp(*rewritten);
  if (!again || again->media.size() != session->media.size() ||
      again->session_connection != rewrite.address)
    std::abort();
}

/// Frames `bytes` as a TCP reader does: every framed message lies inside the buffer, and
/// the framing either stops or moves on.
void exercise_framing(std::string_view bytes) {
  while (!bytes.empty()) {
    auto skip = telephony::keep_alive_prefix(bytes);
    if (skip > bytes.size())
      std::abort();
    bytes.remove_prefix(skip);
    auto length = telephony::framed_length(bytes);
    if (!length || *length == 0)
      return;
    if (*length > bytes.size())
      std::abort();
    bytes.remove_prefix(*length);
  }
}

void exercise(std::string_view bytes) {
  exercise_framing(bytes);
  (void)telephony::first_line_method(bytes);
  auto message = telephony::parse_sip_message(bytes);
  if (message) {
    for (const auto& value : message->authorizations)
      (void)telephony::parse_authorization(value);
    // A carrier's challenges, as a trunk call answers them (SPEC TF-9).
    for (const auto* values : {&message->www_authenticates, &message->proxy_authenticates})
      for (const auto& value : *values)
        if (auto challenge = telephony::parse_challenge(value))
          (void)telephony::answer_challenge(*challenge, "u", "p", "INVITE", "sip:x@y", "c");
    if (message->is_request) {
      (void)telephony::build_response(*message, 200, "OK", {{"Server", "fuzz"}}, "tag", "127.0.0.1",
                                      5060);
      if (message->method == "REGISTER")
        (void)the_registrar().handle_register(
            *message, "127.0.0.1:5060", telephony::transport::udp, directory(),
            std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000)),
            zero_random());
    }
    // SDP bodies: the SDP parser and rewrite, and every a=crypto line through the SDES parser.
    exercise_sdp(message->body);
    std::string_view body = message->body;
    for (std::size_t at = 0; at < body.size();) {
      auto end = body.find('\n', at);
      auto line = body.substr(at, end == std::string_view::npos ? body.npos : end - at);
      if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
      if (line.starts_with("a=crypto:"))
        (void)media::parse_crypto(line);
      if (end == std::string_view::npos)
        break;
      at = end + 1;
    }
  }
  (void)telephony::parse_authorization(bytes);
  (void)telephony::parse_challenge(bytes);
  (void)media::parse_crypto(bytes);
  exercise_sdp(bytes);
}

std::vector<std::string> make_corpus() {
  std::string nonce =
      telephony::nonce_authority(std::array<std::byte, 32>{}, realm, std::chrono::seconds(300))
          .issue(std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000)),
                 zero_random());
  return {
      "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.2:5070;branch=z9hG4bK1;rport\r\n"
      "Max-Forwards: 70\r\nFrom: <sip:201@127.0.0.1>;tag=1\r\nTo: <sip:201@127.0.0.1>\r\n"
      "Call-ID: a@b\r\nCSeq: 1 REGISTER\r\nContact: <sip:201@10.0.0.2:5070>;expires=60\r\n"
      "Content-Length: 0\r\n\r\n",
      "REGISTER sip:127.0.0.1 SIP/2.0\r\nv: SIP/2.0/TCP 10.0.0.2;branch=z9hG4bK2\r\n"
      "f: <sip:201@127.0.0.1>;tag=2\r\nt: <sip:201@127.0.0.1>\r\ni: c@d\r\nCSeq: 2 REGISTER\r\n"
      "m: *\r\nExpires: 0\r\nAuthorization: Digest username=\"201\",realm=\"ward\",nonce=\"" +
          nonce +
          "\",uri=\"sip:127.0.0.1\",response=\"0123456789abcdef0123456789abcdef\",algorithm=MD5,"
          "qop=auth,nc=00000001,cnonce=\"x\"\r\nl: 0\r\n\r\n",
      "INVITE sip:202@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.2:5070;branch=z9hG4bK3\r\n"
      "Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK4;received=10.0.0.9\r\nMax-Forwards: 70\r\n"
      "From: \"Alice\" <sip:201@127.0.0.1>;tag=3\r\nTo: <sip:202@127.0.0.1>\r\nCall-ID: e@f\r\n"
      "CSeq: 1 INVITE\r\nContact: <sip:201@10.0.0.2:5070>\r\nContent-Type: application/sdp\r\n"
      "Content-Length: 196\r\n\r\nv=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\n"
      "t=0 0\r\nm=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 "
      "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzcyAoZ|2^20|1:4\r\n",
      "SIP/2.0 407 Proxy Authentication Required\r\nVia: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK9\r\n"
      "From: <sip:a@b>;tag=9\r\nTo: <sip:c@d>;tag=10\r\nCall-ID: k@l\r\nCSeq: 1 INVITE\r\n"
      "Proxy-Authenticate: Digest realm=\"carrier.test\", nonce=\"n1\", qop=\"auth\", "
      "algorithm=MD5\r\nContent-Length: 0\r\n\r\n",
      "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK5\r\nFrom: "
      "<sip:a@b>;tag=5\r\n"
      "To: <sip:c@d>;tag=6\r\nCall-ID: g@h\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
      "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP [::1]:5060;branch=z9hG4bK6\r\n"
      "From: <sip:probe@127.0.0.1>;tag=7\r\nTo: <sip:127.0.0.1>\r\nCall-ID: i@j\r\n"
      "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
      "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj|2^31",
      // SDP on its own: a baresip-style offer with LF line ends and session-level c=, and a
      // desk phone's SRTP offer over IPv6 with media-level c=, a=rtcp and a rejected stream.
      "v=0\no=- 3906478931 2372843012 IN IP4 192.168.1.34\ns=-\nc=IN IP4 192.168.1.34\nt=0 0\n"
      "a=tool:baresip 3.10.1\nm=audio 10214 RTP/AVP 96 9 0 8 101\nb=AS:101\n"
      "a=rtpmap:96 opus/48000/2\na=fmtp:96 stereo=1;sprop-stereo=1\na=rtpmap:9 G722/8000\n"
      "a=rtpmap:101 telephone-event/8000\na=fmtp:101 0-15\na=sendrecv\na=ptime:20\n",
      "v=0\r\no=- 20518 0 IN IP6 2001:db8::7\r\ns=SDP data\r\nb=AS:84\r\nt=0 0\r\n"
      "m=audio 11780/1 RTP/SAVP 8 0 101\r\nc=IN IP6 2001:db8::7\r\n"
      "a=rtcp:11781 IN IP6 2001:db8::7\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 "
      "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzcyAoc2Vu|2^31\r\n"
      "a=rtpmap:101 telephone-event/8000\r\na=sendonly\r\nm=video 0 RTP/SAVP 96\r\n"
      "a=inactive\r\n",
  };
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  exercise(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}

#ifdef WARD_FUZZ_STANDALONE
#include "tests/fuzz/standalone_driver.hpp"
#endif
