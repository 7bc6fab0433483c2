#include "media/rtp_relay.hpp"
#include "media/sdes.hpp"
#include "media/srtp_session.hpp"
#include "media/srtp_suites.hpp"
#include "tests/unit/test_support.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

using namespace ward::media;
using namespace std::chrono_literals;

namespace {

// Relay ranges sit above the kernel's ephemeral ports (32768-60999), so the phones below,
// which bind port 0, never take a port a test expects the relay to get. Each test case has
// its own range because ctest may run them in parallel processes.

struct datagram {
  std::string payload;
  std::string from_address;
  std::uint16_t from_port = 0;
};

/// A numeric IPv4 or IPv6 socket address and its length.
std::pair<sockaddr_storage, socklen_t> socket_address(const std::string& host, std::uint16_t port) {
  sockaddr_storage address{};
  if (host.find(':') != std::string::npos) {
    auto& v6 = reinterpret_cast<sockaddr_in6&>(address);
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    ::inet_pton(AF_INET6, host.c_str(), &v6.sin6_addr);
    return {address, sizeof v6};
  }
  auto& v4 = reinterpret_cast<sockaddr_in&>(address);
  v4.sin_family = AF_INET;
  v4.sin_port = htons(port);
  ::inet_pton(AF_INET, host.c_str(), &v4.sin_addr);
  return {address, sizeof v4};
}

/// A UDP socket standing in for one media port of a phone.
class phone_socket {
public:
  explicit phone_socket(std::uint16_t port = 0, std::string host = "127.0.0.1")
      : host_(std::move(host)) {
    auto [local, length] = socket_address(host_, port);
    fd_ = ::socket(local.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&local), length) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (fd_ >= 0) {
      socklen_t bound_length = sizeof local;
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &bound_length);
      port_ = ntohs(local.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6&>(local).sin6_port
                                                : reinterpret_cast<sockaddr_in&>(local).sin_port);
    }
  }
  ~phone_socket() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  phone_socket(const phone_socket&) = delete;
  phone_socket& operator=(const phone_socket&) = delete;

  bool bound() const { return fd_ >= 0; }
  std::uint16_t port() const { return port_; }
  /// The endpoint to signal for this socket, as the B2BUA would take it from SDP.
  media_endpoint endpoint() const { return {host_, port_}; }

  /// Sends `payload` to the relay port `port` on `host`.
  void send_to(std::uint16_t port, std::string_view payload,
               const std::string& host = "127.0.0.1") const {
    const auto [target, length] = socket_address(host, port);
    auto sent = ::sendto(fd_, payload.data(), payload.size(), 0,
                         reinterpret_cast<const sockaddr*>(&target), length);
    REQUIRE(sent == static_cast<ssize_t>(payload.size()));
  }

  /// The next datagram, or nothing once `wait` passes without one.
  std::optional<datagram> receive(std::chrono::milliseconds wait = 2000ms) const {
    pollfd ready{fd_, POLLIN, 0};
    if (::poll(&ready, 1, static_cast<int>(wait.count())) <= 0)
      return std::nullopt;
    std::string buffer(65536, '\0');
    sockaddr_storage from{};
    socklen_t length = sizeof from;
    auto got = ::recvfrom(fd_, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&from),
                          &length);
    if (got < 0)
      return std::nullopt;
    buffer.resize(static_cast<std::size_t>(got));
    char text[INET6_ADDRSTRLEN] = {};
    std::uint16_t port = 0;
    if (from.ss_family == AF_INET6) {
      const auto& v6 = reinterpret_cast<const sockaddr_in6&>(from);
      ::inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
      port = ntohs(v6.sin6_port);
    } else {
      const auto& v4 = reinterpret_cast<const sockaddr_in&>(from);
      ::inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
      port = ntohs(v4.sin_port);
    }
    return datagram{std::move(buffer), text, port};
  }

  /// True when nothing is waiting. Only meaningful once the relay has counted the packet
  /// that must not arrive: it sends before it counts, so a relayed packet would be here.
  bool nothing_waiting() const { return !receive(0ms); }

private:
  std::string host_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

/// A phone's RTP socket on an even port and its RTCP socket on the port above, found from
/// `search_from` upwards (above the ephemeral ports, away from every relay range).
struct phone {
  std::unique_ptr<phone_socket> rtp;
  std::unique_ptr<phone_socket> rtcp;

  explicit phone(std::uint16_t search_from) {
    for (std::uint16_t port = search_from; port < search_from + 200; port += 2) {
      rtp = std::make_unique<phone_socket>(port);
      rtcp = std::make_unique<phone_socket>(static_cast<std::uint16_t>(port + 1));
      if (rtp->bound() && rtcp->bound())
        return;
    }
    FAIL("no free port pair for a test phone");
  }
};

std::unique_ptr<rtp_relay> start_relay(std::uint16_t first, std::uint16_t last,
                                       std::size_t max_sessions = 1000,
                                       std::string address = "127.0.0.1") {
  auto relay = rtp_relay::start(
      {.address = std::move(address), .ports = {first, last}, .max_sessions = max_sessions});
  REQUIRE_MESSAGE(relay.has_value(), (relay ? std::string() : relay.error().detail));
  return std::move(*relay);
}

/// Waits (bounded) until `condition` holds: how a test knows the relay thread has handled a
/// packet that, correctly, produced nothing to receive.
bool eventually(const std::function<bool()>& condition) {
  auto deadline = std::chrono::steady_clock::now() + 2s;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

bool dropped_reaches(const rtp_relay& relay, std::uint64_t count) {
  return eventually([&] { return relay.stats().packets_dropped >= count; });
}

/// Sends `payload` from `sender` to the relay port and returns what `receiver` gets.
std::optional<datagram> through(const phone_socket& sender, std::uint16_t relay_port,
                                const phone_socket& receiver, std::string_view payload) {
  sender.send_to(relay_port, payload);
  return receiver.receive();
}

} // namespace

