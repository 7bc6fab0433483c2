// Ward's SRTP relay under load (SPEC MED-3, MED-4; issue 7 "Done when"), one figure per line:
//   srtp_raw_protect_unprotect_per_s       libsrtp2 alone: protect + unprotect pairs of a 20 ms
//                                          G.711 packet (160-byte payload), the limit
//   srtp_raw_protect_unprotect_per_s_across_N_sessions
//                                          the same taking N session pairs in turn, as a relay
//                                          with N calls does (NSS slows down with every live
//                                          session; OpenSSL hardly)
//   relay_X_packets_per_s                  one rtp_relay (one worker thread), N sessions, a
//                                          generator blasting on loopback: what arrives at the
//                                          far phones per second; X is rtp_to_rtp (the socket
//                                          path alone), rtp_to_srtp, srtp_to_srtp
//   relay_X_packets_per_relay_cpu_s        the same per second of the relay thread's CPU time:
//                                          the rate of a worker with a core to itself, robust
//                                          to whatever else the machine runs
//   relay_to_raw_ratio                     relay_srtp_to_srtp_packets_per_s / the limit: a
//                                          relayed SRTP->SRTP packet costs one unprotect and
//                                          one protect (relay_cpu_to_raw_ratio: per CPU time)
//   relay_concurrent_50pps_srtp_streams_without_loss
//                                          largest ramp step of SRTP<->SRTP calls (two streams
//                                          each) at 50 packets/s per stream in which every
//                                          packet arrived, none over 50 ms late
// Added (a second set, measuring the same relay another way):
//   relay_ramp_1000_streams_relay_cpu_ns_per_packet
//                                          the ramp's first step (1000 streams, ~1 packet per
//                                          socket per wake-up): the relay thread's CPU time per
//                                          packet that arrived; like the per-CPU figures above,
//                                          robust to other load, unlike the ramp's outcome
// The relay thread runs on CPU 0 and the generator on CPU 1 when there are two; the generator
// polls rather than sleeps, so the relay never pays for waking it. Notes (configuration,
// libsrtp2 build, the relay thread's CPU and run-queue shares, each ramp step) go to stderr.
// The whole run stays under 90 s. WARD_BENCH_RELAY_SESSIONS sets N (1000);
// WARD_BENCH_RAMP_ONLY=S runs three ramp steps of S streams and nothing else;
// WARD_BENCH_THROUGHPUT_ONLY=1 stops after the throughput figures (no ramp).
#include "media/rtp_relay.hpp"
#include "media/sdes.hpp"
#include "media/srtp_session.hpp"
#include "media/srtp_suites.hpp"

#include <srtp2/srtp.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace ward::media;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::size_t header_length = 12;
constexpr std::size_t payload_length = 160;
constexpr std::size_t rtp_length = header_length + payload_length;
/// Bytes per stored packet: an SRTP packet with an 80-bit tag, rounded up for alignment.
constexpr std::size_t slot = 192;
/// The relay's ports: below the kernel's ephemeral range (where the generator's sockets
/// land) and wide enough for 3000 sessions of four ports.
constexpr std::uint16_t first_port = 20000;
constexpr std::uint16_t last_port = 31999;
/// Packets per sendmmsg/recvmmsg call on the generator side.
constexpr std::size_t burst = 64;
/// The whole run stops ramping past this.
constexpr auto run_budget = 80s;

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "ward_bench_media_relay: %s\n", why.c_str());
  std::exit(1);
}

void note(const std::string& text) {
  std::fprintf(stderr, "# %s\n", text.c_str());
}

bool pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

/// CPU time and run-queue wait of one thread so far (/proc schedstat, nanoseconds): what the
/// relay thread costs per packet whatever else the machine runs, and how long it was kept
/// from running.
struct thread_time {
  double on_cpu_s = 0;
  double waiting_s = 0;
};

thread_time time_of(long tid) {
  std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/schedstat");
  unsigned long long on_cpu = 0;
  unsigned long long waiting = 0;
  stat >> on_cpu >> waiting;
  return {static_cast<double>(on_cpu) * 1e-9, static_cast<double>(waiting) * 1e-9};
}

/// The thread of this process that is not the calling one: the relay's, once it started.
long other_thread() {
  const long self = ::gettid();
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", ignored)) {
    const long tid = std::stol(entry.path().filename().string());
    if (tid != self)
      return tid;
  }
  return 0;
}

