#include "media/rtp_relay.hpp"

#include "core/enum_names.hpp"
#include "core/net_address.hpp"
#include "media/srtp_session.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string.h>
#include <system_error>
#include <utility>

namespace ward::media {

/// A numeric socket address with its length, as the socket calls take it.
struct rtp_relay::address {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

struct rtp_relay::leg_srtp {
  /// The attributes the sessions were made from, so that set_crypto with an unchanged key
  /// keeps its session. Wiped with the sessions.
  leg_crypto keys;
  /// Unprotects what the leg's peer sends.
  srtp_session inbound;
  /// Protects what the relay sends to the leg's peer.
  srtp_session outbound;

  leg_srtp(leg_crypto keys, srtp_session inbound, srtp_session outbound)
      : keys(std::move(keys)), inbound(std::move(inbound)), outbound(std::move(outbound)) {}
  leg_srtp(const leg_srtp&) = delete;
  leg_srtp& operator=(const leg_srtp&) = delete;
  ~leg_srtp() {
    explicit_bzero(keys.inbound.key_and_salt.data(), keys.inbound.key_and_salt.size());
    explicit_bzero(keys.outbound.key_and_salt.data(), keys.outbound.key_and_salt.size());
  }
};

struct rtp_relay::leg_state {
  /// One socket of the leg and the source it latched (symmetric RTP).
  struct port_socket {
    int fd = -1;
    bool latched = false;
    sockaddr_storage source{};
    socklen_t source_length = 0;
  };

