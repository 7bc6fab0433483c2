#pragma once

#include "core/clock.hpp"
#include "core/random.hpp"
#include "media/relay_pool.hpp"
#include "node/config.hpp"
#include "pki/tls_policy.hpp"
#include "telephony/b2bua.hpp"
#include "telephony/directory.hpp"
#include "telephony/registrar.hpp"
#include "telephony/sip_guard.hpp"
#include "telephony/sip_pipeline.hpp"

#include <openssl/types.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ward::node {

class sip_inbox;
class stream_listener;

/// The telephony users and extensions as the registrar reads them: the security actor
/// publishes a new copy after every change, the SIP worker takes the newest per batch.
class directory_feed {
public:
  void publish(telephony::telephony_directory_data data);
  std::shared_ptr<const telephony::telephony_directory_data> current() const;

private:
  mutable std::mutex mutex_;
  std::shared_ptr<const telephony::telephony_directory_data> data_ =
      std::make_shared<const telephony::telephony_directory_data>();
};

struct sip_service_options {
  /// The transports opened (SPEC SIP-1); at least one. A transport that is off has no
  /// socket and reports port 0.
  sip_transports transports;
  /// Numeric IPv4 or IPv6 address and UDP port (0 = any free port) (SPEC SIP-1).
  std::string address;
  std::uint16_t udp_port = 5060;
  /// TCP port (0 = any free port); connections beyond `max_tcp_connections` (or a quarter
  /// of them from one address) are closed on accept.
  std::uint16_t tcp_port = 5060;
  std::size_t max_tcp_connections = 512;
  /// TLS port (SPEC SIP-1: SIPS); 0 = any free port. TLS connections share the TCP slots.
  std::uint16_t tls_port = 5061;
  /// The server context (node identity and the TLS settings, SPEC TLS-1, PKI-6) and the
  /// grading of what phones and trunks present (SPEC PKI-8 telephony checks).
  std::shared_ptr<SSL_CTX> tls_context;
  pki::client_certificate_check_fn tls_client_check;
  /// A TLS handshake or certificate check failed (SPEC TLS-3); must not block.
  std::function<void(const std::string& peer, const std::string& cause)> on_tls_failure;
  std::string realm;
  /// Lifetime of the stateless digest nonces (SPEC SIP-2).
  std::chrono::seconds nonce_lifetime{300};
  /// SPEC SIP-2: SHA-256 is challenged first unless the site's phones need MD5 first.
  bool prefer_md5 = false;
  bool md5_only = false;
  telephony::guard_policy guard;
  std::shared_ptr<directory_feed> directory;
  const clock* time = nullptr;
  random_source random;
  /// Guard decisions worth an alarm (blacklistings, resets), from the worker thread; must
  /// not block.
  std::function<void(const telephony::guard_event&)> on_guard_event;

  /// This node's name: the B2BUA's Via, Contact and SDP, and the other nodes' location tables
  /// (SPEC SIP-6).
  std::string node;
  /// Anchors the media of every call (SPEC MED-3); without it calls are refused with 503.
  std::shared_ptr<media::relay_pool> relay;
  std::chrono::seconds ring_timeout{120};
  std::size_t max_calls = 10'000;
  /// Sends a SIP message to another node over its line; from the worker thread, must not block.
  std::function<void(const std::string& node, std::string text)> send_over_line;
  /// The extensions registered on this node, after every change (at most four times a second)
  /// and every 20 s, for the other nodes' location tables; must not block.
  std::function<void(std::vector<std::string> extensions)> on_locations;
  /// SPEC MED-5: SRTP packets failing authentication (or replayed) above
  /// `srtp_auth_failure_alarm_per_second` in a second raise this, at most once a minute;
  /// must not block.
  std::function<void(const std::string& reason)> on_media_alarm;
  std::uint64_t srtp_auth_failure_alarm_per_second = 50;
  /// SPEC TF-2: a call to an emergency number, or one another node marked so over a line:
  /// the caller, the number dialled and the extension it rings (empty without a route);
  /// must not block.
  std::function<void(const std::string& caller, const std::string& dialled,
                     const std::string& route)>
      on_emergency_call;
  /// SPEC TF-3: a call the dial plan barred (the caller, the number, why); must not block.
  std::function<void(const telephony::barred_call&)> on_barred_call;
  /// SPEC TF-10: an outside call left through a trunk, for the fraud counters; must not
  /// block.
  std::function<void(const telephony::metered_call&)> on_outside_call;
  /// Every call that ended, with how; must not block.
  std::function<void(const telephony::call_view&, telephony::call_end)> on_call_ended;
  /// SPEC SIP-3: an unknown extension registered while auto-create was on; the node creates
  /// it in the directory. Must not block.
  std::function<void(const std::string& extension, const std::string& source)> on_auto_create;
};

/// SIP for one node (SPEC SIP-1 to SIP-6): UDP, TCP and TLS listeners, and one worker thread
/// that alone owns the guard, the registrar and the B2BUA's calls. The worker reads UDP
/// datagrams in batches (recvmmsg) and the messages that stream readers and cluster lines
/// queued, runs each through the `telephony::sip_pipeline` (guard before any parsing, then
/// keep-alives, parser, dialog match, method), sends what it answers in batches (sendmmsg),
/// and counts the outcome. The sockets and their threads are in `node/sip_transport`, the
/// media anchor in `node/relay_anchor`. Everything another thread asks of the guard or the
/// location tables runs as a command on the worker; what others read (bindings, blacklists,
/// calls) the worker publishes at most four times a second.
class sip_service {
public:
  static std::expected<std::unique_ptr<sip_service>, std::string>
  start(sip_service_options options);
  /// Stops the worker (within its 200 ms poll); idempotent. Bindings stay readable.
  void stop();
  /// Stops the worker and closes the socket.
  ~sip_service();
  sip_service(const sip_service&) = delete;
  sip_service& operator=(const sip_service&) = delete;