TEST_CASE("MED-3 relay forwards RTP both ways between two legs") {
  auto relay = start_relay(61000, 61009);
  auto session = relay->allocate();
  REQUIRE(session.has_value());
  CHECK(session->port_a % 2 == 0);
  CHECK(session->port_b % 2 == 0);
  CHECK(session->port_a != session->port_b);
  phone_socket a, b;
  REQUIRE(relay->set_peer(session->id, relay_leg::a, a.endpoint()).has_value());
  REQUIRE(relay->set_peer(session->id, relay_leg::b, b.endpoint()).has_value());

  auto at_b = through(a, session->port_a, b, "a to b");
  REQUIRE(at_b.has_value());
  CHECK(at_b->payload == "a to b");
  // Leg B's peer sees the media come from the port the relay gave it.
  CHECK(at_b->from_address == "127.0.0.1");
  CHECK(at_b->from_port == session->port_b);

  auto at_a = through(b, session->port_b, a, "b to a");
  REQUIRE(at_a.has_value());
  CHECK(at_a->payload == "b to a");
  CHECK(at_a->from_port == session->port_a);

  // A burst larger than one batch arrives whole and in order.
  for (int i = 0; i < 100; ++i)
    a.send_to(session->port_a, "burst " + std::to_string(i));
  for (int i = 0; i < 100; ++i) {
    auto got = b.receive();
    REQUIRE(got.has_value());
    CHECK(got->payload == "burst " + std::to_string(i));
  }
  auto stats = relay->stats();
  CHECK(stats.packets_relayed == 102);
  CHECK(stats.packets_dropped == 0);
}

TEST_CASE("MED-3 relay forwards RTCP on the port above RTP both ways") {
  auto relay = start_relay(61020, 61029);
  auto session = relay->allocate();
  REQUIRE(session.has_value());
  phone a(63000);
  phone b(63200);
  REQUIRE(relay->set_peer(session->id, relay_leg::a, a.rtp->endpoint()).has_value());
  REQUIRE(relay->set_peer(session->id, relay_leg::b, b.rtp->endpoint()).has_value());

  auto at_b = through(*a.rtcp, session->port_a + 1, *b.rtcp, "sender report a");
  REQUIRE(at_b.has_value());
  CHECK(at_b->payload == "sender report a");
  CHECK(at_b->from_port == session->port_b + 1);
  auto at_a = through(*b.rtcp, session->port_b + 1, *a.rtcp, "sender report b");
  REQUIRE(at_a.has_value());
  CHECK(at_a->from_port == session->port_a + 1);
  // RTCP went to the RTCP sockets only.
  CHECK(a.rtp->nothing_waiting());
  CHECK(b.rtp->nothing_waiting());

  SUBCASE("an a=rtcp port replaces the port above RTP") {
    phone_socket elsewhere;
    auto moved = b.rtp->endpoint();
    moved.rtcp_port = elsewhere.port();
    REQUIRE(relay->set_peer(session->id, relay_leg::b, moved).has_value());
    auto got = through(*a.rtcp, session->port_a + 1, elsewhere, "to a=rtcp");
    REQUIRE(got.has_value());
    CHECK(got->payload == "to a=rtcp");
  }
}

TEST_CASE("MED-3 relay drops packets until both peers are set") {
  auto relay = start_relay(61040, 61049);
  auto session = relay->allocate();
  REQUIRE(session.has_value());
  phone_socket a, b;

  a.send_to(session->port_a, "nobody set");
  REQUIRE(dropped_reaches(*relay, 1));
  REQUIRE(relay->set_peer(session->id, relay_leg::a, a.endpoint()).has_value());
  a.send_to(session->port_a, "only a set");
  REQUIRE(dropped_reaches(*relay, 2));
  CHECK(b.nothing_waiting());

  REQUIRE(relay->set_peer(session->id, relay_leg::b, b.endpoint()).has_value());
  auto got = through(a, session->port_a, b, "both set");
  REQUIRE(got.has_value());
  CHECK(got->payload == "both set");
  auto stats = relay->stats();
  CHECK(stats.packets_dropped == 2);
  CHECK(stats.packets_from_wrong_source == 0);
  CHECK(stats.packets_relayed == 1);
}

TEST_CASE("MED-3 relay latches the first source port and drops every other source") {
  auto relay = start_relay(61060, 61069);
  auto session = relay->allocate();
  REQUIRE(session.has_value());
  // Phone A signals one port but, behind a NAT, sends from another.
  phone_socket signalled, natted, intruder, b;
  REQUIRE(relay->set_peer(session->id, relay_leg::a, signalled.endpoint()).has_value());
  REQUIRE(relay->set_peer(session->id, relay_leg::b, b.endpoint()).has_value());

  // Before A has sent, media for A goes to the signalled port.
  auto early = through(b, session->port_b, signalled, "before latching");
  REQUIRE(early.has_value());

  REQUIRE(through(natted, session->port_a, b, "first from a").has_value());
  // From now on media for A goes where A sends from.
  auto latched = through(b, session->port_b, natted, "after latching");
  REQUIRE(latched.has_value());
  CHECK(latched->payload == "after latching");
  CHECK(signalled.nothing_waiting());

  // Same address, other port: dropped and counted, not relayed.
  intruder.send_to(session->port_a, "injected");
  signalled.send_to(session->port_a, "signalled port, not latched");
  REQUIRE(dropped_reaches(*relay, 2));
  CHECK(b.nothing_waiting());
  auto stats = relay->stats();
  CHECK(stats.packets_from_wrong_source == 2);
  CHECK(stats.packets_dropped == 2);

  // The latched source keeps working.
  auto still = through(natted, session->port_a, b, "still a");
  REQUIRE(still.has_value());
  CHECK(still->payload == "still a");
}

TEST_CASE("MED-3 relay accepts a leg's media only from its signalled address") {
  auto relay = start_relay(61080, 61089);
  auto session = relay->allocate();
  REQUIRE(session.has_value());
  phone_socket a, b;
  phone_socket other_host(0, "127.0.0.2");
  REQUIRE(other_host.bound());
  REQUIRE(relay->set_peer(session->id, relay_leg::a, a.endpoint()).has_value());
  REQUIRE(relay->set_peer(session->id, relay_leg::b, b.endpoint()).has_value());

  // Arriving first does not let another host latch the leg.
  other_host.send_to(session->port_a, "first but foreign");
  REQUIRE(dropped_reaches(*relay, 1));
  CHECK(b.nothing_waiting());
  CHECK(relay->stats().packets_from_wrong_source == 1);

  auto got = through(a, session->port_a, b, "from the signalled host");
  REQUIRE(got.has_value());
  CHECK(got->payload == "from the signalled host");
  auto back = through(b, session->port_b, a, "back to a");
  REQUIRE(back.has_value());
  CHECK(other_host.nothing_waiting());
}