  /// Index of the leg's port pair in pair_in_use_, or none while unbound.
  std::size_t pair = std::numeric_limits<std::size_t>::max();
  std::uint16_t port = 0;
  port_socket rtp;
  port_socket rtcp;
  /// Set by set_peer: where the peer receives, and (host part) what it may send from.
  bool has_peer = false;
  address peer_rtp;
  address peer_rtcp;
  /// Set by set_crypto; null while the leg is plain RTP. Replaced whole under mutex_, so the
  /// relay thread, which holds it for a batch, sees either the old keys or the new ones.
  std::unique_ptr<leg_srtp> srtp;
  /// What the leg's peer sent, counted per batch (session_stats).
  std::uint64_t relayed = 0;
  std::uint64_t auth_failed = 0;
};

struct rtp_relay::session {
  std::uint64_t id = 0;
  std::array<leg_state, 2> legs;
};

struct rtp_relay::batch {
  /// A packet and the room protection appends; aligned for libsrtp2, which reads the header
  /// as 32-bit words.
  struct alignas(16) buffer {
    std::array<std::byte, max_packet + srtp_headroom> bytes;
  };
  std::array<buffer, batch_size> buffers{};
  std::array<sockaddr_storage, batch_size> sources{};
  std::array<iovec, batch_size> receive_vectors{};
  std::array<mmsghdr, batch_size> received{};
  std::array<iovec, batch_size> send_vectors{};
  std::array<mmsghdr, batch_size> outgoing{};
};

namespace {

/// The epoll token of the stop eventfd. Session tokens are the id (from 1) shifted past a leg
/// bit and an RTCP bit, so they never collide with it.
constexpr std::uint64_t wake_token = 0;

std::uint64_t token_of(std::uint64_t id, std::size_t leg, bool rtcp) {
  return (id << 2) | (static_cast<std::uint64_t>(leg) << 1) | (rtcp ? 1U : 0U);
}

/// Parses a numeric IPv4 or IPv6 address; host names are refused since resolving one would
/// block the caller and let DNS choose where media goes.
std::optional<sockaddr_storage> parse_host(const std::string& text) {
  auto address = parse_ip_address(text);
  if (!address)
    return std::nullopt;
  return to_socket_address({*address, 0}).storage;
}

socklen_t length_of(const sockaddr_storage& storage) {
  return storage.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

void set_port(sockaddr_storage& storage, std::uint16_t port) {
  if (storage.ss_family == AF_INET6)
    reinterpret_cast<sockaddr_in6&>(storage).sin6_port = htons(port);
  else
    reinterpret_cast<sockaddr_in&>(storage).sin_port = htons(port);
}

std::uint16_t port_of(const sockaddr_storage& storage) {
  if (storage.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<const sockaddr_in6&>(storage).sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in&>(storage).sin_port);
}

bool same_host(const sockaddr_storage& left, const sockaddr_storage& right) {
  if (left.ss_family != right.ss_family)
    return false;
  if (left.ss_family == AF_INET6)
    return std::memcmp(&reinterpret_cast<const sockaddr_in6&>(left).sin6_addr,
                       &reinterpret_cast<const sockaddr_in6&>(right).sin6_addr,
                       sizeof(in6_addr)) == 0;
  return reinterpret_cast<const sockaddr_in&>(left).sin_addr.s_addr ==
         reinterpret_cast<const sockaddr_in&>(right).sin_addr.s_addr;
}

bool same_endpoint(const sockaddr_storage& left, const sockaddr_storage& right) {
  return same_host(left, right) && port_of(left) == port_of(right);
}

/// The IPv4 address inside an IPv4 or v4-mapped IPv6 address, in network order.
std::optional<std::uint32_t> ipv4_of(const sockaddr_storage& storage) {
  if (storage.ss_family == AF_INET)
    return reinterpret_cast<const sockaddr_in&>(storage).sin_addr.s_addr;
  const auto& v6 = reinterpret_cast<const sockaddr_in6&>(storage).sin6_addr;
  if (!IN6_IS_ADDR_V4MAPPED(&v6))
    return std::nullopt;
  std::uint32_t v4 = 0;
  std::memcpy(&v4, v6.s6_addr + 12, sizeof v4);
  return v4;
}

bool is_unspecified(const sockaddr_storage& storage) {
  if (auto v4 = ipv4_of(storage))
    return *v4 == htonl(INADDR_ANY);
  return IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6&>(storage).sin6_addr);
}

bool is_multicast(const sockaddr_storage& storage) {
  if (auto v4 = ipv4_of(storage))
    return IN_MULTICAST(ntohl(*v4));
  return IN6_IS_ADDR_MULTICAST(&reinterpret_cast<const sockaddr_in6&>(storage).sin6_addr);
}

bool is_loopback(const sockaddr_storage& storage) {
  if (auto v4 = ipv4_of(storage))
    return (ntohl(*v4) >> 24) == IN_LOOPBACKNET;
  return IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<const sockaddr_in6&>(storage).sin6_addr);
}

/// `host` as a socket of `family` can send to it: IPv4 becomes v4-mapped for an IPv6 socket.
std::optional<sockaddr_storage> for_family(const sockaddr_storage& host, sa_family_t family) {
  if (host.ss_family == family)
    return host;
  if (host.ss_family != AF_INET || family != AF_INET6)
    return std::nullopt;
  sockaddr_storage mapped{};
  auto& v6 = reinterpret_cast<sockaddr_in6&>(mapped);
  v6.sin6_family = AF_INET6;
  v6.sin6_addr.s6_addr[10] = 0xff;
  v6.sin6_addr.s6_addr[11] = 0xff;
  std::memcpy(v6.sin6_addr.s6_addr + 12, &reinterpret_cast<const sockaddr_in&>(host).sin_addr,
              sizeof(in_addr));
  return mapped;
}

/// A non-blocking UDP socket bound to `host`:`port`, or the errno that refused it.
std::expected<int, int> bind_udp(const sockaddr_storage& host, std::uint16_t port) {
  auto local = host;
  set_port(local, port);
  int fd = ::socket(local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return std::unexpected(errno);
  if (local.ss_family == AF_INET6 && is_unspecified(local)) {
    // IPv4 peers reach a "::" relay as v4-mapped addresses, whatever the host's default.
    int no = 0;
    (void)::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &no, sizeof no);
  }
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&local), length_of(local)) != 0) {
    int why = errno;
    ::close(fd);
    return std::unexpected(why);
  }
  return fd;
}

} // namespace

