#include "media/relay_pool.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <string>

using namespace ward::media;

namespace {

/// A phone's media socket on 127.0.0.1 with a port the kernel picks.
struct phone {
  int fd = -1;
  std::uint16_t port = 0;
  phone() {
    fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    port = ntohs(address.sin_port);
  }
  ~phone() { ::close(fd); }
  void send_to(std::uint16_t to, const std::string& payload) const {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(to);
    ::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&address),
             sizeof address);
  }
  std::string receive() const {
    pollfd waiting{fd, POLLIN, 0};
    if (::poll(&waiting, 1, 2000) <= 0)
      return {};
    std::array<char, 2048> buffer{};
    auto got = ::recv(fd, buffer.data(), buffer.size(), 0);
    return got > 0 ? std::string(buffer.data(), static_cast<std::size_t>(got)) : std::string{};
  }
};

std::string rtp_packet(std::uint16_t sequence) {
  std::string packet(12 + 160, '\x55');
  packet[0] = '\x80';
  packet[2] = static_cast<char>(sequence >> 8);
  packet[3] = static_cast<char>(sequence & 0xff);
  return packet;
}

} // namespace

TEST_CASE("MED-3 the media workers split the port range and share the sessions") {
  auto pool = relay_pool::start(
      {.address = "127.0.0.1", .ports = {61500, 61599}, .max_sessions = 10, .workers = 2});
  REQUIRE(pool.has_value());
  auto& workers = **pool;
  REQUIRE(workers.workers() == 2);
  auto slices = workers.slices();
  CHECK(slices[0].first == 61500);
  CHECK(slices[1].last == 61599);
  CHECK(slices[0].last + 1 == slices[1].first);
  CHECK(workers.stats().max_sessions == 10);

  // The least loaded worker takes each new session: one each.
  auto first = workers.allocate();
  auto second = workers.allocate();
  REQUIRE(first.has_value());
  REQUIRE(second.has_value());
  CHECK(first->id != second->id);
  bool first_low = first->port_a <= slices[0].last;
  bool second_low = second->port_a <= slices[0].last;
  CHECK(first_low != second_low);
  CHECK(workers.stats().active_sessions == 2);

  // Media flows through a session on either worker, addressed by the pool's id.
  for (const auto& session : {*first, *second}) {
    phone a, b;
    REQUIRE(workers.set_peer(session.id, relay_leg::a, {"127.0.0.1", a.port}).has_value());
    REQUIRE(workers.set_peer(session.id, relay_leg::b, {"127.0.0.1", b.port}).has_value());
    a.send_to(session.port_a, rtp_packet(1));
    CHECK(b.receive() == rtp_packet(1));
    b.send_to(session.port_b, rtp_packet(2));
    CHECK(a.receive() == rtp_packet(2));
  }
  CHECK(workers.stats().packets_relayed == 4);

  workers.release(first->id);
  workers.release(second->id);
  CHECK(workers.stats().active_sessions == 0);
  CHECK_FALSE(workers.set_peer(first->id, relay_leg::a, {"127.0.0.1", 4000}).has_value());
}

TEST_CASE("MED-3 a full worker does not refuse a call another worker can take") {
  auto pool = relay_pool::start(
      {.address = "127.0.0.1", .ports = {61600, 61615}, .max_sessions = 4, .workers = 2});
  REQUIRE(pool.has_value());
  auto& workers = **pool;
  // Two sessions per worker: four in all, then the pool is exhausted.
  for (int i = 0; i < 4; ++i)
    CHECK(workers.allocate().has_value());
  auto refused = workers.allocate();
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == relay_errc::exhausted);
}