/// A fixed key for the AES_CM_128_HMAC_SHA1_80 suite; distinct seeds give distinct keys.
crypto_attribute fixed_key(unsigned seed) {
  crypto_attribute key;
  key.suite = find_suite("AES_CM_128_HMAC_SHA1_80");
  if (key.suite == nullptr)
    fail("AES_CM_128_HMAC_SHA1_80 is not in the suite table");
  key.options = {};
  for (std::size_t i = 0; i < key.key_and_salt.size(); ++i)
    key.key_and_salt[i] = static_cast<std::byte>((i * 13 + seed * 101 + 7) & 0xff);
  return key;
}

srtp_session make_session(const crypto_attribute& key, direction dir) {
  auto made = srtp_session::create(*key.suite, key.key(), key.options, dir);
  if (!made)
    fail("cannot create an SRTP session: " + std::string(to_string(made.error().code)));
  return std::move(*made);
}

void write_rtp(std::byte* packet, std::uint32_t sequence, std::uint32_t ssrc) {
  const std::uint32_t timestamp = sequence * 160;
  const std::uint8_t header[header_length] = {0x80,
                                              0x00,
                                              static_cast<std::uint8_t>(sequence >> 8),
                                              static_cast<std::uint8_t>(sequence),
                                              static_cast<std::uint8_t>(timestamp >> 24),
                                              static_cast<std::uint8_t>(timestamp >> 16),
                                              static_cast<std::uint8_t>(timestamp >> 8),
                                              static_cast<std::uint8_t>(timestamp),
                                              static_cast<std::uint8_t>(ssrc >> 24),
                                              static_cast<std::uint8_t>(ssrc >> 16),
                                              static_cast<std::uint8_t>(ssrc >> 8),
                                              static_cast<std::uint8_t>(ssrc)};
  std::memcpy(packet, header, header_length);
}

std::uint32_t ssrc_of(const std::byte* packet) {
  std::uint32_t value = 0;
  std::memcpy(&value, packet + 8, sizeof value);
  return ntohl(value);
}

std::uint16_t sequence_of(const std::byte* packet) {
  return static_cast<std::uint16_t>((std::to_integer<unsigned>(packet[2]) << 8) |
                                    std::to_integer<unsigned>(packet[3]));
}

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

/// A non-blocking loopback UDP socket on an ephemeral port with large buffers (root may
/// exceed net.core.rmem_max; others get what the sysctl allows).
struct udp_socket {
  int fd = -1;
  std::uint16_t port = 0;

  udp_socket() {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
      fail(std::string("socket: ") + std::strerror(errno));
    int size = 8 << 20;
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
      (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) != 0)
      (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    auto local = loopback(0);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0)
      fail(std::string("bind: ") + std::strerror(errno));
    socklen_t length = sizeof local;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length);
    port = ntohs(local.sin_port);
  }
  ~udp_socket() {
    if (fd >= 0)
      ::close(fd);
  }
  udp_socket(const udp_socket&) = delete;
  udp_socket& operator=(const udp_socket&) = delete;
  media_endpoint endpoint() const { return {"127.0.0.1", port, port}; }
};

/// Sends `count` messages from `fd`, retrying what the kernel did not take at once.
void send_all(int fd, mmsghdr* messages, std::size_t count) {
  std::size_t done = 0;
  while (done < count) {
    int sent = ::sendmmsg(fd, messages + done, static_cast<unsigned>(count - done), 0);
    if (sent > 0)
      done += static_cast<std::size_t>(sent);
    else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS && errno != EINTR)
      fail(std::string("sendmmsg: ") + std::strerror(errno));
  }
}