constexpr auto relay_errc_names =
    name_table(enum_name{relay_errc::exhausted, "exhausted"},
               enum_name{relay_errc::unknown_session, "unknown_session"},
               enum_name{relay_errc::bad_address, "bad_address"},
               enum_name{relay_errc::socket_failure, "socket_failure"},
               enum_name{relay_errc::bad_crypto, "bad_crypto"},
               enum_name{relay_errc::invalid_config, "invalid_config"});

std::string_view to_string(relay_errc code) {
  return name_of(relay_errc_names, code, "socket_failure");
}

std::expected<std::unique_ptr<rtp_relay>, relay_error> rtp_relay::start(rtp_relay_options options) {
  const auto& ports = options.ports;
  if (ports.first == 0 || ports.first % 2 != 0)
    return std::unexpected(relay_error{relay_errc::invalid_config,
                                       "the RTP port range must start on a non-zero even port"});
  if (ports.first >= ports.last)
    return std::unexpected(relay_error{relay_errc::invalid_config,
                                       "the RTP port range must end above its first port"});
  // The last port of an odd-sized range has no RTCP partner and is never used.
  const std::size_t pairs = (static_cast<std::size_t>(ports.last) - ports.first + 1) / 2;
  if (pairs < 2)
    return std::unexpected(relay_error{relay_errc::invalid_config,
                                       "the RTP port range must hold two port pairs, one per leg"});
  if (options.max_sessions == 0)
    return std::unexpected(
        relay_error{relay_errc::invalid_config, "max_sessions must be positive"});
  auto host = parse_host(options.address);
  if (!host)
    return std::unexpected(
        relay_error{relay_errc::bad_address, "not a numeric IP address: " + options.address});
  // A trial bind finds an address that is not local now rather than at the first call.
  auto trial = bind_udp(*host, 0);
  if (!trial)
    return std::unexpected(
        relay_error{relay_errc::socket_failure,
                    "cannot bind UDP " + options.address + ": " + std::strerror(trial.error())});
  ::close(*trial);

  int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  int wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event wake{};
  wake.events = EPOLLIN;
  wake.data.u64 = wake_token;
  if (epoll_fd < 0 || wake_fd < 0 || ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &wake) != 0) {
    auto why = std::string(std::strerror(errno));
    for (int fd : {epoll_fd, wake_fd})
      if (fd >= 0)
        ::close(fd);
    return std::unexpected(relay_error{relay_errc::socket_failure,
                                       "cannot create the relay's epoll descriptors: " + why});
  }
  const auto max_sessions = std::min(options.max_sessions, pairs / 2);
  std::unique_ptr<rtp_relay> relay(new rtp_relay(
      std::move(options), address{*host, length_of(*host)}, epoll_fd, wake_fd, max_sessions));
  try {
    relay->thread_ = std::thread([self = relay.get()] { self->run(); });
  } catch (const std::system_error& failure) {
    return std::unexpected(
        relay_error{relay_errc::socket_failure,
                    std::string("cannot start the relay thread: ") + failure.what()});
  }
  return relay;
}

rtp_relay::rtp_relay(rtp_relay_options options, const address& bind_address, int epoll_fd,
                     int wake_fd, std::size_t max_sessions)
    : options_(std::move(options)), bind_address_(std::make_unique<address>(bind_address)),
      epoll_fd_(epoll_fd), wake_fd_(wake_fd), max_sessions_(max_sessions),
      pair_in_use_((static_cast<std::size_t>(options_.ports.last) - options_.ports.first + 1) / 2,
                   false),
      batch_(std::make_unique<batch>()) {
  sessions_.reserve(max_sessions_);
  // The receive side never changes where it reads to; only lengths and flags come back.
  for (std::size_t i = 0; i < batch_size; ++i) {
    // The headroom stays outside what the kernel may fill, so a datagram longer than
    // max_packet still shows as MSG_TRUNC.
    batch_->receive_vectors[i] = iovec{batch_->buffers[i].bytes.data(), max_packet};
    batch_->received[i].msg_hdr.msg_name = &batch_->sources[i];
    batch_->received[i].msg_hdr.msg_iov = &batch_->receive_vectors[i];
    batch_->received[i].msg_hdr.msg_iovlen = 1;
  }
}