TEST_CASE("MED-3 set_peer again moves a leg and latches anew") {
  auto relay = start_relay(61100, 61109);
  auto session = relay->allocate();
  REQUIRE(session.has_value());
  phone_socket before, after, b;
  REQUIRE(relay->set_peer(session->id, relay_leg::a, before.endpoint()).has_value());
  REQUIRE(relay->set_peer(session->id, relay_leg::b, b.endpoint()).has_value());
  REQUIRE(through(before, session->port_a, b, "latch before").has_value());

  SUBCASE("the same endpoint keeps the latch") {
    phone_socket natted;
    REQUIRE(relay->set_peer(session->id, relay_leg::a, before.endpoint()).has_value());
    natted.send_to(session->port_a, "not latched");
    REQUIRE(dropped_reaches(*relay, 1));
    CHECK(b.nothing_waiting());
  }

  SUBCASE("another endpoint takes over") {
    REQUIRE(relay->set_peer(session->id, relay_leg::a, after.endpoint()).has_value());
    auto moved = through(b, session->port_b, after, "to the new endpoint");
    REQUIRE(moved.has_value());
    CHECK(before.nothing_waiting());
    REQUIRE(through(after, session->port_a, b, "latch after").has_value());
    before.send_to(session->port_a, "old endpoint");
    REQUIRE(dropped_reaches(*relay, 1));
    CHECK(b.nothing_waiting());
  }
}

TEST_CASE("MED-3 relay drops datagrams longer than its buffers") {
  auto relay = start_relay(61120, 61129);
  auto session = relay->allocate();
  REQUIRE(session.has_value());
  phone_socket a, b;
  REQUIRE(relay->set_peer(session->id, relay_leg::a, a.endpoint()).has_value());
  REQUIRE(relay->set_peer(session->id, relay_leg::b, b.endpoint()).has_value());

  a.send_to(session->port_a, std::string(rtp_relay::max_packet + 1, 'x'));
  REQUIRE(dropped_reaches(*relay, 1));
  CHECK(b.nothing_waiting());
  auto fits = through(a, session->port_a, b, std::string(rtp_relay::max_packet, 'y'));
  REQUIRE(fits.has_value());
  CHECK(fits->payload.size() == rtp_relay::max_packet);
}

TEST_CASE("MED-3 release closes the sockets and returns the ports for reuse") {
  // Two pairs: exactly one session.
  auto relay = start_relay(61140, 61143);
  auto first = relay->allocate();
  REQUIRE(first.has_value());
  CHECK(first->port_a == 61140);
  CHECK(first->port_b == 61142);
  auto none = relay->allocate();
  REQUIRE_FALSE(none.has_value());
  CHECK(none.error().code == relay_errc::exhausted);

  relay->release(first->id);
  relay->release(first->id);
  CHECK(relay->stats().active_sessions == 0);
  {
    // The ports are really closed, not only marked free.
    phone_socket was_rtcp(61143);
    CHECK(was_rtcp.bound());
  }
  auto stale = relay->set_peer(first->id, relay_leg::a, {"127.0.0.1", 5004});
  REQUIRE_FALSE(stale.has_value());
  CHECK(stale.error().code == relay_errc::unknown_session);

  auto again = relay->allocate();
  REQUIRE(again.has_value());
  CHECK(again->id != first->id);
  CHECK(again->port_a == 61140);
  CHECK(again->port_b == 61142);

  // The reused ports belong to the new session only.
  phone_socket a, b;
  REQUIRE(relay->set_peer(again->id, relay_leg::a, a.endpoint()).has_value());
  REQUIRE(relay->set_peer(again->id, relay_leg::b, b.endpoint()).has_value());
  REQUIRE(through(a, again->port_a, b, "reused").has_value());
}

TEST_CASE("MED-3 allocation takes port pairs round robin and skips ports in use") {
  auto relay = start_relay(61160, 61167);
  // Something else holds the RTCP port of the second pair.
  auto blocker = std::make_unique<phone_socket>(61163);
  REQUIRE(blocker->bound());

  auto first = relay->allocate();
  REQUIRE(first.has_value());
  CHECK(first->port_a == 61160);
  CHECK(first->port_b == 61164);
  auto second = relay->allocate();
  REQUIRE_FALSE(second.has_value());
  CHECK(second.error().code == relay_errc::exhausted);

  blocker.reset();
  auto third = relay->allocate();
  REQUIRE(third.has_value());
  // The two pairs left: the freed one and the one the refused allocation gave back.
  CHECK(third->port_a == 61162);
  CHECK(third->port_b == 61166);
}

TEST_CASE("MED-4 relay capacity is the lower of max_sessions and the port range") {
  SUBCASE("the range") {
    // Six pairs: three sessions.
    auto relay = start_relay(61180, 61191);
    CHECK(relay->stats().max_sessions == 3);
    std::vector<std::uint16_t> ports;
    for (int i = 0; i < 3; ++i) {
      auto session = relay->allocate();
      REQUIRE(session.has_value());
      ports.push_back(session->port_a);
      ports.push_back(session->port_b);
    }
    std::sort(ports.begin(), ports.end());
    CHECK(std::adjacent_find(ports.begin(), ports.end()) == ports.end());
    auto refused = relay->allocate();
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == relay_errc::exhausted);
    CHECK(relay->stats().active_sessions == 3);
  }
  SUBCASE("max_sessions") {
    auto relay = start_relay(61200, 61299, 2);
    auto stats = relay->stats();
    CHECK(stats.max_sessions == 2);
    CHECK(stats.active_sessions == 0);
    auto one = relay->allocate();
    auto two = relay->allocate();
    REQUIRE(one.has_value());
    REQUIRE(two.has_value());
    CHECK(relay->stats().active_sessions == 2);
    auto refused = relay->allocate();
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == relay_errc::exhausted);
    relay->release(one->id);
    CHECK(relay->stats().active_sessions == 1);
    CHECK(relay->allocate().has_value());
  }
}