/// Receive buffers and headers for one recvmmsg call.
struct receive_batch {
  struct alignas(16) buffer {
    std::array<std::byte, 2048> bytes;
  };
  std::array<buffer, burst> buffers{};
  std::array<iovec, burst> vectors{};
  std::array<mmsghdr, burst> messages{};
  receive_batch() {
    for (std::size_t i = 0; i < burst; ++i) {
      vectors[i] = iovec{buffers[i].bytes.data(), buffers[i].bytes.size()};
      messages[i].msg_hdr.msg_iov = &vectors[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
  }
  /// Datagrams waiting on `fd`, at most one batch.
  std::size_t take(int fd) {
    int got = ::recvmmsg(fd, messages.data(), burst, MSG_DONTWAIT, nullptr);
    return got > 0 ? static_cast<std::size_t>(got) : 0;
  }
};

/// Outgoing headers for one sendmmsg call.
struct send_batch {
  std::array<iovec, burst> vectors{};
  std::array<mmsghdr, burst> messages{};
  std::size_t count = 0;
  void add(std::byte* packet, std::size_t length, const sockaddr_in& to) {
    vectors[count] = iovec{packet, length};
    auto& header = messages[count].msg_hdr;
    header = msghdr{};
    header.msg_name = const_cast<sockaddr_in*>(&to);
    header.msg_namelen = sizeof to;
    header.msg_iov = &vectors[count];
    header.msg_iovlen = 1;
    ++count;
  }
  void flush(int fd) {
    send_all(fd, messages.data(), count);
    count = 0;
  }
};

// ---------------------------------------------------------------------------------------
// The limit: libsrtp2 alone.

/// Pairs per second through `sessions` sender/receiver session pairs taken in turn, as a
/// relay with that many calls would touch them (1: the figure the issue calls the limit).
double raw_pairs_per_second(std::chrono::duration<double> budget, std::size_t sessions = 1) {
  auto key = fixed_key(1);
  std::vector<srtp_session> senders;
  std::vector<srtp_session> receivers;
  for (std::size_t s = 0; s < sessions; ++s) {
    senders.push_back(make_session(key, direction::outbound));
    receivers.push_back(make_session(key, direction::inbound));
  }
  alignas(16) std::array<std::byte, slot> packet{};
  std::uint32_t sequence = 0;
  std::size_t turn = 0;
  auto pair = [&] {
    turn = turn + 1 == sessions ? 0 : turn + 1;
    write_rtp(packet.data(), sequence++ / static_cast<std::uint32_t>(sessions), 0x12345678);
    auto length = senders[turn].protect_rtp(packet, rtp_length);
    if (!length)
      return false;
    auto plain = receivers[turn].unprotect_rtp(packet, *length);
    return plain && *plain == rtp_length;
  };
  constexpr int between_clock_reads = 1000;
  for (int i = 0; i < between_clock_reads; ++i)
    if (!pair())
      fail("raw protect/unprotect failed");
  std::uint64_t done = 0;
  const auto start = steady::now();
  const auto deadline = start + std::chrono::duration_cast<steady::duration>(budget);
  while (steady::now() < deadline) {
    for (int i = 0; i < between_clock_reads; ++i)
      if (!pair())
        fail("raw protect/unprotect failed");
    done += between_clock_reads;
  }
  return static_cast<double>(done) / std::chrono::duration<double>(steady::now() - start).count();
}

// ---------------------------------------------------------------------------------------
// Throughput: a closed loop that keeps `window` packets in flight through the relay.

enum class conversion { rtp_to_rtp, rtp_to_srtp, srtp_to_srtp };

/// The relay thread, whose CPU time the figures divide by packets.
long relay_thread = 0;

struct throughput_result {
  /// Packets arriving at the far phones per second of wall-clock time.
  double packets_per_s = 0;
  /// Packets relayed per second the relay thread spent on a CPU: the rate of a worker that
  /// has a core to itself, whatever else the machine was running.
  double packets_per_relay_cpu_s = 0;
  /// Shares of the measured time the relay thread ran, and waited runnable for a CPU.
  double relay_cpu_share = 0;
  double relay_wait_share = 0;
};

struct throughput_options {
  std::size_t sessions = 1000;
  std::size_t window = 2048;
  std::size_t receivers = 8;
  std::chrono::duration<double> duration = 3s;
  /// SRTP->SRTP packets are protected before the clock starts; at most this many.
  std::size_t max_pool = 1'500'000;
};

throughput_result relay_throughput(rtp_relay& relay, conversion kind,
                                   const throughput_options& options, double raw_pairs) {
  const bool srtp_in = kind == conversion::srtp_to_srtp;
  const bool srtp_out = kind != conversion::rtp_to_rtp;
  const std::size_t sessions = options.sessions;
  // Leg A: the generator's phone key (inbound) and Ward's key for it. Leg B: the far phone's
  // key and Ward's key for B, with which arrivals are checked.
  const leg_crypto leg_a{fixed_key(2), fixed_key(3)};
  const leg_crypto leg_b{fixed_key(4), fixed_key(5)};
  constexpr std::uint32_t ssrc_base = 0x10000000;

  udp_socket sender;
  std::vector<std::unique_ptr<udp_socket>> receivers;
  for (std::size_t i = 0; i < options.receivers; ++i)
    receivers.push_back(std::make_unique<udp_socket>());
  std::vector<std::uint64_t> ids;
  std::vector<sockaddr_in> destinations;
  for (std::size_t s = 0; s < sessions; ++s) {
    auto allocation = relay.allocate();
    if (!allocation)
      fail("allocate: " + allocation.error().detail);
    ids.push_back(allocation->id);
    destinations.push_back(loopback(allocation->port_a));
    bool ok =
        relay.set_peer(allocation->id, relay_leg::a, sender.endpoint()).has_value() &&
        relay.set_peer(allocation->id, relay_leg::b, receivers[s % receivers.size()]->endpoint())
            .has_value() &&
        (!srtp_out || relay.set_crypto(allocation->id, relay_leg::b, leg_b).has_value()) &&
        (!srtp_in || relay.set_crypto(allocation->id, relay_leg::a, leg_a).has_value());
    if (!ok)
      fail("cannot set up relay session " + std::to_string(s));
  }

  // Packet i goes to session i % sessions with sequence number i / sessions.
  std::vector<std::byte> pool;
  std::size_t pool_packets = std::numeric_limits<std::size_t>::max();
  std::array<std::array<std::byte, slot>, burst> ring{};
  if (srtp_in) {
    // A relayed SRTP->SRTP packet costs at least a raw pair, so the relay cannot use more
    // than this in the measured time (plus the warm-up round).
    pool_packets =
        std::min(options.max_pool,
                 sessions + static_cast<std::size_t>(raw_pairs * options.duration.count() * 1.1));
    pool.resize(pool_packets * slot);
    // One phone session at a time: with NSS every live libsrtp2 session slows every other.
    for (std::size_t s = 0; s < sessions; ++s) {
      auto phone = make_session(leg_a.inbound, direction::outbound);
      for (std::size_t i = s; i < pool_packets; i += sessions) {
        std::byte* packet = pool.data() + i * slot;
        std::memset(packet + header_length, 0x5a, payload_length);
        write_rtp(packet, static_cast<std::uint32_t>(i / sessions),
                  ssrc_base + static_cast<std::uint32_t>(s));
        auto length = phone.protect_rtp({packet, slot}, rtp_length);
        if (!length || *length != rtp_length + 10)
          fail("cannot protect the generator's packets");
      }
    }
  } else {
    for (auto& buffer : ring)
      std::memset(buffer.data() + header_length, 0x5a, payload_length);
  }
  const std::size_t wire_length = srtp_in ? rtp_length + 10 : rtp_length;
  auto packet_at = [&](std::size_t i) -> std::byte* {
    if (srtp_in)
      return pool.data() + i * slot;
    std::byte* packet = ring[i % burst].data();
    write_rtp(packet, static_cast<std::uint32_t>(i / sessions),
              ssrc_base + static_cast<std::uint32_t>(i % sessions));
    return packet;
  };

  send_batch out;
  receive_batch in;
  std::size_t next = 0;
  std::uint64_t received = 0;
  auto send_up_to = [&](std::size_t limit) {
    while (next < limit) {
      const std::size_t count = std::min(burst, limit - next);
      for (std::size_t k = 0; k < count; ++k, ++next)
        out.add(packet_at(next), wire_length, destinations[next % sessions]);
      out.flush(sender.fd);
    }
  };
  auto drain = [&](const std::function<void(const std::byte*, std::size_t)>& check) {
    for (auto& receiver : receivers)
      for (std::size_t got = in.take(receiver->fd); got != 0; got = in.take(receiver->fd)) {
        received += got;
        if (check)
          for (std::size_t k = 0; k < got; ++k)
            check(in.buffers[k].bytes.data(), in.messages[k].msg_len);
      }
  };

  // Warm-up: one packet per session latches its source; every arrival must be what the far
  // phone can decrypt with Ward's key for leg B.
  auto far_phone = make_session(leg_b.outbound, direction::inbound);
  std::size_t verified = 0;
  auto verify = [&](const std::byte* packet, std::size_t length) {
    alignas(16) std::array<std::byte, slot> copy{};
    if (length > copy.size())
      return;
    std::memcpy(copy.data(), packet, length);
    auto plain = srtp_out ? far_phone.unprotect_rtp(copy, length)
                          : std::expected<std::size_t, media_error>(length);
    if (plain && *plain == rtp_length && std::to_integer<int>(copy[header_length]) == 0x5a)
      ++verified;
  };
  send_up_to(sessions);
  const auto warm_deadline = steady::now() + 3s;
  while (received < sessions && steady::now() < warm_deadline)
    drain(verify);
  if (verified != sessions)
    fail("warm-up: " + std::to_string(verified) + " of " + std::to_string(sessions) +
         " packets arrived as the far phone expects them");

  const auto relayed_before = relay.stats().packets_relayed;
  const std::uint64_t received_before = received;
  const auto relay_before = time_of(relay_thread);
  const auto start = steady::now();
  const auto deadline = start + std::chrono::duration_cast<steady::duration>(options.duration);
  std::function<void(const std::byte*, std::size_t)> no_check;
  auto now = start;
  while (now < deadline && next < pool_packets) {
    const std::uint64_t in_flight = next - sessions - (received - received_before);
    if (in_flight + burst <= options.window)
      send_up_to(std::min(next + burst, pool_packets));
    drain(no_check);
    now = steady::now();
  }
  const auto relay_after = time_of(relay_thread);
  const double elapsed = std::chrono::duration<double>(now - start).count();
  const double arrived = static_cast<double>(received - received_before);
  throughput_result result;
  result.packets_per_s = arrived / elapsed;
  const double relay_cpu = relay_after.on_cpu_s - relay_before.on_cpu_s;
  result.packets_per_relay_cpu_s = relay_cpu > 0 ? arrived / relay_cpu : 0;
  result.relay_cpu_share = relay_cpu / elapsed;
  result.relay_wait_share = (relay_after.waiting_s - relay_before.waiting_s) / elapsed;
  if (next >= pool_packets)
    note("srtp->srtp: the pre-protected packets ran out after " + std::to_string(elapsed) + " s");
  // Let what is in flight land before the sessions go.
  const auto settle = steady::now() + 200ms;
  while (steady::now() < settle)
    drain(no_check);
  const auto stats = relay.stats();
  if (stats.packets_relayed - relayed_before < received - received_before)
    fail("more packets arrived than the relay relayed");
  for (auto id : ids)
    relay.release(id);
  return result;
}

// ---------------------------------------------------------------------------------------
// Capacity: SRTP<->SRTP calls, each stream at 50 packets/s, spread over 20 ms.

constexpr std::size_t packets_per_stream = 150; // 3 s at 50 packets/s
constexpr std::size_t slots_per_period = 20;    // one slot a millisecond
constexpr auto late_after = 50ms;
constexpr std::uint32_t ramp_ssrc_base = 0x20000000;

/// Every stream's packets, protected before any step runs: stream st's packet k at
/// (st * packets_per_stream + k) * slot. Each step uses fresh relay sessions, so the same
/// packets pass the relay's replay check again.
struct ramp_pool {
  std::size_t streams = 0;
  std::vector<std::byte> bytes;
  std::byte* packet(std::size_t stream, std::size_t k) {
    return bytes.data() + (stream * packets_per_stream + k) * slot;
  }
};

ramp_pool make_ramp_pool(std::size_t streams, const crypto_attribute& phone_key) {
  ramp_pool pool;
  pool.streams = streams;
  pool.bytes.resize(streams * packets_per_stream * slot);
  for (std::size_t st = 0; st < streams; ++st) {
    auto phone = make_session(phone_key, direction::outbound);
    for (std::size_t k = 0; k < packets_per_stream; ++k) {
      std::byte* packet = pool.packet(st, k);
      std::memset(packet + header_length, 0x33, payload_length);
      write_rtp(packet, static_cast<std::uint32_t>(k),
                ramp_ssrc_base + static_cast<std::uint32_t>(st));
      auto length = phone.protect_rtp({packet, slot}, rtp_length);
      if (!length || *length != rtp_length + 10)
        fail("cannot protect the ramp's packets");
    }
  }
  return pool;
}

struct step_result {
  std::size_t expected = 0;
  std::size_t on_time = 0;
  std::size_t late = 0;
  std::chrono::nanoseconds worst_latency{0};
  std::chrono::nanoseconds generator_lag{0};
  std::uint64_t auth_failed = 0;
  double relay_cpu_share = 0;
  double relay_wait_share = 0;
  /// The relay thread's CPU time from the first send to the end of sending.
  double relay_cpu_s = 0;
  bool passed() const { return on_time == expected; }
};

/// `streams` streams (streams / 2 calls) for 3 s; the generator sends and receives on the
/// sockets of both phones of every call (16 sockets a side, each the phone of many calls).
step_result ramp_step(rtp_relay& relay, ramp_pool& pool, std::size_t streams,
                      const leg_crypto& keys) {
  constexpr std::size_t per_side = 16;
  std::vector<std::unique_ptr<udp_socket>> sockets; // [0, 16): leg A phones, then leg B
  for (std::size_t i = 0; i < 2 * per_side; ++i)
    sockets.push_back(std::make_unique<udp_socket>());
  const std::size_t calls = streams / 2;
  std::vector<std::uint64_t> ids;
  // Stream 2c goes A -> B of call c (to port_a), stream 2c + 1 B -> A (to port_b).
  std::vector<sockaddr_in> destinations(streams);
  // What each (slot, socket) sends: the streams whose turn it is, from that socket.
  std::vector<std::vector<std::uint32_t>> schedule(slots_per_period * 2 * per_side);
  const auto before = relay.stats();
  for (std::size_t c = 0; c < calls; ++c) {
    auto allocation = relay.allocate();
    if (!allocation)
      fail("allocate: " + allocation.error().detail);
    ids.push_back(allocation->id);
    const std::size_t phone = c % per_side;
    bool ok = relay.set_peer(allocation->id, relay_leg::a, sockets[phone]->endpoint()) &&
              relay.set_peer(allocation->id, relay_leg::b, sockets[per_side + phone]->endpoint()) &&
              relay.set_crypto(allocation->id, relay_leg::a, keys) &&
              relay.set_crypto(allocation->id, relay_leg::b, keys);
    if (!ok)
      fail("cannot set up ramp call " + std::to_string(c));
    for (std::size_t dir = 0; dir < 2; ++dir) {
      const std::size_t st = 2 * c + dir;
      destinations[st] = loopback(dir == 0 ? allocation->port_a : allocation->port_b);
      schedule[(st % slots_per_period) * 2 * per_side + dir * per_side + phone].push_back(
          static_cast<std::uint32_t>(st));
    }
  }

  int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  for (std::size_t i = 0; i < sockets.size(); ++i) {
    epoll_event watch{};
    watch.events = EPOLLIN;
    watch.data.u64 = i;
    if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, sockets[i]->fd, &watch) != 0)
      fail("epoll_ctl");
  }

