#include "media/srtp_session.hpp"
#include "media/srtp_suites.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

using namespace ward;
using namespace ward::media;

namespace {

constexpr std::size_t rtp_header_length = 12;
constexpr std::size_t payload_length = 160;
constexpr std::size_t rtp_length = rtp_header_length + payload_length;

/// A packet buffer with room for any trailer, aligned as libsrtp2 expects.
struct packet {
  alignas(4) std::array<std::byte, 256> bytes{};
  std::size_t length = 0;
  std::span<std::byte> buffer() { return bytes; }
  std::span<const std::byte> payload(std::size_t offset, std::size_t count) const {
    return std::span(bytes).subspan(offset, count);
  }
};

/// An RTP packet (PCMU, SSRC 0x11223344) whose payload byte i is i + `fill`.
packet rtp_packet(std::uint16_t sequence, std::uint8_t fill = 0) {
  packet p;
  const std::uint8_t header[rtp_header_length] = {0x80,
                                                  0x00,
                                                  static_cast<std::uint8_t>(sequence >> 8),
                                                  static_cast<std::uint8_t>(sequence),
                                                  0x00,
                                                  0x00,
                                                  0x00,
                                                  0xa0,
                                                  0x11,
                                                  0x22,
                                                  0x33,
                                                  0x44};
  std::memcpy(p.bytes.data(), header, sizeof header);
  for (std::size_t i = 0; i < payload_length; ++i)
    p.bytes[rtp_header_length + i] = static_cast<std::byte>((i + fill) & 0xff);
  p.length = rtp_length;
  return p;
}

/// An RTCP sender report without report blocks: 28 bytes, the last 20 recognisable.
constexpr std::size_t rtcp_length = 28;
packet rtcp_packet() {
  packet p;
  const std::uint8_t header[8] = {0x80, 200, 0x00, 0x06, 0x11, 0x22, 0x33, 0x44};
  std::memcpy(p.bytes.data(), header, sizeof header);
  for (std::size_t i = 8; i < rtcp_length; ++i)
    p.bytes[i] = static_cast<std::byte>(0x40 + i);
  p.length = rtcp_length;
  return p;
}

std::array<std::byte, 30> key_from(std::uint64_t seed) {
  std::array<std::byte, 30> key{};
  test::seeded_random(seed)(key);
  return key;
}

struct session_pair {
  srtp_session sender;
  srtp_session receiver;
};

session_pair make_pair(const suite_info& suite, srtp_options options = {}, std::uint64_t seed = 1) {
  auto key = key_from(seed);
  auto sender = srtp_session::create(suite, key, options, direction::outbound);
  auto receiver = srtp_session::create(suite, key, options, direction::inbound);
  REQUIRE(sender.has_value());
  REQUIRE(receiver.has_value());
  return {std::move(*sender), std::move(*receiver)};
}

bool same(std::span<const std::byte> a, std::span<const std::byte> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace

TEST_CASE("MED-1 the suite table declares both SDES suites with their key and tag lengths") {
  auto suites = all_suites();
  REQUIRE(suites.size() == 2);
  CHECK(suites[0].name == "AES_CM_128_HMAC_SHA1_80");
  CHECK(suites[1].name == "AES_CM_128_HMAC_SHA1_32");
  for (const auto& suite : suites) {
    CHECK(suite.master_key_length == 16);
    CHECK(suite.master_salt_length == 14);
    CHECK(suite.key_and_salt_length() <= max_key_and_salt_length);
    // RFC 4568 section 6.2: SRTCP keeps the 80-bit tag for both suites.
    CHECK(suite.rtcp_tag_length == 10);
    CHECK(find_suite(suite.name) == &suite);
  }
  CHECK(suites[0].rtp_tag_length == 10);
  CHECK(suites[1].rtp_tag_length == 4);
  CHECK(find_suite("AES_256_CM_HMAC_SHA1_80") == nullptr);
  CHECK(find_suite("aes_cm_128_hmac_sha1_80") == nullptr);
  CHECK(find_suite("") == nullptr);
}

TEST_CASE("MED-1 protect then unprotect round trips RTP and RTCP for both suites") {
  for (const auto& suite : all_suites()) {
    CAPTURE(suite.name);
    auto [sender, receiver] = make_pair(suite);
    CHECK(sender.rtp_overhead() == suite.rtp_tag_length);
    CHECK(sender.rtcp_overhead() == 4 + suite.rtcp_tag_length);
    for (std::uint16_t sequence = 1; sequence <= 20; ++sequence) {
      auto original = rtp_packet(sequence);
      auto p = original;
      auto protected_length = sender.protect_rtp(p.buffer(), p.length);
      REQUIRE(protected_length.has_value());
      CHECK(*protected_length == rtp_length + suite.rtp_tag_length);
      // Encrypted: the payload no longer reads as sent; the header stays clear.
      CHECK_FALSE(same(p.payload(rtp_header_length, payload_length),
                       original.payload(rtp_header_length, payload_length)));
      CHECK(same(p.payload(0, rtp_header_length), original.payload(0, rtp_header_length)));
      auto plain_length = receiver.unprotect_rtp(p.buffer(), *protected_length);
      REQUIRE(plain_length.has_value());
      CHECK(*plain_length == rtp_length);
      CHECK(same(p.payload(0, rtp_length), original.payload(0, rtp_length)));
    }
    auto original = rtcp_packet();
    auto p = original;
    auto protected_length = sender.protect_rtcp(p.buffer(), p.length);
    REQUIRE(protected_length.has_value());
    CHECK(*protected_length == rtcp_length + 4 + suite.rtcp_tag_length);
    auto plain_length = receiver.unprotect_rtcp(p.buffer(), *protected_length);
    REQUIRE(plain_length.has_value());
    CHECK(*plain_length == rtcp_length);
    CHECK(same(p.payload(0, rtcp_length), original.payload(0, rtcp_length)));
    CHECK(sender.counters().protected_packets == 21);
    CHECK(receiver.counters().unprotected_packets == 21);
    CHECK(receiver.counters().auth_failed == 0);
    CHECK(receiver.counters().replayed == 0);
  }
}

TEST_CASE("MED-5 a flipped bit fails authentication and is dropped and counted") {
  for (const auto& suite : all_suites()) {
    CAPTURE(suite.name);
    auto [sender, receiver] = make_pair(suite);
    auto p = rtp_packet(7);
    auto length = sender.protect_rtp(p.buffer(), p.length);
    REQUIRE(length.has_value());
    for (std::size_t bit :
         {std::size_t{3}, std::size_t{8 * 40 + 1}, 8 * (*length - 1)}) { // header, payload, tag
      auto tampered = p;
      tampered.bytes[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
      auto result = receiver.unprotect_rtp(tampered.buffer(), *length);
      REQUIRE_FALSE(result.has_value());
      CHECK(result.error().code == media_errc::auth_failed);
    }
    CHECK(receiver.counters().auth_failed == 3);
    CHECK(receiver.counters().unprotected_packets == 0);
    // The genuine packet still passes: failures do not poison the replay window.
    CHECK(receiver.unprotect_rtp(p.buffer(), *length).has_value());

    auto rtcp = rtcp_packet();
    auto rtcp_length_protected = sender.protect_rtcp(rtcp.buffer(), rtcp.length);
    REQUIRE(rtcp_length_protected.has_value());
    rtcp.bytes[10] ^= std::byte{0x01};
    auto result = receiver.unprotect_rtcp(rtcp.buffer(), *rtcp_length_protected);
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().code == media_errc::auth_failed);
    CHECK(receiver.counters().auth_failed == 4);
  }
}

TEST_CASE("MED-5 a packet keyed differently fails authentication") {
  auto sender = srtp_session::create(all_suites()[0], key_from(1), {}, direction::outbound);
  auto receiver = srtp_session::create(all_suites()[0], key_from(2), {}, direction::inbound);
  REQUIRE(sender.has_value());
  REQUIRE(receiver.has_value());
  auto p = rtp_packet(1);
  auto length = sender->protect_rtp(p.buffer(), p.length);
  REQUIRE(length.has_value());
  auto result = receiver->unprotect_rtp(p.buffer(), *length);
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code == media_errc::auth_failed);
  CHECK(receiver->counters().auth_failed == 1);
}

TEST_CASE("MED-5 a replayed packet is refused and counted") {
  for (const auto& suite : all_suites()) {
    CAPTURE(suite.name);
    auto [sender, receiver] = make_pair(suite);
    auto p = rtp_packet(100);
    auto length = sender.protect_rtp(p.buffer(), p.length);
    REQUIRE(length.has_value());
    auto copy = p;
    REQUIRE(receiver.unprotect_rtp(p.buffer(), *length).has_value());
    auto replayed = receiver.unprotect_rtp(copy.buffer(), *length);
    REQUIRE_FALSE(replayed.has_value());
    CHECK(replayed.error().code == media_errc::replay);
    CHECK(receiver.counters().replayed == 1);

    auto rtcp = rtcp_packet();
    auto rtcp_protected = sender.protect_rtcp(rtcp.buffer(), rtcp.length);
    REQUIRE(rtcp_protected.has_value());
    auto rtcp_copy = rtcp;
    REQUIRE(receiver.unprotect_rtcp(rtcp.buffer(), *rtcp_protected).has_value());
    auto rtcp_replayed = receiver.unprotect_rtcp(rtcp_copy.buffer(), *rtcp_protected);
    REQUIRE_FALSE(rtcp_replayed.has_value());
    CHECK(rtcp_replayed.error().code == media_errc::replay);
    CHECK(receiver.counters().replayed == 2);
  }
}

TEST_CASE("MED-1 RTP encryption off leaves the payload readable but authenticated") {
  for (const auto& suite : all_suites()) {
    CAPTURE(suite.name);
    auto [sender, receiver] = make_pair(suite, srtp_options{.rtp_encryption = false});
    auto original = rtp_packet(9);
    auto p = original;
    auto length = sender.protect_rtp(p.buffer(), p.length);
    REQUIRE(length.has_value());
    CHECK(*length == rtp_length + suite.rtp_tag_length);
    CHECK(same(p.payload(0, rtp_length), original.payload(0, rtp_length)));
    auto tampered = p;
    tampered.bytes[rtp_header_length + 5] ^= std::byte{0x80};
    auto result = receiver.unprotect_rtp(tampered.buffer(), *length);
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().code == media_errc::auth_failed);
    CHECK(receiver.unprotect_rtp(p.buffer(), *length) == rtp_length);
  }
}

