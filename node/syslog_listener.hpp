#pragma once

#include "cluster/event_store.hpp"
#include "cluster/syslog_intake.hpp"
#include "cluster/tls_pump.hpp"
#include "core/clock.hpp"
#include "node/config.hpp"
#include "node/connection_slots.hpp"
#include "node/connection_threads.hpp"
#include "pki/tls_policy.hpp"

#include <openssl/types.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ward::node {

struct syslog_listener_options {
  std::string address;
  syslog_intake_transports transports{.tls = true};
  /// 0 = any free port.
  std::uint16_t tls_port = 6514;
  std::uint16_t tcp_port = 601;
  std::uint16_t udp_port = 514;
  std::shared_ptr<SSL_CTX> tls_context;
  /// Grades what a TLS sender presented (the management check level); empty accepts all.
  pki::client_certificate_check_fn tls_client_check;
  /// A TLS handshake or certificate check failed (SPEC TLS-3): peer "ip:port", cause.
  std::function<void(const std::string& peer, const std::string& cause)> on_tls_failure;
  /// Where received messages are kept, beside the events other nodes forwarded.
  std::shared_ptr<cluster::event_store> store;
  const clock* time = nullptr;
  /// Messages one sender address may send per second (twice that in a burst); more are
  /// dropped and counted, so that one noisy device cannot fill the primary's disk.
  std::uint32_t messages_per_second = 200;
  /// Stream connections at once, a quarter of them from one address at most.
  std::size_t max_connections = 64;
};

/// Counters since the receiver started (SPEC MON-4).
struct syslog_listener_counts {
  std::uint64_t received_tls = 0;
  std::uint64_t received_tcp = 0;
  std::uint64_t received_udp = 0;
  /// Not syslog (no PRI, too long, broken framing).
  std::uint64_t malformed = 0;
  /// Over a sender's rate, or while the write queue was full.
  std::uint64_t rate_limited = 0;
  std::uint64_t queue_full = 0;
  /// Could not be written to the store.
  std::uint64_t storage_failed = 0;
  /// Stream connections closed on accept because the slots were full.
  std::uint64_t refused_connections = 0;
};

/// The primary's syslog receiver (SPEC TOP-2, MON-2): RFC 5425 over TLS, RFC 6587 over TCP
/// and RFC 5426 over UDP, each only when configured. Every message from a device is stored
/// in the event store under "syslog:<sender address>", written by one thread in batches so
/// a burst costs one synced write per sender.
class syslog_listener {
public:
  static std::expected<std::unique_ptr<syslog_listener>, std::string>
  start(syslog_listener_options options);
  /// Stops reading, joins every thread and writes what was already received.
  ~syslog_listener();
  syslog_listener(const syslog_listener&) = delete;
  syslog_listener& operator=(const syslog_listener&) = delete;

  std::uint16_t tls_port() const { return tls_port_; }
  std::uint16_t tcp_port() const { return tcp_port_; }
  std::uint16_t udp_port() const { return udp_port_; }

  /// New TLS connections use `context` and are graded by `check` (TLS settings and the
  /// management check level follow at once); open ones keep theirs.
  void set_tls(std::shared_ptr<SSL_CTX> context, pki::client_certificate_check_fn check);

  syslog_listener_counts counts() const;

private:
  explicit syslog_listener(syslog_listener_options options);
  std::expected<void, std::string> bind_all();
  void accept_loop();
  void read_datagrams();
  void serve_stream(cluster::unique_fd fd, cluster::syslog_origin origin);
  void serve_tls(cluster::unique_fd fd, cluster::syslog_origin origin);
  /// Parses one message and queues it for the writer, unless the sender is over its rate.
  void take(std::string_view text, const cluster::syslog_origin& origin);
  bool within_rate(const std::string& address);
  void write_loop();
  void write_batch(std::vector<std::pair<cluster::syslog_origin, cluster::received_syslog>> batch);

  syslog_listener_options options_;
  cluster::unique_fd tls_fd_, tcp_fd_, udp_fd_;
  std::uint16_t tls_port_ = 0, tcp_port_ = 0, udp_port_ = 0;
  cluster::wake_pipe stop_;
  std::atomic<bool> stopping_{false};

  std::mutex tls_mutex_;

  connection_slots slots_;
  connection_threads readers_;

  struct bucket {
    double tokens = 0;
    clock::time_point refilled{};
  };
  std::mutex rate_mutex_;
  std::map<std::string, bucket> buckets_;

  std::mutex queue_mutex_;
  std::condition_variable queued_;
  std::vector<std::pair<cluster::syslog_origin, cluster::received_syslog>> queue_;
  /// The next sequence of each sender in the store, read from it at the sender's first
  /// message; the writer thread's own.
  std::map<std::string, std::uint64_t> next_sequence_;

  std::atomic<std::uint64_t> received_tls_{0}, received_tcp_{0}, received_udp_{0}, malformed_{0},
      rate_limited_{0}, queue_full_{0}, storage_failed_{0}, refused_{0};

  std::thread acceptor_;
  std::thread writer_;
};

} // namespace ward::node
