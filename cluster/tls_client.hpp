#pragma once

#include "cluster/error.hpp"
#include "pki/certificate.hpp"

#include <openssl/types.h>

#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <vector>

namespace ward::cluster {

/// The client end of a node-to-node line: Ward's own TLS in front of a gRPC channel, the
/// mirror image of service_listener. The TLS connection is made here; its plaintext is
/// pumped through a socketpair whose other end gRPC uses as a ready-made transport
/// (grpc::CreateInsecureChannelFromFd), so each line can have its own TLS context,
/// client certificate and channel binding.
///
/// The server's certificate is NOT verified by the handshake (pki::make_client_context
/// turns OpenSSL's verification off): grade peer_chain() with
/// pki::check_received_certificate before sending anything that matters over the line.
///
/// With TLS 1.3 the client finishes its handshake before the server has judged the client
/// certificate, so a server that refuses it shows up as the pump ending (alive() turns
/// false, the gRPC channel fails), not as a connect() error.
class tls_client_connection {
public:
  /// Connects to `address` (numeric IPv4 or IPv6, no brackets) and `port` over TCP, runs
  /// the TLS handshake with a context from pki::make_client_context, offering ALPN "h2",
  /// and starts the pump. `timeout` bounds TCP connect and handshake together. The error
  /// names what failed and where, e.g. "cannot connect to 127.0.0.1:5555: Connection
  /// refused", "connecting to 192.0.2.1:5555 timed out", "TLS handshake with
  /// 127.0.0.1:5555 failed: sslv3 alert handshake failure".
  static std::expected<std::unique_ptr<tls_client_connection>, error>
  connect(const std::string& address, std::uint16_t port, std::shared_ptr<SSL_CTX> ctx,
          std::chrono::milliseconds timeout);

  /// Stops the pump (promptly, even mid-transfer), sends close_notify if it can, closes the
  /// TCP connection and our end of the socketpair, and joins the pump thread. A gRPC
  /// channel made from grpc_fd() then sees its transport closed: calls on it fail.
  ~tls_client_connection();
  tls_client_connection(const tls_client_connection&) = delete;
  tls_client_connection& operator=(const tls_client_connection&) = delete;

  /// gRPC's end of the socketpair, for grpc::CreateInsecureChannelFromFd(name, fd). Call
  /// it once: ownership passes to the caller (gRPC closes it when the channel goes), and
  /// later calls return -1. Never called, the descriptor is closed with this object.
  int grpc_fd();

  /// The certificates the server sent, leaf first; ungraded (see the class comment).
  const std::vector<pki::certificate>& peer_chain() const;
  /// The line's channel binding: 32 bytes exported with label "EXPORTER-ward-line-binding"
  /// and no context, as lowercase hex; equals connection_info::tls_exporter on the server
  /// end. Empty for TLS 1.2 without the extended master secret.
  const std::string& exporter_hex() const;
  /// OpenSSL's names, e.g. "TLSv1.3" and "TLS_AES_256_GCM_SHA384".
  std::string tls_version() const;
  std::string cipher() const;
  /// "127.0.0.1:5555" or "[::1]:5555".
  std::string remote_address() const;

  /// True while the pump runs: false once either side closed or the connection failed.
  bool alive() const;
  /// Why the pump ended: empty while it runs and after an orderly close by either side;
  /// OpenSSL's reason or Ward's otherwise (e.g. "tlsv13 alert certificate required").
  std::string end_cause() const;

private:
  struct state;
  explicit tls_client_connection(std::unique_ptr<state> s);
  std::unique_ptr<state> state_;
};

} // namespace ward::cluster