void rtp_relay::stop() {
  std::call_once(stopped_, [this] {
    stopping_.store(true);
    std::uint64_t one = 1;
    (void)::write(wake_fd_, &one, sizeof one);
    if (thread_.joinable())
      thread_.join();
  });
}

rtp_relay::~rtp_relay() {
  stop();
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, owned] : sessions_)
      for (auto& leg : owned->legs)
        close_leg(leg);
    sessions_.clear();
  }
  ::close(epoll_fd_);
  ::close(wake_fd_);
}

std::expected<void, relay_error> rtp_relay::bind_pair(session& owner, leg_state& leg) {
  const std::size_t pairs = pair_in_use_.size();
  for (std::size_t tried = 0; tried < pairs; ++tried) {
    const std::size_t pair = next_pair_;
    next_pair_ = (next_pair_ + 1) % pairs;
    if (pair_in_use_[pair])
      continue;
    const auto port = static_cast<std::uint16_t>(options_.ports.first + 2 * pair);
    if (allowed_ && (port < allowed_->first || port + 1 > allowed_->last))
      continue;
    auto rtp = bind_udp(bind_address_->storage, port);
    std::expected<int, int> rtcp = std::unexpected(0);
    if (rtp) {
      rtcp = bind_udp(bind_address_->storage, static_cast<std::uint16_t>(port + 1));
      if (!rtcp)
        ::close(*rtp);
    }
    if (!rtp || !rtcp) {
      int why = rtp ? rtcp.error() : rtp.error();
      // A port another program holds is skipped; anything else (no descriptors left, no
      // memory) would fail for every port alike.
      if (why == EADDRINUSE || why == EACCES)
        continue;
      return std::unexpected(relay_error{relay_errc::socket_failure,
                                         "cannot bind UDP " + options_.address + ":" +
                                             std::to_string(port) + ": " + std::strerror(why)});
    }
    leg.pair = pair;
    leg.port = port;
    leg.rtp.fd = *rtp;
    leg.rtcp.fd = *rtcp;
    pair_in_use_[pair] = true;
    const auto index = static_cast<std::size_t>(&leg - owner.legs.data());
    for (bool is_rtcp : {false, true}) {
      epoll_event watch{};
      watch.events = EPOLLIN;
      watch.data.u64 = token_of(owner.id, index, is_rtcp);
      if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, is_rtcp ? leg.rtcp.fd : leg.rtp.fd, &watch) != 0) {
        auto why_not = std::string(std::strerror(errno));
        close_leg(leg);
        return std::unexpected(
            relay_error{relay_errc::socket_failure, "cannot watch a relay socket: " + why_not});
      }
    }
    return {};
  }
  std::string where =
      std::to_string(options_.ports.first) + "-" + std::to_string(options_.ports.last);
  if (allowed_)
    where += " within the allowed " + std::to_string(allowed_->first) + "-" +
             std::to_string(allowed_->last);
  return std::unexpected(relay_error{relay_errc::exhausted, "no free port pair in " + where});
}

void rtp_relay::set_allowed_ports(std::optional<rtp_port_range> allowed) {
  std::lock_guard lock(mutex_);
  allowed_ = allowed;
}

void rtp_relay::close_leg(leg_state& leg) {
  for (auto* socket : {&leg.rtp, &leg.rtcp}) {
    if (socket->fd < 0)
      continue;
    (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, socket->fd, nullptr);
    ::close(socket->fd);
    *socket = leg_state::port_socket{};
  }
  if (leg.pair < pair_in_use_.size())
    pair_in_use_[leg.pair] = false;
  leg.pair = std::numeric_limits<std::size_t>::max();
  leg.port = 0;
}

