#pragma once

#include "pki/tls_policy.hpp"

#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace grpc {
class Server;
}

namespace ward::node {

/// What Ward knows about one connection handed to gRPC, looked up from a handler by
/// ServerContext::peer().
struct connection_info {
  std::string service;
  /// The remote end as "127.0.0.1:5555" or "[::1]:5555".
  std::string peer_address;
  bool tls = false;
  /// OpenSSL's names, e.g. "TLSv1.3" and "TLS_AES_256_GCM_SHA384"; empty for plaintext.
  std::string tls_version;
  std::string cipher;
  /// RFC 2253 subject of the client certificate; empty if none was presented. Verified by
  /// OpenSSL only at high without pki::tls_server_material::request_client_certificate;
  /// otherwise only client_certificate_check (if set) has graded it.
  std::string client_certificate_subject;
  /// The connection's channel binding (RFC 9266-style): 32 bytes exported with label
  /// "EXPORTER-ward-line-binding" and no context (node::line_binding_label), as lowercase
  /// hex. Both ends of one TLS connection compute the same value, so a peer can prove over
  /// the connection that it holds the identity it is bound to. Empty for plaintext, and for
  /// TLS 1.2 without the extended master secret, where it would not be unique.
  std::string tls_exporter;
  /// The certificates the client presented, leaf first, as PEM; empty if it sent none.
  std::vector<std::string> client_chain_pem;
};

/// Thread-safe map from the gRPC peer string of a channel added with
/// AddInsecureChannelFromFd to its connection_info. gRPC names such a channel "fd:<n>"
/// after the descriptor it was handed, for TCP sockets and socketpairs alike (measured
/// with gRPC 1.51), so entries are keyed by that descriptor.
///
/// gRPC owns and closes the descriptor, and a closed number is soon reused. Each entry
/// therefore remembers which socket it described (device and inode) and counts as gone
/// once the number names another file or none; lookups never return a stale entry.
class connection_registry {
public:
  /// Records `info` for the channel served over `fd`, replacing whatever that number
  /// described before. Returns a ticket for remove(fd, ticket); 0 if `fd` is not open.
  std::uint64_t add(int fd, connection_info info);
  /// Forgets `fd` whatever it describes.
  void remove(int fd);
  /// Forgets `fd` only while it still describes the connection `ticket` was issued for,
  /// so a late removal cannot erase the entry of a newer connection reusing the number.
  void remove(int fd, std::uint64_t ticket);
  /// The entry for a peer string such as "fd:12"; nullopt for other forms or stale entries.
  std::optional<connection_info> find_by_peer(std::string_view grpc_peer) const;
  /// Live entries, after dropping those whose descriptor gRPC has closed.
  std::size_t size() const;

private:
  struct entry {
    connection_info info;
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    std::uint64_t ticket = 0;
  };
  void prune_locked() const;

  mutable std::mutex mutex_;
  mutable std::unordered_map<int, entry> entries_;
  std::uint64_t next_ticket_ = 1;
};

/// A TLS connection that failed (SPEC TLS-3): handshake refused, client certificate
/// rejected, alert from the far end, or the connection limit reached.
struct tls_failure {
  std::string service;
  std::string peer_address;
  /// OpenSSL's reason where there is one, e.g. "no client certificate", "no shared
  /// cipher", "unsupported protocol"; otherwise Ward's, e.g. "handshake timed out".
  std::string cause;
};
/// Called on the listener's own threads, possibly several at once; it must not call back
/// into the listener that reports (apply() or destruction would wait for the caller).
using tls_failure_handler = std::function<void(const tls_failure&)>;

/// One administrative service's listeners (SPEC SVC-1): a plaintext port and a TLS port
/// on one address, opened and closed per service security level, both feeding one gRPC
/// server that has no ports of its own.
///
/// Ward terminates TLS itself because gRPC's cipher configuration is process-wide and
/// each service needs its own (SPEC SVC-4). A TLS connection is decrypted here and its
/// bytes pumped through a socketpair whose other end gRPC serves; a plaintext connection
/// is handed to gRPC as it is. gRPC then owns that descriptor.
///
/// `server` must be started and must outlive this object.
class service_listener {
public:
  /// Connections beyond this many (plaintext and TLS together) are closed on accept.
  static constexpr std::size_t default_max_connections = 256;
  /// A client that has not finished its handshake by then is dropped, so half-open
  /// connections cannot hold threads and slots.
  static constexpr int handshake_timeout_ms = 10'000;

  service_listener(std::string service, std::string address, std::uint16_t plain_port,
                   std::uint16_t tls_port, grpc::Server& server, connection_registry& registry,
                   tls_failure_handler on_failure,
                   std::size_t max_connections = default_max_connections);
  /// Stops acceptors and TLS pumps and joins their threads. Plaintext connections already
  /// handed to gRPC stay with gRPC.
  ~service_listener();
  service_listener(const service_listener&) = delete;
  service_listener& operator=(const service_listener&) = delete;

  /// Applies a level at once: opens and closes acceptors and switches the TLS context for
  /// new connections; established connections stay. Returns an error and changes nothing
  /// if a port cannot be bound or the TLS material is bad (material is only read when the
  /// level offers TLS). `address` must be a numeric IPv4 or IPv6 address. A port of 0
  /// means any free port; once bound, the number is kept and re-bound on reopening.
  std::expected<void, std::string>
  apply(pki::service_security_level level, const pki::tls_server_material& material,
        pki::tls_min_version min_version = pki::tls_min_version::tls1_2);

  /// The bound port numbers, 0 while never opened.
  std::uint16_t plain_port() const;
  std::uint16_t tls_port() const;
  pki::service_security_level level() const;

private:
  struct state;
  std::unique_ptr<state> state_;
};

} // namespace ward::node