  step_result result;
  result.expected = streams * packets_per_stream;
  const std::size_t ticks = packets_per_stream * slots_per_period;
  std::vector<steady::time_point> sent_at(ticks);
  receive_batch in;
  send_batch out;
  auto receive_until = [&](steady::time_point until) {
    std::array<epoll_event, 32> ready{};
    for (;;) {
      // The generator polls rather than sleeps: the relay's sends would otherwise pay for
      // waking it, which phones on other hosts never cost it.
      int got = ::epoll_wait(epoll_fd, ready.data(), static_cast<int>(ready.size()), 0);
      for (int e = 0; e < got; ++e) {
        const int fd = sockets[ready[static_cast<std::size_t>(e)].data.u64]->fd;
        for (std::size_t n = in.take(fd); n != 0; n = in.take(fd)) {
          const auto arrived = steady::now();
          for (std::size_t k = 0; k < n; ++k) {
            const std::byte* packet = in.buffers[k].bytes.data();
            if (in.messages[k].msg_len < header_length)
              continue;
            const std::size_t st = ssrc_of(packet) - ramp_ssrc_base;
            const std::size_t sequence = sequence_of(packet);
            if (st >= streams || sequence >= packets_per_stream)
              continue;
            const auto latency =
                arrived - sent_at[sequence * slots_per_period + st % slots_per_period];
            result.worst_latency =
                std::max(result.worst_latency,
                         std::chrono::duration_cast<std::chrono::nanoseconds>(latency));
            if (latency > late_after)
              ++result.late;
            else
              ++result.on_time;
          }
        }
      }
      if (got <= 0 && steady::now() >= until)
        return;
    }
  };