std::expected<relay_allocation, relay_error> rtp_relay::allocate() {
  std::lock_guard lock(mutex_);
  if (stopping_.load())
    return std::unexpected(relay_error{relay_errc::exhausted, "the relay is stopped"});
  if (sessions_.size() >= max_sessions_)
    return std::unexpected(relay_error{relay_errc::exhausted, "the relay holds its maximum of " +
                                                                  std::to_string(max_sessions_) +
                                                                  " sessions"});
  auto owned = std::make_unique<session>();
  // Ids are never reused, not even a refused allocation's: its sockets may already have
  // events queued for the relay thread, and these must not find a later session.
  owned->id = next_id_++;
  for (auto& leg : owned->legs) {
    if (auto bound = bind_pair(*owned, leg); !bound) {
      for (auto& undo : owned->legs)
        close_leg(undo);
      return std::unexpected(std::move(bound.error()));
    }
  }
  relay_allocation allocation{owned->id, owned->legs[0].port, owned->legs[1].port};
  sessions_.emplace(owned->id, std::move(owned));
  return allocation;
}

bool rtp_relay::is_own_port(const address& peer) const {
  const auto port = port_of(peer.storage);
  if (port < options_.ports.first || port > options_.ports.last)
    return false;
  // With a wildcard bind the relay answers on every local address; loopback is the one that
  // can be told apart here, so an SDP naming another local address is not caught.
  if (is_unspecified(bind_address_->storage))
    return is_loopback(peer.storage);
  auto own = for_family(bind_address_->storage, peer.storage.ss_family);
  return own && same_host(*own, peer.storage);
}

std::expected<void, relay_error> rtp_relay::set_peer(std::uint64_t id, relay_leg leg,
                                                     media_endpoint peer) {
  auto refuse = [&](const std::string& why) {
    return std::unexpected(relay_error{relay_errc::bad_address, why + ": " + peer.address + ":" +
                                                                    std::to_string(peer.port)});
  };
  auto host = parse_host(peer.address);
  if (!host)
    return refuse("not a numeric IP address");
  const auto family = bind_address_->storage.ss_family;
  // An IPv4 peer is reachable from an IPv6 relay only through a dual-stack ("::") socket.
  if (host->ss_family != family && !is_unspecified(bind_address_->storage))
    return refuse("not reachable from the relay address " + options_.address);
  auto reachable = for_family(*host, family);
  if (!reachable)
    return refuse("not reachable from the relay address " + options_.address);
  if (is_unspecified(*reachable) || is_multicast(*reachable))
    return refuse("not a unicast address");
  if (peer.port == 0)
    return refuse("no media port");
  if (peer.rtcp_port == 0 && peer.port == std::numeric_limits<std::uint16_t>::max())
    return refuse("no port above the RTP port for RTCP");
  address rtp{*reachable, length_of(*reachable)};
  address rtcp = rtp;
  set_port(rtp.storage, peer.port);
  set_port(rtcp.storage,
           peer.rtcp_port != 0 ? peer.rtcp_port : static_cast<std::uint16_t>(peer.port + 1));
  if (is_own_port(rtp) || is_own_port(rtcp))
    return refuse("one of the relay's own ports");

  std::lock_guard lock(mutex_);
  auto found = sessions_.find(id);
  if (found == sessions_.end())
    return std::unexpected(
        relay_error{relay_errc::unknown_session, "no relay session " + std::to_string(id)});
  auto& state = found->second->legs[static_cast<std::size_t>(leg)];
  if (state.has_peer && same_endpoint(state.peer_rtp.storage, rtp.storage) &&
      same_endpoint(state.peer_rtcp.storage, rtcp.storage))
    return {};
  state.has_peer = true;
  state.peer_rtp = rtp;
  state.peer_rtcp = rtcp;
  // The latch belongs to the old endpoint; the new one latches with its first packet.
  state.rtp.latched = false;
  state.rtcp.latched = false;
  return {};
}

