#include "telephony/sip_framing.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace ward::telephony;

namespace {

const std::string options_request = "OPTIONS sip:ward.test SIP/2.0\r\n"
                                    "Via: SIP/2.0/TCP 192.0.2.10:5062;branch=z9hG4bK-f1\r\n"
                                    "Call-ID: f1@192.0.2.10\r\nCSeq: 1 OPTIONS\r\n"
                                    "Content-Length: 0\r\n\r\n";

std::string with_body(std::string_view length_header, std::string_view body) {
  return "MESSAGE sip:201@ward.test SIP/2.0\r\nCall-ID: f2@192.0.2.10\r\n" +
         std::string(length_header) + "\r\n\r\n" + std::string(body);
}

} // namespace

TEST_CASE("framed_length: a whole message without a body is framed at the blank line") {
  CHECK(framed_length(options_request) == options_request.size());
}

TEST_CASE("framed_length: the next message's bytes are left for the next call") {
  auto two = options_request + options_request;
  CHECK(framed_length(two) == options_request.size());
}

TEST_CASE("framed_length: Content-Length frames the body, in any case and in compact form") {
  for (auto header : {"Content-Length: 5", "content-length:5", "CONTENT-LENGTH \t: 5", "l: 5"}) {
    CAPTURE(header);
    auto text = with_body(header, "hello");
    CHECK(framed_length(text) == text.size());
    CHECK(framed_length(text + "MESSAGE") == text.size());
  }
}

TEST_CASE("framed_length: 0 while the headers or the body are incomplete") {
  CHECK(framed_length("") == 0u);
  CHECK(framed_length(options_request.substr(0, options_request.size() - 2)) == 0u);
  auto text = with_body("Content-Length: 5", "hel");
  CHECK(framed_length(text) == 0u);
}

TEST_CASE("framed_length: broken framing is refused") {
  SUBCASE("no Content-Length") {
    CHECK_FALSE(framed_length("OPTIONS sip:ward.test SIP/2.0\r\nCall-ID: x\r\n\r\n").has_value());
  }
  SUBCASE("a Content-Length that is not a number") {
    CHECK_FALSE(framed_length(with_body("Content-Length: five", "hello")).has_value());
  }
  SUBCASE("a body that would exceed the largest message") {
    CHECK_FALSE(framed_length(with_body("Content-Length: 65536", "")).has_value());
  }
  SUBCASE("headers that never end within the largest message") {
    std::string endless = "OPTIONS sip:ward.test SIP/2.0\r\n";
    endless.append(max_sip_message, 'a');
    CHECK_FALSE(framed_length(endless).has_value());
  }
}

TEST_CASE("SIP-4 framed_length: a Content-Length that would wrap the frame's end is refused") {
  // 2^64 - 10: added to the header length it would wrap to a frame inside the headers.
  CHECK_FALSE(framed_length(with_body("Content-Length: 18446744073709551606", "")).has_value());
  CHECK_FALSE(framed_length(with_body("l: 18446744073709551615", "x")).has_value());
}

TEST_CASE("framed_length: headers of exactly the largest message size still wait for the end") {
  std::string waiting(max_sip_message, 'a');
  CHECK(framed_length(waiting) == 0u);
}

TEST_CASE("keep_alive_prefix: CRLF keep-alives before a message are skipped, nothing else") {
  CHECK(keep_alive_prefix("") == 0u);
  CHECK(keep_alive_prefix("\r\n\r\n") == 4u);
  CHECK(keep_alive_prefix("\r\n\r\nOPTIONS") == 4u);
  CHECK(keep_alive_prefix("\n\rOPTIONS") == 2u);
  CHECK(keep_alive_prefix("OPTIONS\r\n") == 0u);
}
