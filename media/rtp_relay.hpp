#pragma once

#include "core/typed_error.hpp"
#include "media/sdes.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace ward::media {

/// The ports the relay binds (SPEC MED-3). RTP goes on even ports and RTCP on the port above
/// (RFC 3550 section 11), so the range is a run of pairs: `first` must be even, `first` below
/// `last`, and the range must hold two pairs, one per leg of a session.
struct rtp_port_range {
  std::uint16_t first = 40000;
  std::uint16_t last = 40999;
};

/// Where a peer receives media: its SDP c= address (numeric IPv4 or IPv6) and m= port.
struct media_endpoint {
  std::string address;
  std::uint16_t port = 0;
  /// The RTCP port from an a=rtcp attribute (RFC 3605); 0 means `port` + 1.
  std::uint16_t rtcp_port = 0;
};

/// The two sides of a relayed session: what arrives on one leg leaves from the other.
enum class relay_leg : std::uint8_t { a, b };

enum class relay_errc : std::uint8_t {
  /// No two free port pairs in the range, or the relay already holds max_sessions (MED-4).
  /// Also returned once the relay is stopped, since it has no capacity left to offer.
  exhausted,
  /// No session has this id: never allocated, or already released.
  unknown_session,
  /// The peer is not a numeric address the relay may send to: unparsable, another family
  /// than the bind address, unspecified, multicast, port 0, or one of the relay's own ports
  /// (which would loop media through the relay forever).
  bad_address,
  /// The kernel refused a socket for a reason other than the port being taken.
  socket_failure,
  /// set_crypto got keys it cannot use: no suite, a key of another length than the suite's,
  /// an MKI (the relay's SRTP sessions use none), or keys libsrtp2 refused.
  bad_crypto,
  /// start() got options that can never work (a port range too small or misaligned, no
  /// sessions allowed).
  invalid_config,
};

std::string_view to_string(relay_errc code);

/// A refused control call. Control calls happen once per call set-up, so unlike packet
/// errors they can afford the text.
using relay_error = typed_error<relay_errc>;

/// The SRTP keys of one leg (SPEC MED-1, MED-3). `inbound` unprotects what the leg's phone
/// sends (the phone's own key, from its a=crypto); `outbound` protects what Ward sends to it
/// (Ward's key for that leg, from Ward's a=crypto). Each direction uses its own attribute's
/// suite and srtp_options; from one offer/answer the two are the same.
struct leg_crypto {
  crypto_attribute inbound;
  crypto_attribute outbound;
};

/// The relay ports of a new session, which the B2BUA puts in the SDP it sends to each leg.
struct relay_allocation {
  std::uint64_t id = 0;
  /// Leg A's peer sends RTP here (RTCP to port_a + 1).
  std::uint16_t port_a = 0;
  /// Leg B's peer sends RTP here (RTCP to port_b + 1).
  std::uint16_t port_b = 0;
};

struct rtp_relay_options {
  /// The numeric address every relay socket binds; the SDP c= address the peers are given.
  std::string address;
  rtp_port_range ports;
  /// The most sessions held at once; stats() reports the lower of this and what the range
  /// can hold.
  std::size_t max_sessions = 1000;
};

/// Capacity and traffic for metrics (MED-4). Counters only grow.
struct rtp_relay_stats {
  std::size_t active_sessions = 0;
  std::size_t max_sessions = 0;
  std::uint64_t packets_relayed = 0;
  /// Packets not relayed: from a wrong source, before both peers were set, truncated
  /// (larger than the relay's buffers), failing SRTP (authentication, replay, a packet
  /// libsrtp2 cannot parse or protect), or that the kernel refused to send.
  std::uint64_t packets_dropped = 0;
  /// The part of packets_dropped that came from a source other than the leg's signalled
  /// address or latched address and port: what an injection attempt looks like.
  std::uint64_t packets_from_wrong_source = 0;
  /// The part of packets_dropped that arrived on an SRTP leg from its peer's address and
  /// failed SRTP or SRTCP authentication or the replay check (SPEC MED-5): forged, corrupted
  /// or replayed media, or a peer keyed differently than signalled.
  std::uint64_t packets_auth_failed = 0;
  /// Packets the relay encrypted for an SRTP leg, and packets from an SRTP leg it
  /// authenticated and decrypted; RTP and RTCP alike.
  std::uint64_t packets_protected = 0;
  std::uint64_t packets_unprotected = 0;
};

/// One leg of one session, for the per-call status (MED-4). Counters only grow.
struct relay_leg_stats {
  /// Whether the leg is SRTP (set_crypto with keys) rather than plain RTP.
  bool secure = false;
  /// Packets from this leg's peer that the relay sent on to the other leg.
  std::uint64_t packets_relayed = 0;
  /// Packets from this leg's peer that failed SRTP/SRTCP authentication or the replay check.
  std::uint64_t packets_auth_failed = 0;
};

/// Both legs of one session.
struct session_stats {
  relay_leg_stats a;
  relay_leg_stats b;
  const relay_leg_stats& leg(relay_leg which) const { return which == relay_leg::a ? a : b; }
};

/// Anchors RTP and RTCP between the two legs of each session (SPEC MED-3), each leg plain or
/// SRTP on its own, so the relay converts RTP to SRTP and back and re-keys SRTP between legs.
///
/// One thread relays every session: it waits on all sockets with epoll and moves packets in
/// batches (recvmmsg, sendmmsg) through fixed buffers, so no packet allocates; SRTP is
/// unprotected and protected in place in those buffers. Each leg accepts media only from the
/// IP address signalled for its peer; the first packet from that address (on an SRTP leg: the
/// first that authenticates) latches its source port (symmetric RTP through NAT), after which
/// every other source is dropped. Packets from an SRTP leg that fail authentication or the
/// replay check are dropped and counted (MED-5). allocate, set_peer, set_crypto, release and
/// stats may be called from any thread.
class rtp_relay {
public:
  /// Validates `options`, checks the address can be bound and starts the relay thread.
  static std::expected<std::unique_ptr<rtp_relay>, relay_error> start(rtp_relay_options options);

