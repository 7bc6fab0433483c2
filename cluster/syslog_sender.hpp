#pragma once

#include "cluster/error.hpp"
#include "core/enum_names.hpp"
#include "pki/tls_policy.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>

namespace ward::cluster {

/// Where and how a syslog_tls_sender reaches its receiver (SPEC MON-2, RFC 5425).
/// How messages reach a receiver (SPEC MON-2): TLS (RFC 5425) by default; TCP (RFC 6587
/// octet counting) and UDP (RFC 5426, one message a datagram) send in clear, for receivers
/// on a trusted network that speak nothing else.
enum class syslog_transport : std::uint8_t { tls, tcp, udp };

inline constexpr auto syslog_transport_names =
    name_table(enum_name{syslog_transport::tls, "tls"}, enum_name{syslog_transport::tcp, "tcp"},
               enum_name{syslog_transport::udp, "udp"});

constexpr std::string_view to_string(syslog_transport transport) {
  return name_of(syslog_transport_names, transport);
}
constexpr std::optional<syslog_transport> parse_syslog_transport(std::string_view text) {
  return parse_name(syslog_transport_names, text);
}

struct syslog_tls_config {
  /// Numeric IPv4 or IPv6 address of the receiver ("192.0.2.1", "::1", "[::1]").
  std::string address;
  std::uint16_t port = 6514;
  /// The CA (one or more PEM certificates) that must have issued the receiver's
  /// certificate. Required: a syslog stream carries audit data and is never sent to an
  /// unauthenticated peer.
  std::string trusted_ca_pem;
  /// The name the receiver's certificate must carry; empty means `address`. A DNS name
  /// is matched against the DNS SANs (the CN only when there are none), an IP address
  /// against the IP SANs only, as X509_check_host and X509_check_ip_asc do.
  std::string expected_name;
  /// Client certificate and key (PEM) for receivers that demand one; both or neither.
  std::string client_cert_pem;
  std::string client_key_pem;
  /// Messages held while the receiver is unreachable; enqueue refuses more.
  std::size_t max_queue = 10000;
  /// Reconnect delay after the first failure, doubled per failure up to reconnect_max.
  std::chrono::milliseconds reconnect_min{200};
  std::chrono::milliseconds reconnect_max{10000};
  /// The longest a connect, handshake or write may wait before the link counts as dead.
  std::chrono::milliseconds io_timeout{5000};
  /// Called on the sender's thread for every failed connect, handshake, verification or
  /// write, with the receiver as "ip:port" and the cause (SPEC TLS-3); must not block.
  std::function<void(const std::string& receiver, const std::string& cause)> on_failure;
  /// TLS unless the receiver speaks only TCP or UDP; trusted_ca_pem, expected_name and the
  /// client identity apply to TLS alone.
  syslog_transport transport = syslog_transport::tls;
};

/// A snapshot of a sender's counters and link state.
struct syslog_sender_stats {
  /// Messages whose frame SSL_write accepted in full.
  std::uint64_t sent = 0;
  /// Messages refused by enqueue because the queue was full.
  std::uint64_t dropped = 0;
  /// Messages waiting, including one being written.
  std::size_t queued = 0;
  /// Whether a verified TLS connection is up now.
  bool connected = false;
  /// The latest failure (configuration, connect, verification, write); empty before any.
  std::string last_error;
};

/// Sends RFC 5424 messages to one receiver: over TLS with octet-counted framing, or, when
/// configured, over TCP (octet counting) or UDP (a datagram each).
///
/// A background thread owns the connection: it connects, verifies the receiver against
/// the configured CA and name, writes queued messages in order, and reconnects with
/// exponential backoff and jitter after any failure. A message leaves the queue only once
/// its frame was written, so a failed write is retried on the next connection (the
/// receiver may then see it twice, never zero times). Messages still queued when the
/// sender is destroyed are discarded. All public members are thread-safe.
class syslog_tls_sender {
public:
  /// Starts the background thread. An invalid configuration (see check_config) is
  /// reported through stats().last_error and the sender never connects; enqueue still
  /// queues and drops as usual so callers need no special case.
  explicit syslog_tls_sender(syslog_tls_config config);
  /// Stops the background thread within about the time one poll wake-up takes, and joins.
  ~syslog_tls_sender();

  syslog_tls_sender(const syslog_tls_sender&) = delete;
  syslog_tls_sender& operator=(const syslog_tls_sender&) = delete;

  /// Why `config` cannot work (unparsable address, CA or client credentials), or nothing.
  /// Lets configuration loading reject a bad setting before a sender exists.
  static std::expected<void, error> check_config(const syslog_tls_config& config);

  /// The oldest TLS version the receiver may choose (SPEC TLS-1), 1.2 until told. A change
  /// ends the current connection cleanly and reconnects under the new minimum at once.
  void set_minimum_tls(pki::tls_min_version minimum);

  /// Queues one formatted message (see format_rfc5424) without blocking. Returns false
  /// and counts a drop when the queue is full.
  bool enqueue(std::string formatted_message);

  syslog_sender_stats stats() const;

private:
  struct tls_context;
  struct connection;

  void run();
  /// A verified TLS connection to the receiver, or why there is none.
  std::expected<std::unique_ptr<connection>, error> connect();
  /// Whether the receiver has not closed or reset the link, without waiting.
  std::expected<void, error> check_alive(connection& conn);
  /// Writes one whole frame, waiting at most io_timeout.
  std::expected<void, error> write_frame(connection& conn, const std::string& frame);
  /// Waits until `deadline` or a stop, whatever enqueue signals meanwhile.
  void sleep_until(std::chrono::steady_clock::time_point deadline);
  /// The next reconnect delay: doubled since the last success, capped, with jitter.
  std::chrono::milliseconds next_backoff();
  void set_error(std::string error);
  void set_connected(bool connected);
  void wake();
  void drain_wake();

  const syslog_tls_config config_;
  std::unique_ptr<tls_context> context_;
  /// An eventfd that interrupts every poll of the background thread, so neither a stop
  /// nor new work waits for a timeout.
  int wake_fd_ = -1;

  mutable std::mutex mutex_;
  std::deque<std::string> queue_;
  /// Whether the thread holds a message taken from queue_ that is not yet written.
  bool in_flight_ = false;
  std::uint64_t sent_ = 0;
  std::uint64_t dropped_ = 0;
  bool connected_ = false;
  std::string last_error_;

  std::atomic<bool> stopping_{false};
  /// The minimum TLS version of new connections, and whether the current one must end
  /// because the minimum changed.
  std::atomic<pki::tls_min_version> minimum_tls_{pki::tls_min_version::tls1_2};
  std::atomic<bool> reconnect_{false};

  /// Used by the background thread only.
  std::chrono::milliseconds backoff_{0};
  /// Jitter needs no secrecy, only disagreement between nodes.
  std::minstd_rand random_{std::random_device{}()};

  std::thread thread_;
};

} // namespace ward::cluster
