#pragma once

#include "cluster/error.hpp"
#include "pki/certificate.hpp"

#include <openssl/types.h>

#include <chrono>
#include <cstddef>
#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ward::cluster {

struct tls_socket_state;

/// An owned file descriptor, closed on destruction.
class unique_fd {
public:
  unique_fd() = default;
  explicit unique_fd(int fd) : fd_(fd) {}
  unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~unique_fd() { reset(); }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;

  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset();
  explicit operator bool() const { return fd_ >= 0; }

private:
  int fd_ = -1;
};

/// strerror() for `code`, thread-safe.
std::string errno_text(int code);

/// Both ends of a non-blocking close-on-exec pipe, used to wake threads blocked in poll().
struct wake_pipe {
  unique_fd read_end;
  unique_fd write_end;
};

/// A new wake_pipe; `error` is set (and the ends are empty) when it cannot be created.
/// (Not std::expected: GCC 12 at -O2 mistakes the destruction of that one for freeing a
/// non-heap object.)
wake_pipe make_wake_pipe(std::string& error);

/// Turns Nagle off: HTTP/2 frames are small and latency-bound.
void set_no_delay(int fd);

/// The RFC 5705 exporter label of the channel binding between the two ends of a line
/// (RFC 9266-style "tls-exporter", with Ward's own label and no context).
inline constexpr std::string_view line_binding_label = "EXPORTER-ward-line-binding";
/// Bytes exported under line_binding_label.
inline constexpr std::size_t line_binding_size = 32;

/// The line binding of an established connection as lowercase hex (2 × line_binding_size
/// characters), identical on both ends. Empty when it cannot serve as a channel binding:
/// TLS 1.2 without the extended master secret (RFC 9266 forbids it there, as both ends
/// could then share it with a third), or an export OpenSSL refuses.
std::string line_binding_hex(SSL* ssl);

/// The certificates the peer sent, leaf first, on either end of the connection (OpenSSL
/// leaves the leaf out of the peer chain on the server side only). Empty when the peer
/// sent none.
std::vector<pki::certificate> peer_certificates(SSL* ssl);

/// How a TLS step ended.
enum class tls_outcome {
  /// Completed (handshake), or one side closed in an orderly way (pump).
  done,
  /// The stop descriptor became readable.
  stopped,
  /// A TLS or socket failure; the cause says which.
  failed,
};

struct tls_step {
  tls_outcome kind = tls_outcome::done;
  /// Set for failed: OpenSSL's reason where there is one, e.g. "no shared cipher",
  /// "tlsv13 alert certificate required"; otherwise Ward's, e.g. "handshake timed out".
  std::string cause;
  /// OpenSSL forbids further I/O, close_notify included, after a fatal error.
  bool fatal = false;
};

/// One TLS connection over a non-blocking TCP socket, and the pump that moves its
/// plaintext to and from a local descriptor (one end of a socketpair whose other end gRPC
/// serves). Server and client ends of Ward's TLS share it.
///
/// Every wait also polls a stop descriptor: once it becomes readable (a byte written to a
/// wake_pipe and never drained), handshake() and pump() return `stopped` at once. A stop
/// descriptor of -1 means none.
///
/// Writes to the socket go through send(MSG_NOSIGNAL), so a peer resetting the connection
/// never raises SIGPIPE, whatever the process's signal disposition.
class tls_stream {
public:
  enum class role { server, client };

  /// Takes ownership of `socket` (already connected or accepted, non-blocking) and sets up
  /// an SSL object from `ctx` for `role`. The error is OpenSSL's reason.
  static std::expected<std::unique_ptr<tls_stream>, error> create(unique_fd socket, SSL_CTX* ctx,
                                                                  role side);
  ~tls_stream();
  tls_stream(const tls_stream&) = delete;
  tls_stream& operator=(const tls_stream&) = delete;

  /// Runs the handshake until it completes, fails, `deadline` passes ("handshake timed
  /// out") or `stop_fd` fires.
  tls_step handshake(std::chrono::steady_clock::time_point deadline, int stop_fd);

  /// Moves bytes both ways between the TLS connection and `plain_fd` (non-blocking) until
  /// either side closes, a TLS error occurs or `stop_fd` fires. A peer going away without
  /// close_notify counts as done, not failed: gRPC clients routinely do so, and HTTP/2's
  /// own framing makes it harmless.
  tls_step pump(int plain_fd, int stop_fd);

  /// After pump(): one non-blocking attempt at close_notify unless the connection failed
  /// fatally or it was already sent; a peer that is gone is not waited for.
  void finish(const tls_step& pumped);

  /// Closes the TCP socket (the SSL object stays readable for what the handshake learnt).
  void close_socket();

  SSL* native() const { return ssl_; }
  int socket() const { return socket_.get(); }

private:
  tls_stream(unique_fd socket, SSL* ssl, std::unique_ptr<tls_socket_state> state);
  /// A cause for a failed SSL call, in words an administrator can act on.
  std::string describe_failure(int ssl_error) const;

  unique_fd socket_;
  SSL* ssl_ = nullptr;
  /// Read by the BIO through a pointer, hence owned here and never moved.
  std::unique_ptr<tls_socket_state> bio_;
};

} // namespace ward::cluster
