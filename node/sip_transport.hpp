#pragma once

#include "node/connection_slots.hpp"
#include "node/connection_threads.hpp"
#include "pki/tls_policy.hpp"
#include "telephony/b2bua.hpp"
#include "telephony/sip_framing.hpp"

#include <netinet/in.h>
#include <openssl/types.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace ward::node {

/// A socket peer as numeric text and port.
struct peer {
  std::string address;
  std::uint16_t port = 0;
};

peer peer_of(const sockaddr_storage& from);

/// `address` (numeric IPv4 or IPv6) and `port` as a socket address; nullopt when the address
/// is not numeric.
std::optional<sockaddr_storage> sockaddr_of(const std::string& address, std::uint16_t port);

/// A non-blocking UDP (`SOCK_DGRAM`) or listening TCP (`SOCK_STREAM`) socket bound to
/// `address`:`port`, with the port it got (for port 0).
std::expected<std::pair<int, std::uint16_t>, std::string> bind_socket(const std::string& address,
                                                                      std::uint16_t port, int type);

/// One SIP stream connection (TCP, or the decrypted side of TLS): the reader thread frames
/// messages, the worker writes the responses.
struct sip_connection {
  int fd = -1;
  telephony::transport kind = telephony::transport::tcp;
  std::string address;
  std::uint16_t port = 0;
  std::mutex write_mutex;
  std::atomic<bool> closed{false};

  /// Writes `text` whole, waiting at most 2 s for a slow reader; closes on failure.
  void send(const std::string& text);
};

/// A whole message from a stream reader or from a cluster line, for the worker.
struct sip_inbound {
  telephony::transport kind = telephony::transport::tcp;
  std::string text;
  std::string address;
  std::uint16_t port = 0;
  /// The stream it came on, so answers and later requests reach the phone; null for lines.
  std::shared_ptr<sip_connection> connection;
  /// For messages from a line: the node that sent it.
  std::string node;
};

/// The worker's queue of stream and line messages, and the eventfd that wakes it when
/// messages wait. Posted from any thread; taken by the worker.
class sip_inbox {
public:
  /// `wake_fd` is a non-blocking eventfd the caller owns.
  explicit sip_inbox(int wake_fd) : wake_fd_(wake_fd) {}
  int wake_fd() const { return wake_fd_; }
  void post(sip_inbound message);
  /// Everything queued, oldest first; clears the wake-up.
  std::vector<sip_inbound> take();

private:
  int wake_fd_;
  std::mutex mutex_;
  std::vector<sip_inbound> queue_;
};

/// Datagrams read with one recvmmsg into buffers that live as long as the batch, so a
/// burst costs one system call and no allocation.
class udp_batch {
public:
  static constexpr std::size_t size = 32;
  udp_batch();
  /// Reads up to `size` waiting datagrams from `fd`; how many arrived (0 on none or error).
  std::size_t receive(int fd);
  std::string_view datagram(std::size_t i) const {
    return {buffers_[i].data(), messages_[i].msg_len};
  }
  const sockaddr_storage& source(std::size_t i) const { return sources_[i]; }

private:
  std::vector<std::array<char, telephony::max_sip_message>> buffers_;
  std::array<mmsghdr, size> messages_{};
  std::array<iovec, size> vectors_{};
  std::array<sockaddr_storage, size> sources_{};
};

/// UDP answers collected over one worker round and sent with one sendmmsg.
class udp_outbox {
public:
  void add(std::string text, const sockaddr_storage& to) {
    outgoing_.emplace_back(std::move(text), to);
  }
  /// Sends everything collected on `fd` without waiting, then forgets it.
  void flush(int fd);

private:
  std::vector<std::pair<std::string, sockaddr_storage>> outgoing_;
};

/// SIP over TCP and TLS: an acceptor thread takes connections into shared slots and starts
/// a reader per connection, which frames messages into the worker's inbox. TLS connections
/// are decrypted by a pump and read like TCP.
class stream_listener {
public:
  struct settings {
    int tcp_fd = -1;
    int tls_fd = -1;
    /// Readable once the node stops: TLS handshakes and pumps waiting on it return at once.
    int stop_fd = -1;
    /// Connections beyond this (or a quarter of it from one address) are closed on accept.
    std::size_t max_connections = 512;
    std::shared_ptr<SSL_CTX> tls_context;
    /// Grades what a TLS peer presented (SPEC PKI-8 telephony checks); empty accepts all.
    pki::client_certificate_check_fn tls_client_check;
    /// A TLS handshake or certificate check failed (SPEC TLS-3): peer "ip:port", cause.
    /// Runs on a connection thread and must not block.
    std::function<void(const std::string& peer, const std::string& cause)> on_tls_failure;
  };
  /// Starts the acceptor; it runs until `stopping` is set.
  stream_listener(settings settings, sip_inbox& inbox, const std::atomic<bool>& stopping);
  /// Joins the acceptor, which joins its readers.
  ~stream_listener() { join(); }
  stream_listener(const stream_listener&) = delete;
  stream_listener& operator=(const stream_listener&) = delete;

  /// New TLS connections use `context` and are graded by `check`; existing ones keep
  /// theirs.
  void set_tls(std::shared_ptr<SSL_CTX> context, pki::client_certificate_check_fn check);
  /// Waits for the acceptor (after `stopping` was set); idempotent.
  void join();
  /// Connections closed on accept because the slots were full.
  std::uint64_t refused() const { return refused_.load(); }
  /// Connections closed because their framing was broken.
  std::uint64_t broken() const { return broken_.load(); }

private:
  void accept_loop();
  void serve_tls(int fd, std::string address, std::uint16_t port);
  void serve_tcp(std::shared_ptr<sip_connection> connection);

  settings settings_;
  connection_slots slots_;
  sip_inbox& inbox_;
  const std::atomic<bool>& stopping_;
  std::mutex tls_context_mutex_;
  std::atomic<std::uint64_t> refused_{0}, broken_{0};
  connection_threads readers_;
  std::once_flag joined_;
  std::thread acceptor_;
};

} // namespace ward::node