TEST_CASE("SIP-5 MED-3 new sessions take ports only inside the allowed window") {
  // Ten pairs; the policy allows four of them: two sessions.
  auto relay = start_relay(61300, 61319);
  CHECK(relay->stats().max_sessions == 5);
  relay->set_allowed_ports(rtp_port_range{61304, 61311});
  CHECK(relay->stats().max_sessions == 2);
  std::vector<relay_allocation> held;
  for (int i = 0; i < 2; ++i) {
    auto session = relay->allocate();
    REQUIRE(session.has_value());
    for (auto port : {session->port_a, session->port_b}) {
      CHECK(port >= 61304);
      CHECK(port + 1 <= 61311);
    }
    held.push_back(*session);
  }
  auto refused = relay->allocate();
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == relay_errc::exhausted);
  CHECK(refused.error().detail.find("allowed 61304-61311") != std::string::npos);

  // A window that splits a pair leaves that pair out.
  relay->set_allowed_ports(rtp_port_range{61305, 61316});
  CHECK(relay->stats().max_sessions == 2);
  relay->release(held[0].id);
  auto moved = relay->allocate();
  REQUIRE(moved.has_value());
  CHECK(moved->port_a >= 61306);
  CHECK(moved->port_b + 1 <= 61316);

  // Lifted: the whole range again, and the sessions held keep their ports.
  relay->set_allowed_ports(std::nullopt);
  CHECK(relay->stats().max_sessions == 5);
  CHECK(relay->stats().active_sessions == 2);
  CHECK(relay->allocate().has_value());
}

TEST_CASE("MED-3 relay start refuses unusable options") {
  auto refused = [](rtp_relay_options options) {
    return !rtp_relay::start(std::move(options)).has_value();
  };
  CHECK(refused({.address = "127.0.0.1", .ports = {61301, 61310}}));
  CHECK(refused({.address = "127.0.0.1", .ports = {61310, 61310}}));
  CHECK(refused({.address = "127.0.0.1", .ports = {61310, 61300}}));
  // One pair cannot hold the two legs of a session.
  CHECK(refused({.address = "127.0.0.1", .ports = {61310, 61312}}));
  CHECK(refused({.address = "127.0.0.1", .ports = {0, 100}}));
  CHECK(refused({.address = "127.0.0.1", .ports = {61310, 61319}, .max_sessions = 0}));
  CHECK(refused({.address = "localhost", .ports = {61310, 61319}}));
  // Not an address of this host (TEST-NET-1).
  CHECK(refused({.address = "192.0.2.1", .ports = {61310, 61319}}));
}

TEST_CASE("MED-3 set_peer refuses endpoints media must not go to") {
  auto relay = start_relay(61320, 61329);
  auto session = relay->allocate();
  REQUIRE(session.has_value());
  auto code = [&](media_endpoint peer) {
    auto result = relay->set_peer(session->id, relay_leg::a, std::move(peer));
    return result ? std::string("accepted") : std::string(to_string(result.error().code));
  };
  CHECK(code({"phone.example.com", 5004}) == "bad_address");
  CHECK(code({"", 5004}) == "bad_address");
  CHECK(code({"0.0.0.0", 5004}) == "bad_address");
  CHECK(code({"224.0.1.1", 5004}) == "bad_address");
  CHECK(code({"::1", 5004}) == "bad_address");
  CHECK(code({"127.0.0.1", 0}) == "bad_address");
  CHECK(code({"127.0.0.1", 65535}) == "bad_address");
  // Pointing a leg at the relay itself would bounce media between its own sockets.
  CHECK(code({"127.0.0.1", session->port_b}) == "bad_address");
  CHECK(code({"127.0.0.1", 5004, static_cast<std::uint16_t>(session->port_b + 1)}) ==
        "bad_address");
  CHECK(code({"127.0.0.1", 5004}) == "accepted");
  CHECK(code({"127.0.0.1", 65535, 65534}) == "accepted");

  auto unknown = relay->set_peer(session->id + 100, relay_leg::b, {"127.0.0.1", 5004});
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().code == relay_errc::unknown_session);
}

TEST_CASE("MED-3 relay on a dual-stack address relays IPv4 peers") {
  auto started = rtp_relay::start({.address = "::", .ports = {61340, 61349}});
  if (!started) {
    MESSAGE("no IPv6 here: " << started.error());
    return;
  }
  auto& relay = *started;
  auto session = relay->allocate();
  REQUIRE(session.has_value());
  phone_socket a, b;
  REQUIRE(relay->set_peer(session->id, relay_leg::a, a.endpoint()).has_value());
  REQUIRE(relay->set_peer(session->id, relay_leg::b, b.endpoint()).has_value());
  auto got = through(a, session->port_a, b, "v4 through ::");
  REQUIRE(got.has_value());
  CHECK(got->payload == "v4 through ::");
  CHECK(got->from_port == session->port_b);
  // A wildcard relay still recognises its own loopback ports.
  auto own = relay->set_peer(session->id, relay_leg::a, {"127.0.0.1", session->port_b});
  REQUIRE_FALSE(own.has_value());
  CHECK(own.error().code == relay_errc::bad_address);
}

TEST_CASE("MED-3 relay forwards between IPv6 peers") {
  phone_socket a(0, "::1"), b(0, "::1");
  auto started = rtp_relay::start({.address = "::1", .ports = {61360, 61369}});
  if (!a.bound() || !started) {
    MESSAGE("no IPv6 loopback here");
    return;
  }
  auto& relay = *started;
  auto session = relay->allocate();
  REQUIRE(session.has_value());
  REQUIRE(relay->set_peer(session->id, relay_leg::a, a.endpoint()).has_value());
  REQUIRE(relay->set_peer(session->id, relay_leg::b, b.endpoint()).has_value());
  a.send_to(session->port_a, "over v6", "::1");
  auto got = b.receive();
  REQUIRE(got.has_value());
  CHECK(got->payload == "over v6");
  CHECK(got->from_address == "::1");
  // An IPv6-only relay cannot reach an IPv4 phone.
  auto v4 = relay->set_peer(session->id, relay_leg::a, {"127.0.0.1", 5004});
  REQUIRE_FALSE(v4.has_value());
  CHECK(v4.error().code == relay_errc::bad_address);
}

TEST_CASE("MED-3 relay stops within 200 ms and allocates no more") {
  auto relay = start_relay(61380, 61389);
  auto session = relay->allocate();
  REQUIRE(session.has_value());
  auto began = std::chrono::steady_clock::now();
  relay->stop();
  CHECK(std::chrono::steady_clock::now() - began < 200ms);
  relay->stop();
  auto refused = relay->allocate();
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == relay_errc::exhausted);
  // Releasing after stop still frees the ports; the destructor closes whatever is left.
  relay->release(session->id);
  CHECK(relay->stats().active_sessions == 0);
}