namespace {

/// One direction's libsrtp2 session from an SDES attribute.
std::expected<srtp_session, relay_error> srtp_from(const crypto_attribute& attribute,
                                                   direction dir) {
  const char* which = dir == direction::inbound ? "inbound" : "outbound";
  if (attribute.suite == nullptr)
    return std::unexpected(
        relay_error{relay_errc::bad_crypto, std::string("no suite for the ") + which + " key"});
  if (attribute.mki)
    return std::unexpected(
        relay_error{relay_errc::bad_crypto,
                    std::string("the ") + which + " key has an MKI; the relay uses none"});
  auto made = srtp_session::create(*attribute.suite, attribute.key(), attribute.options, dir);
  if (!made)
    return std::unexpected(
        relay_error{relay_errc::bad_crypto, std::string("cannot use the ") + which + " key (" +
                                                std::string(attribute.suite->name) +
                                                "): " + std::string(to_string(made.error().code))});
  return std::move(*made);
}

/// Whether two attributes make the same libsrtp2 session; the tag, lifetime and window hint
/// do not change it.
bool same_key(const crypto_attribute& left, const crypto_attribute& right) {
  return left.suite == right.suite && left.options == right.options &&
         left.key_and_salt == right.key_and_salt;
}

} // namespace

std::expected<void, relay_error> rtp_relay::set_crypto(std::uint64_t id, relay_leg leg,
                                                       std::optional<leg_crypto> crypto) {
  // Key derivation runs here, before the lock, so the relay thread never waits for it.
  std::unique_ptr<leg_srtp> keys;
  if (crypto) {
    auto inbound = srtp_from(crypto->inbound, direction::inbound);
    auto outbound = srtp_from(crypto->outbound, direction::outbound);
    if (inbound && outbound)
      keys = std::make_unique<leg_srtp>(*crypto, std::move(*inbound), std::move(*outbound));
    explicit_bzero(crypto->inbound.key_and_salt.data(), crypto->inbound.key_and_salt.size());
    explicit_bzero(crypto->outbound.key_and_salt.data(), crypto->outbound.key_and_salt.size());
    if (!inbound)
      return std::unexpected(std::move(inbound.error()));
    if (!outbound)
      return std::unexpected(std::move(outbound.error()));
  }
  {
    std::lock_guard lock(mutex_);
    auto found = sessions_.find(id);
    if (found == sessions_.end())
      return std::unexpected(
          relay_error{relay_errc::unknown_session, "no relay session " + std::to_string(id)});
    auto& current = found->second->legs[static_cast<std::size_t>(leg)].srtp;
    if (current && keys) {
      // A direction whose key did not change keeps its session: a new outbound session
      // would restart the rollover counter under the same key, so the phone would reject the
      // packets and the key stream could repeat; a new inbound one would reopen the replay
      // window.
      if (same_key(current->keys.inbound, keys->keys.inbound))
        std::swap(current->inbound, keys->inbound);
      if (same_key(current->keys.outbound, keys->keys.outbound))
        std::swap(current->outbound, keys->outbound);
    }
    current.swap(keys);
  }
  // The replaced sessions are freed (and their keys wiped) outside the lock.
  return {};
}

void rtp_relay::release(std::uint64_t id) {
  std::unique_ptr<session> released;
  {
    std::lock_guard lock(mutex_);
    auto found = sessions_.find(id);
    if (found == sessions_.end())
      return;
    for (auto& leg : found->second->legs)
      close_leg(leg);
    released = std::move(found->second);
    sessions_.erase(found);
  }
  // Its libsrtp2 sessions, if any, are freed outside the lock.
}