  /// The bound ports; 0 for a transport that is off.
  std::uint16_t udp_port() const { return port_; }
  std::uint16_t tcp_port() const { return tcp_port_; }
  std::uint16_t tls_port() const { return tls_port_; }
  /// New TLS connections use `context` (after an identity change); existing ones keep theirs.
  void set_tls(std::shared_ptr<SSL_CTX> context, pki::client_certificate_check_fn check);
  /// The current bindings, as the worker last published them (about once a second and
  /// after every change).
  std::vector<telephony::registration_binding> bindings() const;
  struct blacklist_snapshot {
    std::vector<telephony::sip_guard::blacklist_entry> addresses;
    std::vector<telephony::sip_guard::blacklist_entry> extensions;
  };
  /// The blacklists as the worker last published them.
  blacklist_snapshot blacklists() const;
  /// Lifts a blacklisting (SPEC SIP-4) on the worker's thread; false when `key` was not
  /// listed, an error when the worker did not answer.
  std::expected<bool, std::string> reset_blacklist(bool address, std::string key);

  /// Applies a blacklisting another node made (SPEC SIP-4), on the worker's thread.
  void apply_remote(telephony::guard_event event);

  /// A SIP message another node sent over the line (SPEC SIP-6), handled on the worker.
  void deliver_from_line(std::string node, std::string text);
  /// Replaces what this node knows is registered on `node` (SPEC SIP-6); entries not
  /// refreshed within a minute lapse.
  void apply_locations(std::string node, std::vector<std::string> extensions);
  /// SPEC TF-10: the users and trunks this node's own fraud counters hold while its line to
  /// the primary is down; applied on the worker.
  void set_fraud_holds(telephony::fraud_holds holds);
  /// The calls in progress, as the worker last published them.
  std::vector<telephony::call_view> calls() const;
  /// SPEC MED-4: media units in use and the maximum, as the worker last published them.
  std::pair<std::size_t, std::size_t> media_capacity() const;

  /// The media relay, for its statistics; null when calls have none.
  std::shared_ptr<const media::relay_pool> relay() const { return options_.relay; }

  /// Counters for metrics.
  std::uint64_t calls_started() const { return calls_started_.load(); }
  std::uint64_t calls_answered() const { return calls_answered_.load(); }
  /// SPEC MED-3: calls started with media directly between the phones.
  std::uint64_t direct_calls() const { return direct_calls_.load(); }
  /// SPEC TF-2, MED-2: calls to an emergency number (or marked so over a line).
  std::uint64_t emergency_calls() const { return emergency_calls_.load(); }
  std::uint64_t refused_user_agents() const { return refused_user_agents_.load(); }
  /// SPEC TF-3: calls the dial plan barred, by reason (indexed by telephony::bar_reason).
  std::array<std::uint64_t, telephony::bar_reason_count> barred_calls() const;
  /// SPEC TF-9: the configured trunks, for per-trunk metrics.
  std::vector<std::string> trunk_names() const;
  std::uint64_t datagrams() const { return datagrams_.load(); }
  std::uint64_t malformed() const;
  std::uint64_t dropped() const;

private:
  sip_service(sip_service_options options, int fd, std::uint16_t port, int tcp_fd,
              std::uint16_t tcp_port, int tls_fd, std::uint16_t tls_port, int wake_fd,
              int stop_read, int stop_write, telephony::registrar registrar,
              telephony::sip_guard guard);
  /// The worker thread's own state and steps, defined beside run().
  struct worker;
  void run();

  sip_service_options options_;
  int fd_;
  std::uint16_t port_;
  telephony::registrar registrar_;
  telephony::sip_guard guard_;
  std::atomic<bool> stopping_{false};
  std::once_flag stopped_;
  mutable std::mutex bindings_mutex_;
  std::vector<telephony::registration_binding> bindings_;
  blacklist_snapshot blacklists_;
  /// Work for the worker's thread, which alone touches the guard.
  std::mutex commands_mutex_;
  std::vector<std::function<void()>> commands_;
  std::atomic<std::uint64_t> datagrams_{0}, malformed_{0}, dropped_{0};
  std::atomic<std::uint64_t> calls_started_{0}, calls_answered_{0}, refused_user_agents_{0},
      direct_calls_{0}, emergency_calls_{0};
  std::array<std::atomic<std::uint64_t>, telephony::bar_reason_count> barred_calls_{};
  std::vector<telephony::call_view> calls_;
  std::pair<std::size_t, std::size_t> media_capacity_{0, 0};
  /// Worker-only: which node each remotely registered extension is on.
  telephony::location_table locations_;
  /// Worker-only: the fraud holds, and whether the pipeline has them yet.
  telephony::fraud_holds fraud_holds_;
  bool fraud_holds_changed_ = false;
  int tcp_fd_;
  std::uint16_t tcp_port_;
  int tls_fd_;
  std::uint16_t tls_port_;
  /// Written once at stop: TLS handshakes and pumps waiting on it return at once.
  int stop_read_, stop_write_;
  /// eventfd that wakes the worker when stream readers or lines queued messages.
  int wake_fd_;
  std::unique_ptr<sip_inbox> inbox_;
  std::unique_ptr<stream_listener> streams_;
  std::thread worker_;
};

} // namespace ward::node