TEST_CASE("MED-3 control calls from other threads are safe while media flows") {
  auto relay = start_relay(61400, 61499);
  auto session = relay->allocate();
  REQUIRE(session.has_value());
  phone_socket a, b;
  REQUIRE(relay->set_peer(session->id, relay_leg::a, a.endpoint()).has_value());
  REQUIRE(relay->set_peer(session->id, relay_leg::b, b.endpoint()).has_value());

  // Sessions come and go, with packets in flight to sockets about to close, while the
  // first session carries media.
  std::atomic<bool> churned{false};
  std::thread churn([&] {
    phone_socket c, d;
    for (int i = 0; i < 200; ++i) {
      auto other = relay->allocate();
      if (!other)
        continue;
      (void)relay->set_peer(other->id, relay_leg::a, c.endpoint());
      (void)relay->set_peer(other->id, relay_leg::b, d.endpoint());
      c.send_to(other->port_a, "churn");
      d.send_to(other->port_b, "churn");
      relay->release(other->id);
    }
    churned = true;
  });
  int delivered = 0;
  for (int i = 0; i < 200; ++i) {
    a.send_to(session->port_a, "steady");
    if (b.receive().has_value())
      ++delivered;
  }
  churn.join();
  CHECK(churned.load());
  CHECK(delivered == 200);
  CHECK(relay->stats().active_sessions == 1);
  CHECK(through(b, session->port_b, a, "after churn").has_value());
}

namespace {

// SRTP through the relay. The phones below do their own SRTP with libsrtp2 (srtp_session),
// as a real phone would with the keys of its a=crypto exchange.

constexpr std::string_view suite_80 = "AES_CM_128_HMAC_SHA1_80";
constexpr std::string_view suite_32 = "AES_CM_128_HMAC_SHA1_32";

/// A fresh key as the SDES layer makes one, from a seeded generator.
crypto_attribute key_for(std::uint64_t seed, std::string_view suite = suite_80,
                         srtp_options options = {}) {
  const suite_info* info = find_suite(suite);
  REQUIRE(info != nullptr);
  return make_crypto(1, *info, options, ward::test::seeded_random(seed));
}

/// An RTP packet (PCMU) carrying `payload`.
std::string rtp_packet(std::uint16_t sequence, std::string_view payload,
                       std::uint32_t ssrc = 0x11223344) {
  const unsigned char header[12] = {0x80,
                                    0x00,
                                    static_cast<unsigned char>(sequence >> 8),
                                    static_cast<unsigned char>(sequence),
                                    0x00,
                                    0x00,
                                    0x01,
                                    0x40,
                                    static_cast<unsigned char>(ssrc >> 24),
                                    static_cast<unsigned char>(ssrc >> 16),
                                    static_cast<unsigned char>(ssrc >> 8),
                                    static_cast<unsigned char>(ssrc)};
  return std::string(reinterpret_cast<const char*>(header), sizeof header) + std::string(payload);
}

/// An RTCP sender report without report blocks whose 20 bytes of sender info are `fill`.
std::string rtcp_report(char fill, std::uint32_t ssrc = 0x11223344) {
  const unsigned char header[8] = {0x80,
                                   200,
                                   0x00,
                                   0x06,
                                   static_cast<unsigned char>(ssrc >> 24),
                                   static_cast<unsigned char>(ssrc >> 16),
                                   static_cast<unsigned char>(ssrc >> 8),
                                   static_cast<unsigned char>(ssrc)};
  return std::string(reinterpret_cast<const char*>(header), sizeof header) + std::string(20, fill);
}

/// One direction of a phone's SRTP, on whole datagrams.
class phone_srtp {
public:
  phone_srtp(const crypto_attribute& key, direction dir) : session_(make(key, dir)) {}

  std::string protect(std::string_view packet, bool rtcp = false) {
    auto length = load(packet);
    auto done =
        rtcp ? session_.protect_rtcp(buffer_, length) : session_.protect_rtp(buffer_, length);
    REQUIRE(done.has_value());
    return {reinterpret_cast<const char*>(buffer_.data()), *done};
  }
  std::optional<std::string> unprotect(std::string_view packet, bool rtcp = false) {
    auto length = load(packet);
    auto done =
        rtcp ? session_.unprotect_rtcp(buffer_, length) : session_.unprotect_rtp(buffer_, length);
    if (!done)
      return std::nullopt;
    return std::string(reinterpret_cast<const char*>(buffer_.data()), *done);
  }

private:
  static srtp_session make(const crypto_attribute& key, direction dir) {
    auto made = srtp_session::create(*key.suite, key.key(), key.options, dir);
    REQUIRE(made.has_value());
    return std::move(*made);
  }
  std::size_t load(std::string_view packet) {
    REQUIRE(packet.size() <= buffer_.size() - 64);
    std::memcpy(buffer_.data(), packet.data(), packet.size());
    return packet.size();
  }

  srtp_session session_;
  alignas(4) std::array<std::byte, 4096> buffer_{};
};

/// A phone on an SRTP leg: it protects with its own key (the leg's inbound key) and
/// unprotects with the key Ward gave it (the leg's outbound key).
struct srtp_phone {
  phone_srtp send;
  phone_srtp receive;
  explicit srtp_phone(const leg_crypto& keys)
      : send(keys.inbound, direction::outbound), receive(keys.outbound, direction::inbound) {}
};

/// Four independent keys: each phone's and Ward's for each leg.
leg_crypto leg_keys(std::uint64_t seed, std::string_view suite = suite_80,
                    srtp_options options = {}) {
  return {key_for(seed, suite, options), key_for(seed + 1000, suite, options)};
}

/// A relayed call: two phones with RTP and RTCP sockets on ephemeral ports (RTCP signalled
/// as by a=rtcp), both peers set.
struct relayed_call {
  std::unique_ptr<rtp_relay> relay;
  relay_allocation ports;
  phone_socket a_rtp, a_rtcp, b_rtp, b_rtcp;

  relayed_call(std::uint16_t first, std::uint16_t last) : relay(start_relay(first, last)) {
    auto allocated = relay->allocate();
    REQUIRE(allocated.has_value());
    ports = *allocated;
    REQUIRE(relay->set_peer(ports.id, relay_leg::a, {"127.0.0.1", a_rtp.port(), a_rtcp.port()})
                .has_value());
    REQUIRE(relay->set_peer(ports.id, relay_leg::b, {"127.0.0.1", b_rtp.port(), b_rtcp.port()})
                .has_value());
  }
  void set_crypto(relay_leg leg, std::optional<leg_crypto> keys) {
    auto done = relay->set_crypto(ports.id, leg, std::move(keys));
    REQUIRE_MESSAGE(done.has_value(), (done ? std::string() : done.error().detail));
  }
  std::uint16_t rtcp_a() const { return static_cast<std::uint16_t>(ports.port_a + 1); }
  std::uint16_t rtcp_b() const { return static_cast<std::uint16_t>(ports.port_b + 1); }
  session_stats session() const {
    auto found = relay->stats(ports.id);
    REQUIRE(found.has_value());
    return *found;
  }
  bool auth_failures_reach(std::uint64_t count) const {
    return eventually([&] { return relay->stats().packets_auth_failed >= count; });
  }
};

} // namespace