TEST_CASE("MED-1 RTP authentication off adds no tag and still encrypts") {
  auto [sender, receiver] = make_pair(all_suites()[0], srtp_options{.rtp_authentication = false});
  CHECK(sender.rtp_overhead() == 0);
  CHECK(sender.rtcp_overhead() == 14); // RTCP authentication has no switch
  auto original = rtp_packet(3);
  auto p = original;
  auto length = sender.protect_rtp(p.buffer(), p.length);
  REQUIRE(length.has_value());
  CHECK(*length == rtp_length);
  CHECK_FALSE(same(p.payload(rtp_header_length, payload_length),
                   original.payload(rtp_header_length, payload_length)));
  REQUIRE(receiver.unprotect_rtp(p.buffer(), *length) == rtp_length);
  CHECK(same(p.payload(0, rtp_length), original.payload(0, rtp_length)));
}

TEST_CASE("MED-1 RTCP encryption is off by default and authentication stays on") {
  auto suite = all_suites()[0];
  {
    auto [sender, receiver] = make_pair(suite);
    auto original = rtcp_packet();
    auto p = original;
    auto length = sender.protect_rtcp(p.buffer(), p.length);
    REQUIRE(length.has_value());
    CHECK(same(p.payload(0, rtcp_length), original.payload(0, rtcp_length)));
    // The E flag, the top bit after the packet, says "not encrypted".
    CHECK((std::to_integer<unsigned>(p.bytes[rtcp_length]) & 0x80) == 0);
    auto tampered = p;
    tampered.bytes[20] ^= std::byte{0x04};
    auto result = receiver.unprotect_rtcp(tampered.buffer(), *length);
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().code == media_errc::auth_failed);
  }
  {
    auto [sender, receiver] = make_pair(suite, srtp_options{.rtcp_encryption = true});
    auto original = rtcp_packet();
    auto p = original;
    auto length = sender.protect_rtcp(p.buffer(), p.length);
    REQUIRE(length.has_value());
    CHECK_FALSE(same(p.payload(8, rtcp_length - 8), original.payload(8, rtcp_length - 8)));
    CHECK((std::to_integer<unsigned>(p.bytes[rtcp_length]) & 0x80) != 0);
    REQUIRE(receiver.unprotect_rtcp(p.buffer(), *length) == rtcp_length);
    CHECK(same(p.payload(0, rtcp_length), original.payload(0, rtcp_length)));
  }
}