  /// Binds the RTP and RTCP sockets of both legs of a new session on the next free port pairs
  /// (round robin, skipping ports something else holds). Media flows once both peers are set.
  std::expected<relay_allocation, relay_error> allocate();
  /// Sets where `leg`'s peer receives media and the only address it may send from. Calling
  /// it again (re-INVITE) with another endpoint moves the leg and drops its latch; with the
  /// same endpoint it keeps the latch, so a refreshed offer does not interrupt media.
  std::expected<void, relay_error> set_peer(std::uint64_t id, relay_leg leg, media_endpoint peer);
  /// Makes `leg` SRTP with `crypto`'s keys, or plain RTP again with nullopt (the default).
  /// Calling it again re-keys: a new libsrtp2 session replaces the old one for each direction
  /// whose key changed, between two batches, so no packet sees half of each; a direction
  /// with the same key keeps its session (rollover counter, replay window), so a refreshed
  /// offer does not disturb media. A changed outbound key must be a fresh one (make_crypto):
  /// a new session under a key used before would repeat its key stream. The libsrtp2
  /// sessions are created here, not on the packet path. The relay wipes its copies of the
  /// keys once it no longer needs them; the caller's own copies stay the caller's to wipe.
  std::expected<void, relay_error> set_crypto(std::uint64_t id, relay_leg leg,
                                              std::optional<leg_crypto> crypto);
  /// Closes the session's sockets and returns its ports to the pool; unknown ids are ignored.
  void release(std::uint64_t id);
  /// Restricts new sessions to the port pairs inside `allowed` (SPEC SIP-5, MED-3: the
  /// cluster's RTP port range policy, applied within the range this relay binds); nullopt
  /// lifts the restriction. Sessions already allocated keep their ports. When no pair of the
  /// relay's range lies inside `allowed`, allocate reports `exhausted`.
  void set_allowed_ports(std::optional<rtp_port_range> allowed);
  rtp_relay_stats stats() const;
  /// The legs of one session: SRTP or plain, and what each leg's peer sent. Counted per batch
  /// under the lock the relay thread holds anyway, so it costs no work per packet.
  std::expected<session_stats, relay_error> stats(std::uint64_t id) const;

  /// Stops the relay thread (within a few milliseconds); idempotent. Sessions stay
  /// allocated until released or destroyed, but no more are allocated.
  void stop();
  /// Stops the relay thread and closes every socket.
  ~rtp_relay();
  rtp_relay(const rtp_relay&) = delete;
  rtp_relay& operator=(const rtp_relay&) = delete;

  /// Packets one recvmmsg call takes from a socket before the thread serves the next one.
  static constexpr std::size_t batch_size = 32;
  /// Longest datagram the relay takes; longer ones are dropped rather than relayed cut short.
  static constexpr std::size_t max_packet = 2048;
  /// Room after a packet for what SRTP protection appends: the tag (at most 16 bytes in
  /// libsrtp2) and, for SRTCP, the E flag and index (4 bytes). No MKI, which set_crypto
  /// refuses.
  static constexpr std::size_t srtp_headroom = 32;

private:
  /// A socket address, kept out of this header with the other system types.
  struct address;
  struct leg_state;
  /// The libsrtp2 sessions of an SRTP leg.
  struct leg_srtp;
  struct session;
  /// The relay thread's fixed packet buffers and message headers.
  struct batch;

  rtp_relay(rtp_relay_options options, const address& bind_address, int epoll_fd, int wake_fd,
            std::size_t max_sessions);
  /// Binds the next free RTP/RTCP pair of the pool for `leg`; the caller holds mutex_.
  std::expected<void, relay_error> bind_pair(session& owner, leg_state& leg);
  /// Closes a leg's sockets and frees its pair; the caller holds mutex_.
  void close_leg(leg_state& leg);
  /// Whether sending to `peer` would reach one of the relay's own ports.
  bool is_own_port(const address& peer) const;
  void run();
  /// Moves one batch from the socket behind an epoll token to the other leg.
  void relay_batch(std::uint64_t token);

  const rtp_relay_options options_;
  const std::unique_ptr<const address> bind_address_;
  const int epoll_fd_;
  /// eventfd that wakes the relay thread for stop().
  const int wake_fd_;
  const std::size_t max_sessions_;
  std::atomic<bool> stopping_{false};
  std::once_flag stopped_;

  /// Guards the session table, the port pool and every session socket. The relay thread
  /// holds it while it touches a session's sockets and release closes them under it, so the
  /// thread never uses a closed descriptor, nor one the kernel has reused since.
  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, std::unique_ptr<session>> sessions_;
  /// One entry per port pair of the range: true while a leg holds it.
  std::vector<bool> pair_in_use_;
  /// The pair the round robin tries next.
  std::size_t next_pair_ = 0;
  /// set_allowed_ports: new pairs only inside this window.
  std::optional<rtp_port_range> allowed_;
  std::uint64_t next_id_ = 1;

  std::atomic<std::uint64_t> relayed_{0}, dropped_{0}, wrong_source_{0}, auth_failed_{0},
      protected_{0}, unprotected_{0};
  const std::unique_ptr<batch> batch_;
  std::thread thread_;
};

} // namespace ward::media