TEST_CASE("MED-3 the relay converts RTP from one leg to SRTP on the other") {
  relayed_call call(61500, 61509);
  auto keys_b = leg_keys(1);
  call.set_crypto(relay_leg::b, keys_b);
  srtp_phone b(keys_b);

  const auto plain = rtp_packet(1, "hello from a, a plain RTP phone");
  auto wire = through(call.a_rtp, call.ports.port_a, call.b_rtp, plain);
  REQUIRE(wire.has_value());
  CHECK(wire->from_port == call.ports.port_b);
  // Encrypted and tagged on B's leg: the header stays, the payload does not.
  CHECK(wire->payload.size() == plain.size() + 10);
  CHECK(wire->payload.substr(0, 12) == plain.substr(0, 12));
  CHECK(wire->payload.substr(12, plain.size() - 12) != plain.substr(12));
  auto opened = b.receive.unprotect(wire->payload);
  REQUIRE(opened.has_value());
  CHECK(*opened == plain);

  auto stats = call.relay->stats();
  CHECK(stats.packets_relayed == 1);
  CHECK(stats.packets_protected == 1);
  CHECK(stats.packets_unprotected == 0);
  auto session = call.session();
  CHECK_FALSE(session.a.secure);
  CHECK(session.b.secure);
  CHECK(session.leg(relay_leg::a).packets_relayed == 1);
  CHECK(session.b.packets_relayed == 0);

  auto unknown = call.relay->stats(call.ports.id + 1);
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().code == relay_errc::unknown_session);
}

TEST_CASE("MED-3 the relay converts SRTP from one leg to RTP on the other") {
  relayed_call call(61510, 61519);
  auto keys_b = leg_keys(2);
  call.set_crypto(relay_leg::b, keys_b);
  srtp_phone b(keys_b);

  const auto plain = rtp_packet(7, "hello from b, an SRTP phone");
  auto sent = b.send.protect(plain);
  CHECK(sent != plain);
  auto at_a = through(call.b_rtp, call.ports.port_b, call.a_rtp, sent);
  REQUIRE(at_a.has_value());
  CHECK(at_a->payload == plain);
  CHECK(at_a->from_port == call.ports.port_a);
  auto stats = call.relay->stats();
  CHECK(stats.packets_unprotected == 1);
  CHECK(stats.packets_protected == 0);
  CHECK(call.session().b.packets_relayed == 1);

  // A burst larger than one batch arrives whole and in order.
  for (std::uint16_t i = 0; i < 100; ++i)
    call.b_rtp.send_to(call.ports.port_b,
                       b.send.protect(rtp_packet(static_cast<std::uint16_t>(8 + i), "burst")));
  for (std::uint16_t i = 0; i < 100; ++i) {
    auto got = call.a_rtp.receive();
    REQUIRE(got.has_value());
    CHECK(got->payload == rtp_packet(static_cast<std::uint16_t>(8 + i), "burst"));
  }
  CHECK(call.relay->stats().packets_auth_failed == 0);
}

TEST_CASE("MED-3 the relay re-keys SRTP between two SRTP legs") {
  relayed_call call(61520, 61529);
  // Different keys on every hop, and another tag length on leg B.
  auto keys_a = leg_keys(3);
  auto keys_b = leg_keys(4, suite_32);
  call.set_crypto(relay_leg::a, keys_a);
  call.set_crypto(relay_leg::b, keys_b);
  srtp_phone a(keys_a);
  srtp_phone b(keys_b);

  const auto from_a = rtp_packet(100, "a to b, re-keyed on the way");
  const auto sent_by_a = a.send.protect(from_a);
  auto at_b = through(call.a_rtp, call.ports.port_a, call.b_rtp, sent_by_a);
  REQUIRE(at_b.has_value());
  CHECK(at_b->payload.size() == from_a.size() + 4);
  CHECK(at_b->payload.substr(12, from_a.size() - 12) != sent_by_a.substr(12, from_a.size() - 12));
  CHECK(at_b->payload.substr(12, from_a.size() - 12) != from_a.substr(12));
  auto opened_b = b.receive.unprotect(at_b->payload);
  REQUIRE(opened_b.has_value());
  CHECK(*opened_b == from_a);

  const auto from_b = rtp_packet(200, "b to a", 0x55667788);
  auto at_a = through(call.b_rtp, call.ports.port_b, call.a_rtp, b.send.protect(from_b));
  REQUIRE(at_a.has_value());
  CHECK(at_a->payload.size() == from_b.size() + 10);
  auto opened_a = a.receive.unprotect(at_a->payload);
  REQUIRE(opened_a.has_value());
  CHECK(*opened_a == from_b);

  auto stats = call.relay->stats();
  CHECK(stats.packets_relayed == 2);
  CHECK(stats.packets_unprotected == 2);
  CHECK(stats.packets_protected == 2);
  auto session = call.session();
  CHECK(session.a.secure);
  CHECK(session.b.secure);
  CHECK(session.a.packets_relayed == 1);
  CHECK(session.b.packets_relayed == 1);
}