TEST_CASE("MED-1 sessions refuse bad keys and short buffers and the wrong direction") {
  const auto& suite = all_suites()[0];
  std::array<std::byte, 29> short_key{};
  auto bad = srtp_session::create(suite, short_key, {}, direction::outbound);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == media_errc::bad_key_length);

  auto [sender, receiver] = make_pair(suite);
  auto p = rtp_packet(1);
  // No room for the 10-byte tag.
  auto no_room = sender.protect_rtp(std::span(p.bytes).first(rtp_length + 9), rtp_length);
  REQUIRE_FALSE(no_room.has_value());
  CHECK(no_room.error().code == media_errc::no_room);
  auto beyond = sender.protect_rtp(p.buffer(), p.bytes.size() + 1);
  REQUIRE_FALSE(beyond.has_value());
  CHECK(beyond.error().code == media_errc::no_room);

  auto inbound_protect = receiver.protect_rtp(p.buffer(), p.length);
  REQUIRE_FALSE(inbound_protect.has_value());
  CHECK(inbound_protect.error().code == media_errc::wrong_direction);
  auto outbound_unprotect = sender.unprotect_rtcp(p.buffer(), p.length);
  REQUIRE_FALSE(outbound_unprotect.has_value());
  CHECK(outbound_unprotect.error().code == media_errc::wrong_direction);

  // Too short to be RTP: dropped, counted as malformed, never read past its length.
  auto tiny = receiver.unprotect_rtp(p.buffer(), 4);
  REQUIRE_FALSE(tiny.has_value());
  CHECK(
      (tiny.error().code == media_errc::malformed || tiny.error().code == media_errc::auth_failed));
  CHECK(to_string(media_errc::replay) == "replay");
}

TEST_CASE("MED-1 a moved session keeps its context and counters") {
  auto [sender, receiver] = make_pair(all_suites()[1]);
  auto p = rtp_packet(1);
  auto length = sender.protect_rtp(p.buffer(), p.length);
  REQUIRE(length.has_value());
  srtp_session moved = std::move(receiver);
  REQUIRE(moved.unprotect_rtp(p.buffer(), *length).has_value());
  auto [other_sender, other_receiver] = make_pair(all_suites()[0], {}, 9);
  other_receiver = std::move(moved);
  CHECK(other_receiver.counters().unprotected_packets == 1);
}