rtp_relay_stats rtp_relay::stats() const {
  rtp_relay_stats out;
  {
    std::lock_guard lock(mutex_);
    out.active_sessions = sessions_.size();
    out.max_sessions = max_sessions_;
    if (allowed_) {
      // Two pairs a session, from the pairs of the range inside the window.
      const auto first = std::max<std::uint32_t>(options_.ports.first, allowed_->first);
      const auto last = std::min<std::uint32_t>(options_.ports.last, allowed_->last);
      const std::uint32_t aligned = first + (first - options_.ports.first) % 2;
      const std::size_t pairs = last > aligned ? (last - aligned + 1) / 2 : 0;
      out.max_sessions = std::min(max_sessions_, pairs / 2);
    }
  }
  out.packets_relayed = relayed_.load(std::memory_order_relaxed);
  out.packets_dropped = dropped_.load(std::memory_order_relaxed);
  out.packets_from_wrong_source = wrong_source_.load(std::memory_order_relaxed);
  out.packets_auth_failed = auth_failed_.load(std::memory_order_relaxed);
  out.packets_protected = protected_.load(std::memory_order_relaxed);
  out.packets_unprotected = unprotected_.load(std::memory_order_relaxed);
  return out;
}

std::expected<session_stats, relay_error> rtp_relay::stats(std::uint64_t id) const {
  std::lock_guard lock(mutex_);
  auto found = sessions_.find(id);
  if (found == sessions_.end())
    return std::unexpected(
        relay_error{relay_errc::unknown_session, "no relay session " + std::to_string(id)});
  auto leg = [](const leg_state& state) {
    return relay_leg_stats{state.srtp != nullptr, state.relayed, state.auth_failed};
  };
  return session_stats{leg(found->second->legs[0]), leg(found->second->legs[1])};
}

void rtp_relay::run() {
  std::array<epoll_event, 64> events{};
  while (!stopping_.load()) {
    // stop() wakes the wait through the eventfd; the timeout only bounds a lost wake-up.
    int ready = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 200);
    for (int i = 0; i < ready; ++i) {
      if (events[static_cast<std::size_t>(i)].data.u64 == wake_token) {
        std::uint64_t drained = 0;
        (void)::read(wake_fd_, &drained, sizeof drained);
        continue;
      }
      relay_batch(events[static_cast<std::size_t>(i)].data.u64);
    }
  }
}