TEST_CASE("MED-1 the relay carries RTCP as SRTCP on SRTP legs both ways") {
  relayed_call call(61530, 61539);
  // SRTCP encryption off on leg A (Ward's default), on for leg B.
  auto keys_a = leg_keys(5);
  auto keys_b = leg_keys(6, suite_80, {.rtcp_encryption = true});
  call.set_crypto(relay_leg::a, keys_a);
  call.set_crypto(relay_leg::b, keys_b);
  srtp_phone a(keys_a);
  srtp_phone b(keys_b);

  const auto report_a = rtcp_report('a');
  auto at_b = through(call.a_rtcp, call.rtcp_a(), call.b_rtcp, a.send.protect(report_a, true));
  REQUIRE(at_b.has_value());
  CHECK(at_b->from_port == call.rtcp_b());
  // E flag and index, then the 80-bit tag; encrypted on leg B.
  CHECK(at_b->payload.size() == report_a.size() + 14);
  CHECK(at_b->payload.substr(8, 20) != report_a.substr(8));
  auto opened_b = b.receive.unprotect(at_b->payload, true);
  REQUIRE(opened_b.has_value());
  CHECK(*opened_b == report_a);

  const auto report_b = rtcp_report('b', 0x55667788);
  auto at_a = through(call.b_rtcp, call.rtcp_b(), call.a_rtcp, b.send.protect(report_b, true));
  REQUIRE(at_a.has_value());
  // Authenticated but not encrypted on leg A.
  CHECK(at_a->payload.size() == report_b.size() + 14);
  CHECK(at_a->payload.substr(8, 20) == report_b.substr(8));
  auto opened_a = a.receive.unprotect(at_a->payload, true);
  REQUIRE(opened_a.has_value());
  CHECK(*opened_a == report_b);
  // RTCP went to the RTCP sockets only.
  CHECK(call.a_rtp.nothing_waiting());
  CHECK(call.b_rtp.nothing_waiting());

  SUBCASE("to and from a plain leg") {
    call.set_crypto(relay_leg::b, std::nullopt);
    auto plain_b =
        through(call.a_rtcp, call.rtcp_a(), call.b_rtcp, a.send.protect(rtcp_report('c'), true));
    REQUIRE(plain_b.has_value());
    CHECK(plain_b->payload == rtcp_report('c'));
    auto secured_a = through(call.b_rtcp, call.rtcp_b(), call.a_rtcp, rtcp_report('d', 0x55667788));
    REQUIRE(secured_a.has_value());
    auto opened = a.receive.unprotect(secured_a->payload, true);
    REQUIRE(opened.has_value());
    CHECK(*opened == rtcp_report('d', 0x55667788));
  }
}

TEST_CASE("MED-5 tampered SRTP and SRTCP packets are dropped and counted") {
  relayed_call call(61540, 61549);
  auto keys_a = leg_keys(7);
  call.set_crypto(relay_leg::a, keys_a);
  srtp_phone a(keys_a);

  auto tampered = a.send.protect(rtp_packet(1, "to be tampered with"));
  tampered[20] = static_cast<char>(tampered[20] ^ 0x01);
  call.a_rtp.send_to(call.ports.port_a, tampered);
  REQUIRE(call.auth_failures_reach(1));
  CHECK(call.b_rtp.nothing_waiting());

  auto tampered_report = a.send.protect(rtcp_report('t'), true);
  tampered_report[10] = static_cast<char>(tampered_report[10] ^ 0x80);
  call.a_rtcp.send_to(call.rtcp_a(), tampered_report);
  REQUIRE(call.auth_failures_reach(2));
  CHECK(call.b_rtcp.nothing_waiting());

  // Keyed with another key: the same as forged.
  phone_srtp stranger(key_for(99), direction::outbound);
  call.a_rtp.send_to(call.ports.port_a, stranger.protect(rtp_packet(2, "wrong key")));
  REQUIRE(call.auth_failures_reach(3));
  CHECK(call.b_rtp.nothing_waiting());

  auto stats = call.relay->stats();
  CHECK(stats.packets_auth_failed == 3);
  CHECK(stats.packets_dropped == 3);
  CHECK(stats.packets_relayed == 0);
  CHECK(call.session().a.packets_auth_failed == 3);

  // Media that authenticates still flows.
  auto good =
      through(call.a_rtp, call.ports.port_a, call.b_rtp, a.send.protect(rtp_packet(3, "genuine")));
  REQUIRE(good.has_value());
  CHECK(good->payload == rtp_packet(3, "genuine"));
}

TEST_CASE("MED-5 replayed SRTP and SRTCP packets are dropped and counted") {
  relayed_call call(61550, 61559);
  auto keys_a = leg_keys(8);
  auto keys_b = leg_keys(9);
  call.set_crypto(relay_leg::a, keys_a);
  call.set_crypto(relay_leg::b, keys_b);
  srtp_phone a(keys_a);

  const auto packet = a.send.protect(rtp_packet(10, "said once"));
  REQUIRE(through(call.a_rtp, call.ports.port_a, call.b_rtp, packet).has_value());
  call.a_rtp.send_to(call.ports.port_a, packet);
  REQUIRE(call.auth_failures_reach(1));
  CHECK(call.b_rtp.nothing_waiting());

  const auto report = a.send.protect(rtcp_report('r'), true);
  REQUIRE(through(call.a_rtcp, call.rtcp_a(), call.b_rtcp, report).has_value());
  call.a_rtcp.send_to(call.rtcp_a(), report);
  REQUIRE(call.auth_failures_reach(2));
  CHECK(call.b_rtcp.nothing_waiting());

  auto stats = call.relay->stats();
  CHECK(stats.packets_auth_failed == 2);
  CHECK(stats.packets_relayed == 2);
  CHECK(call.session().a.packets_auth_failed == 2);
  CHECK(call.session().b.packets_auth_failed == 0);
}

TEST_CASE("MED-5 on an SRTP leg only a packet that authenticates latches the source") {
  relayed_call call(61560, 61569);
  auto keys_a = leg_keys(10);
  call.set_crypto(relay_leg::a, keys_a);
  srtp_phone a(keys_a);

  // From the signalled host, first, but forged: it must not take the leg's media.
  phone_socket intruder;
  phone_srtp stranger(key_for(98), direction::outbound);
  intruder.send_to(call.ports.port_a, stranger.protect(rtp_packet(1, "forged")));
  REQUIRE(call.auth_failures_reach(1));

  REQUIRE(through(call.a_rtp, call.ports.port_a, call.b_rtp, a.send.protect(rtp_packet(2, "real")))
              .has_value());
  auto back = through(call.b_rtp, call.ports.port_b, call.a_rtp, rtp_packet(3, "to the real a"));
  REQUIRE(back.has_value());
  CHECK(intruder.nothing_waiting());
}