  const auto relay_before = time_of(relay_thread);
  const auto start = steady::now() + 5ms;
  for (std::size_t tick = 0; tick < ticks; ++tick) {
    const auto target = start + std::chrono::milliseconds(tick);
    receive_until(target);
    const auto now = steady::now();
    sent_at[tick] = now;
    result.generator_lag = std::max(
        result.generator_lag, std::chrono::duration_cast<std::chrono::nanoseconds>(now - target));
    const std::size_t sequence = tick / slots_per_period;
    const std::size_t turn = tick % slots_per_period;
    for (std::size_t s = 0; s < 2 * per_side; ++s) {
      for (auto st : schedule[turn * 2 * per_side + s]) {
        out.add(pool.packet(st, sequence), rtp_length + 10, destinations[st]);
        if (out.count == burst)
          out.flush(sockets[s]->fd);
      }
      out.flush(sockets[s]->fd);
    }
  }
  const auto sending_ended = steady::now();
  const auto relay_after = time_of(relay_thread);
  const double sending = std::chrono::duration<double>(sending_ended - start).count();
  result.relay_cpu_s = relay_after.on_cpu_s - relay_before.on_cpu_s;
  result.relay_cpu_share = result.relay_cpu_s / sending;
  result.relay_wait_share = (relay_after.waiting_s - relay_before.waiting_s) / sending;
  receive_until(start + std::chrono::milliseconds(ticks) + late_after + 50ms);
  ::close(epoll_fd);
  result.auth_failed = relay.stats().packets_auth_failed - before.packets_auth_failed;
  for (auto id : ids)
    relay.release(id);
  return result;
}