void rtp_relay::relay_batch(std::uint64_t token) {
  const std::uint64_t id = token >> 2;
  const std::size_t from_leg = (token >> 1) & 1U;
  const bool rtcp = (token & 1U) != 0;

  std::lock_guard lock(mutex_);
  // The session may have been released since epoll_wait reported it; its descriptor number
  // may even belong to a new session by now, which is why the token names the session id.
  auto found = sessions_.find(id);
  if (found == sessions_.end())
    return;
  auto& in = found->second->legs[from_leg];
  auto& out = found->second->legs[1 - from_leg];
  auto& from = rtcp ? in.rtcp : in.rtp;
  auto& to = rtcp ? out.rtcp : out.rtp;
  auto& b = *batch_;

  for (auto& message : b.received)
    message.msg_hdr.msg_namelen = sizeof(sockaddr_storage);
  int got = ::recvmmsg(from.fd, b.received.data(), batch_size, MSG_DONTWAIT, nullptr);
  if (got <= 0)
    return;
  const auto received = static_cast<std::size_t>(got);
  if (!in.has_peer || !out.has_peer) {
    dropped_.fetch_add(received, std::memory_order_relaxed);
    return;
  }

  // Media to a leg goes where its peer sends from once known: through NAT that is the only
  // address that reaches it.
  const sockaddr_storage& destination =
      to.latched ? to.source : (rtcp ? out.peer_rtcp.storage : out.peer_rtp.storage);
  const socklen_t destination_length =
      to.latched ? to.source_length : (rtcp ? out.peer_rtcp.length : out.peer_rtp.length);
  const sockaddr_storage& signalled = rtcp ? in.peer_rtcp.storage : in.peer_rtp.storage;

  // The keys are read under the lock, so set_crypto swaps them between batches only.
  srtp_session* unprotect = in.srtp ? &in.srtp->inbound : nullptr;
  srtp_session* protect = out.srtp ? &out.srtp->outbound : nullptr;

  std::uint64_t dropped = 0;
  std::uint64_t wrong_source = 0;
  std::uint64_t auth_failed = 0;
  std::uint64_t unprotected = 0;
  std::uint64_t protected_count = 0;
  std::size_t count = 0;
  for (std::size_t i = 0; i < received; ++i) {
    const auto& message = b.received[i].msg_hdr;
    if ((message.msg_flags & MSG_TRUNC) != 0) {
      ++dropped;
      continue;
    }
    const auto& source = b.sources[i];
    const bool accepted =
        from.latched ? same_endpoint(source, from.source) : same_host(source, signalled);
    if (!accepted) {
      ++wrong_source;
      continue;
    }
    const std::span<std::byte> buffer = b.buffers[i].bytes;
    std::size_t length = b.received[i].msg_len;
    if (unprotect != nullptr) {
      auto plain = rtcp ? unprotect->unprotect_rtcp(buffer, length)
                        : unprotect->unprotect_rtp(buffer, length);
      if (!plain) {
        const auto code = plain.error().code;
        if (code == media_errc::auth_failed || code == media_errc::replay)
          ++auth_failed;
        else
          ++dropped;
        continue;
      }
      length = *plain;
      ++unprotected;
    }
    // On an SRTP leg only a packet that authenticated may latch, so a forged one cannot
    // divert the leg's media.
    if (!from.latched) {
      from.source = source;
      from.source_length = message.msg_namelen;
      from.latched = true;
    }
    if (protect != nullptr) {
      // The buffer reaches past max_packet by srtp_headroom, which holds any trailer.
      auto secured =
          rtcp ? protect->protect_rtcp(buffer, length) : protect->protect_rtp(buffer, length);
      if (!secured) {
        ++dropped;
        continue;
      }
      length = *secured;
      ++protected_count;
    }
    b.send_vectors[count] = iovec{buffer.data(), length};
    auto& outgoing = b.outgoing[count].msg_hdr;
    outgoing = msghdr{};
    // sendmmsg only reads the name; msghdr has no const-qualified field for it.
    outgoing.msg_name = const_cast<sockaddr_storage*>(&destination);
    outgoing.msg_namelen = destination_length;
    outgoing.msg_iov = &b.send_vectors[count];
    outgoing.msg_iovlen = 1;
    ++count;
  }

  std::uint64_t relayed = 0;
  std::size_t next = 0;
  while (next < count) {
    int sent = ::sendmmsg(to.fd, b.outgoing.data() + next, static_cast<unsigned>(count - next),
                          MSG_DONTWAIT);
    if (sent > 0) {
      next += static_cast<std::size_t>(sent);
      relayed += static_cast<std::uint64_t>(sent);
      continue;
    }
    // The thread never waits for one peer's full buffer; other errors cost one packet.
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
      dropped += count - next;
      break;
    }
    ++dropped;
    ++next;
  }

  in.relayed += relayed;
  in.auth_failed += auth_failed;
  if (relayed != 0)
    relayed_.fetch_add(relayed, std::memory_order_relaxed);
  if (dropped + wrong_source + auth_failed != 0)
    dropped_.fetch_add(dropped + wrong_source + auth_failed, std::memory_order_relaxed);
  if (wrong_source != 0)
    wrong_source_.fetch_add(wrong_source, std::memory_order_relaxed);
  if (auth_failed != 0)
    auth_failed_.fetch_add(auth_failed, std::memory_order_relaxed);
  if (unprotected != 0)
    unprotected_.fetch_add(unprotected, std::memory_order_relaxed);
  if (protected_count != 0)
    protected_.fetch_add(protected_count, std::memory_order_relaxed);
}

} // namespace ward::media