TEST_CASE("MED-3 set_crypto again re-keys a leg") {
  relayed_call call(61570, 61579);
  auto old_keys = leg_keys(11);
  call.set_crypto(relay_leg::b, old_keys);
  srtp_phone old_b(old_keys);
  REQUIRE(through(call.b_rtp, call.ports.port_b, call.a_rtp, old_b.send.protect(rtp_packet(1, "x")))
              .has_value());

  SUBCASE("new keys replace the old ones") {
    auto new_keys = leg_keys(12);
    call.set_crypto(relay_leg::b, new_keys);
    srtp_phone new_b(new_keys);

    auto at_b = through(call.a_rtp, call.ports.port_a, call.b_rtp, rtp_packet(2, "after re-key"));
    REQUIRE(at_b.has_value());
    CHECK_FALSE(old_b.receive.unprotect(at_b->payload).has_value());
    auto opened = new_b.receive.unprotect(at_b->payload);
    REQUIRE(opened.has_value());
    CHECK(*opened == rtp_packet(2, "after re-key"));

    // The phone's old key no longer authenticates.
    call.b_rtp.send_to(call.ports.port_b, old_b.send.protect(rtp_packet(3, "old key")));
    REQUIRE(call.auth_failures_reach(1));
    CHECK(call.a_rtp.nothing_waiting());
    auto fresh = through(call.b_rtp, call.ports.port_b, call.a_rtp,
                         new_b.send.protect(rtp_packet(4, "new key")));
    REQUIRE(fresh.has_value());
    CHECK(fresh->payload == rtp_packet(4, "new key"));
  }

  SUBCASE("the same keys keep the sessions and their replay windows") {
    const auto packet = old_b.send.protect(rtp_packet(2, "before the refresh"));
    REQUIRE(through(call.b_rtp, call.ports.port_b, call.a_rtp, packet).has_value());
    auto same = old_keys;
    same.inbound.tag = 2;
    call.set_crypto(relay_leg::b, same);
    call.b_rtp.send_to(call.ports.port_b, packet);
    REQUIRE(call.auth_failures_reach(1));
    CHECK(call.a_rtp.nothing_waiting());
    // Ward's key for B was kept too: B's receiving session follows on.
    auto at_b = through(call.a_rtp, call.ports.port_a, call.b_rtp, rtp_packet(3, "still keyed"));
    REQUIRE(at_b.has_value());
    CHECK(old_b.receive.unprotect(at_b->payload) == rtp_packet(3, "still keyed"));
  }
}

TEST_CASE("MED-3 set_crypto without keys switches a leg back to plain RTP") {
  relayed_call call(61580, 61589);
  auto keys_a = leg_keys(13);
  auto keys_b = leg_keys(14);
  call.set_crypto(relay_leg::a, keys_a);
  call.set_crypto(relay_leg::b, keys_b);
  srtp_phone a(keys_a);
  srtp_phone b(keys_b);
  REQUIRE(
      through(call.b_rtp, call.ports.port_b, call.a_rtp, b.send.protect(rtp_packet(1, "secure")))
          .has_value());

  call.set_crypto(relay_leg::b, std::nullopt);
  CHECK_FALSE(call.session().b.secure);
  auto plain_at_b =
      through(call.a_rtp, call.ports.port_a, call.b_rtp, a.send.protect(rtp_packet(2, "to plain")));
  REQUIRE(plain_at_b.has_value());
  CHECK(plain_at_b->payload == rtp_packet(2, "to plain"));
  auto secure_at_a =
      through(call.b_rtp, call.ports.port_b, call.a_rtp, rtp_packet(3, "from plain"));
  REQUIRE(secure_at_a.has_value());
  CHECK(a.receive.unprotect(secure_at_a->payload) == rtp_packet(3, "from plain"));
}

TEST_CASE("MED-1 set_crypto refuses keys it cannot use and keeps the leg as it was") {
  relayed_call call(61590, 61599);
  auto code = [&](relay_leg leg, std::optional<leg_crypto> keys, std::uint64_t id = 0) {
    auto done = call.relay->set_crypto(id != 0 ? id : call.ports.id, leg, std::move(keys));
    return done ? std::string("accepted") : std::string(to_string(done.error().code));
  };
  auto no_suite = leg_keys(15);
  no_suite.outbound.suite = nullptr;
  CHECK(code(relay_leg::a, no_suite) == "bad_crypto");
  auto with_mki = leg_keys(16);
  with_mki.inbound.mki = mki_parameter{1, 4};
  CHECK(code(relay_leg::a, with_mki) == "bad_crypto");
  CHECK(code(relay_leg::a, leg_keys(17), call.ports.id + 1) == "unknown_session");
  CHECK_FALSE(call.session().a.secure);
  // Still plain RTP on both legs.
  auto got = through(call.a_rtp, call.ports.port_a, call.b_rtp, "plain still");
  REQUIRE(got.has_value());
  CHECK(got->payload == "plain still");
  CHECK(code(relay_leg::a, std::nullopt) == "accepted");
  CHECK(code(relay_leg::a, leg_keys(18)) == "accepted");
  CHECK(call.session().a.secure);
}

TEST_CASE("MED-3 set_crypto from another thread is safe while SRTP media flows") {
  relayed_call call(61600, 61609);
  auto keys_a = leg_keys(19);
  auto keys_b = leg_keys(20);
  call.set_crypto(relay_leg::a, keys_a);
  call.set_crypto(relay_leg::b, keys_b);
  srtp_phone a(keys_a);
  srtp_phone b(keys_b);

  // Refreshed offers with the same keys (kept sessions) and re-keys of a leg without media,
  // as fast as they come, while A's media flows to B.
  auto other = call.relay->allocate();
  REQUIRE(other.has_value());
  std::vector<leg_crypto> rekeys;
  for (std::uint64_t seed = 100; seed < 107; ++seed)
    rekeys.push_back(leg_keys(seed));
  std::atomic<bool> done{false};
  std::thread churn([&] {
    for (std::size_t i = 0; !done.load(); ++i) {
      (void)call.relay->set_crypto(call.ports.id, relay_leg::b, keys_b);
      (void)call.relay->set_crypto(other->id, relay_leg::a, rekeys[i % rekeys.size()]);
      (void)call.relay->set_crypto(other->id, relay_leg::a, std::nullopt);
    }
  });
  int delivered = 0;
  for (std::uint16_t i = 0; i < 200; ++i) {
    const auto plain = rtp_packet(i, "during churn");
    call.a_rtp.send_to(call.ports.port_a, a.send.protect(plain));
    auto got = call.b_rtp.receive();
    if (got && b.receive.unprotect(got->payload) == plain)
      ++delivered;
  }
  done = true;
  churn.join();
  CHECK(delivered == 200);
  CHECK(call.relay->stats().packets_auth_failed == 0);
}