std::string describe(std::size_t streams, const step_result& step) {
  char text[300];
  std::snprintf(text, sizeof text,
                "ramp %zu streams: %zu of %zu on time, %zu late, worst %.1f ms, generator lag "
                "%.1f ms, relay thread on a CPU %.0f%% and waiting for one %.0f%% of the time%s",
                streams, step.on_time, step.expected, step.late,
                std::chrono::duration<double, std::milli>(step.worst_latency).count(),
                std::chrono::duration<double, std::milli>(step.generator_lag).count(),
                100 * step.relay_cpu_share, 100 * step.relay_wait_share,
                step.auth_failed != 0 ? " (authentication failures!)" : "");
  return text;
}

std::string srtp_backend() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line))
    if (line.find("libnss3") != std::string::npos)
      return "NSS";
  return "not NSS";
}

} // namespace

int main() {
  const auto began = steady::now();
  // Four descriptors per call, and the generator's own.
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &files);
  }
  (void)::getrlimit(RLIMIT_NOFILE, &files);
  const std::size_t descriptors = files.rlim_cur == RLIM_INFINITY
                                      ? std::size_t{1} << 20
                                      : static_cast<std::size_t>(files.rlim_cur);
  const std::size_t max_streams =
      std::min<std::size_t>(5000, descriptors > 300 ? (descriptors - 300) / 2 : 0) / 2 * 2;

  const bool two_cores = ::sysconf(_SC_NPROCESSORS_ONLN) >= 2;
  // The relay thread inherits CPU 0 from the thread that starts it; the generator then
  // moves to CPU 1.
  const bool pinned = two_cores && pin_to(0);
  note(std::string("libsrtp2 ") + srtp_get_version_string() + ", crypto backend " + srtp_backend() +
       "; relay on " + (pinned ? "CPU 0, generator on CPU 1" : "any CPU"));

  const double raw = raw_pairs_per_second(2s);
  std::printf("srtp_raw_protect_unprotect_per_s %.0f\n", raw);
  std::fflush(stdout);

  auto started = rtp_relay::start(
      {.address = "127.0.0.1", .ports = {first_port, last_port}, .max_sessions = 3000});
  if (!started)
    fail("cannot start the relay: " + started.error().detail);
  auto& relay = **started;
  relay_thread = other_thread();
  if (pinned)
    pin_to(1);

  if (const char* only = std::getenv("WARD_BENCH_RAMP_ONLY")) {
    // Profiling aid: three ramp steps of this many streams, nothing else.
    const auto streams = std::clamp<std::size_t>(std::strtoul(only, nullptr, 10), 2, max_streams);
    const leg_crypto keys{fixed_key(6), fixed_key(7)};
    auto pool = make_ramp_pool(streams, keys.inbound);
    for (int i = 0; i < 3; ++i)
      note(describe(streams, ramp_step(relay, pool, streams / 2 * 2, keys)));
    return 0;
  }
  throughput_options options;
  if (const char* sessions = std::getenv("WARD_BENCH_RELAY_SESSIONS"))
    options.sessions = std::clamp<std::size_t>(std::strtoul(sessions, nullptr, 10), 1, 2500);
  // The same through as many session pairs as the throughput runs have calls: what the
  // library allows a relay with that many calls.
  std::printf("srtp_raw_protect_unprotect_per_s_across_%zu_sessions %.0f\n", options.sessions,
              raw_pairs_per_second(1s, options.sessions));
  std::fflush(stdout);
  note("throughput: " + std::to_string(options.sessions) + " sessions (leg A to leg B), " +
       std::to_string(options.window) + " packets in flight, " + std::to_string(payload_length) +
       "-byte payloads, AES_CM_128_HMAC_SHA1_80");
  auto report = [](const char* name, const throughput_result& result) {
    std::printf("relay_%s_packets_per_s %.0f\n", name, result.packets_per_s);
    std::printf("relay_%s_packets_per_relay_cpu_s %.0f\n", name, result.packets_per_relay_cpu_s);
    std::fflush(stdout);
    char text[200];
    std::snprintf(text, sizeof text,
                  "%s: relay thread on a CPU %.0f%% and waiting for one %.0f%% of the time", name,
                  100 * result.relay_cpu_share, 100 * result.relay_wait_share);
    note(text);
  };
  report("rtp_to_rtp", relay_throughput(relay, conversion::rtp_to_rtp, options, raw));
  const auto rtp_to_srtp = relay_throughput(relay, conversion::rtp_to_srtp, options, raw);
  report("rtp_to_srtp", rtp_to_srtp);
  const auto srtp_to_srtp = relay_throughput(relay, conversion::srtp_to_srtp, options, raw);
  report("srtp_to_srtp", srtp_to_srtp);
  std::printf("relay_to_raw_ratio %.2f\n", srtp_to_srtp.packets_per_s / raw);
  std::printf("relay_cpu_to_raw_ratio %.2f\n", srtp_to_srtp.packets_per_relay_cpu_s / raw);
  std::fflush(stdout);
  if (std::getenv("WARD_BENCH_THROUGHPUT_ONLY") != nullptr)
    return 0;

  // Ramp: up in steps of 1000 streams; at the first step with loss (seen twice), bisect
  // down to 125 streams between it and the last clean one.
  const leg_crypto keys{fixed_key(6), fixed_key(7)};
  auto pool = make_ramp_pool(max_streams, keys.inbound);
  auto out_of_time = [&] { return steady::now() - began > run_budget; };
  std::optional<double> ns_per_packet_at_1000;
  auto step = [&](std::size_t streams) {
    auto result = ramp_step(relay, pool, streams, keys);
    note(describe(streams, result));
    const std::size_t arrived = result.on_time + result.late;
    if (streams == 1000 && !ns_per_packet_at_1000 && arrived != 0)
      ns_per_packet_at_1000 = result.relay_cpu_s * 1e9 / static_cast<double>(arrived);
    if (!result.passed() && !out_of_time()) {
      result = ramp_step(relay, pool, streams, keys);
      note(describe(streams, result) + " (again)");
    }
    return result.passed() && result.auth_failed == 0;
  };
  std::vector<std::size_t> levels;
  for (std::size_t streams = 1000; streams < max_streams; streams += 1000)
    levels.push_back(streams);
  levels.push_back(max_streams);
  std::size_t good = 0;
  std::size_t bad = 0;
  for (auto streams : levels) {
    if (out_of_time())
      break;
    if (!step(streams)) {
      bad = streams;
      break;
    }
    good = streams;
  }
  while (bad != 0 && bad - good > 150 && !out_of_time()) {
    const std::size_t middle = (good + bad) / 4 * 2;
    if (step(middle))
      good = middle;
    else
      bad = middle;
  }
  if (out_of_time())
    note("the ramp stopped at the time budget");
  std::printf("relay_concurrent_50pps_srtp_streams_without_loss %zu\n", good);
  if (ns_per_packet_at_1000)
    std::printf("relay_ramp_1000_streams_relay_cpu_ns_per_packet %.0f\n", *ns_per_packet_at_1000);
  return 0;
}
