// Raw cost of SRTP on the packet path: one protect plus one unprotect of a 20 ms G.711 packet
// (160-byte payload) with AES_CM_128_HMAC_SHA1_80, through libsrtp2 as Ward links it. The
// figure bounds how many relayed SRTP streams one core can carry (SPEC MED-4).
#include "media/srtp_session.hpp"
#include "media/srtp_suites.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace {

using steady = std::chrono::steady_clock;

/// At most this long for the figure.
constexpr auto time_budget = std::chrono::seconds(3);
/// Pairs between clock reads, so reading the clock does not weigh on the figure.
constexpr int batch = 1000;
/// The 16-bit sequence number wraps during the run; packets arrive in order, so libsrtp2
/// follows the roll-over counter as a receiver would.
constexpr std::size_t header_length = 12;
constexpr std::size_t payload_length = 160;

} // namespace

int main() {
  using namespace ward::media;
  const suite_info* suite = find_suite("AES_CM_128_HMAC_SHA1_80");
  std::array<std::byte, 30> key{};
  for (std::size_t i = 0; i < key.size(); ++i)
    key[i] = static_cast<std::byte>(i * 7 + 1);
  auto sender = srtp_session::create(*suite, key, {}, direction::outbound);
  auto receiver = srtp_session::create(*suite, key, {}, direction::inbound);
  if (!sender || !receiver) {
    std::fprintf(stderr, "ward_bench_srtp: cannot create the sessions\n");
    return 1;
  }

  alignas(4) std::array<std::byte, header_length + payload_length + 16> packet{};
  std::uint32_t sequence = 0;
  auto pair = [&]() {
    const std::uint8_t header[header_length] = {0x80,
                                                0x00,
                                                static_cast<std::uint8_t>(sequence >> 8),
                                                static_cast<std::uint8_t>(sequence),
                                                static_cast<std::uint8_t>(sequence >> 24),
                                                static_cast<std::uint8_t>(sequence >> 16),
                                                0,
                                                0,
                                                0x12,
                                                0x34,
                                                0x56,
                                                0x78};
    ++sequence;
    std::memcpy(packet.data(), header, header_length);
    auto length = sender->protect_rtp(packet, header_length + payload_length);
    if (!length)
      return false;
    auto plain = receiver->unprotect_rtp(packet, *length);
    return plain && *plain == header_length + payload_length;
  };

  for (int i = 0; i < batch; ++i)
    if (!pair()) {
      std::fprintf(stderr, "ward_bench_srtp: protect/unprotect failed\n");
      return 1;
    }
  std::uint64_t done = 0;
  auto start = steady::now();
  auto deadline = start + time_budget;
  while (steady::now() < deadline) {
    for (int i = 0; i < batch; ++i)
      if (!pair()) {
        std::fprintf(stderr, "ward_bench_srtp: protect/unprotect failed\n");
        return 1;
      }
    done += batch;
  }
  double elapsed = std::chrono::duration<double>(steady::now() - start).count();
  std::printf("srtp_raw_protect_unprotect_pairs_per_s %.0f\n", static_cast<double>(done) / elapsed);
  return 0;
}
